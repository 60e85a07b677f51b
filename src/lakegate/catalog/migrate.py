"""Alembic, driven from Python: ``lakegate db upgrade`` and the ``/readyz`` check.

The migration scripts live in ``lakegate/catalog/migrations`` (one history).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config for the catalog at ``database_url`` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolates '%': escape it so URL-encoded passwords survive.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> str | None:
    """Migrate the catalog to ``revision``; returns the revision it is at afterwards."""
    command.upgrade(alembic_config(database_url), revision)
    from lakegate.catalog.session import create_catalog_engine

    engine = create_catalog_engine(database_url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision of the migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None before the first upgrade)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(engine: Engine) -> bool:
    """True when the database is at the head revision."""
    return current_revision(engine) == head_revision()
