"""Alembic: one history, upgrade/downgrade work, and the migrations match the models."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from lakegate.catalog.base import Base
from lakegate.catalog.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    is_current,
    upgrade,
)
from lakegate.catalog.models import import_all_models
from lakegate.catalog.session import create_catalog_engine


def model_drift(database_url: str) -> list[object]:
    """What autogenerate would still emit after ``upgrade head`` (``alembic check``)."""
    import_all_models()
    engine = create_catalog_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_one_linear_history() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert script.get_current_head() == head_revision()


def test_upgrade_creates_every_model_table_and_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    assert upgrade(url) == head_revision()
    engine = create_catalog_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert is_current(engine)
    finally:
        engine.dispose()
    assert model_drift(url) == []


def test_upgrade_is_idempotent_and_downgrade_empties(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    engine = create_catalog_engine(url)
    try:
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert not is_current(engine)
    finally:
        engine.dispose()
