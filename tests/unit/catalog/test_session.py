"""Catalog engine and sessions: URL handling, SQLite pragmas, transactions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from lakegate.catalog.models import ApiKey, Tenant
from lakegate.catalog.session import Catalog, normalize_database_url
from lakegate.errors import ConfigError
from lakegate.settings import Settings


def test_bare_dialects_get_the_installed_drivers() -> None:
    assert normalize_database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_database_url("mysql://u@h/db").drivername == "mysql+pymysql"
    assert normalize_database_url("sqlite:///x.db").drivername == "sqlite"
    assert normalize_database_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"


def test_invalid_url_is_a_config_error_without_the_url() -> None:
    with pytest.raises(ConfigError) as info:
        normalize_database_url("not a url:pa55word")
    assert "pa55word" not in str(info.value)


def test_sqlite_pragmas_foreign_keys_and_wal(tmp_path: Path) -> None:
    catalog = Catalog.from_settings(Settings(database_url=f"sqlite:///{tmp_path / 'c.db'}"))
    catalog.create_all()
    with catalog.engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    # the pragma is not decoration: an orphan key is refused
    with pytest.raises(IntegrityError), catalog.transaction() as session:
        session.add(
            ApiKey(tenant_id="missing", name="k", prefix="p", token_hash="h", role="viewer")
        )
    catalog.dispose()


def test_transaction_commits_or_rolls_back() -> None:
    catalog = Catalog.from_url("sqlite://")
    catalog.create_all()
    with catalog.transaction() as session:
        session.add(Tenant(slug="kept", name="Kept"))
    with pytest.raises(RuntimeError), catalog.transaction() as session:
        session.add(Tenant(slug="lost", name="Lost"))
        session.flush()
        raise RuntimeError("boom")
    with catalog.session() as session:
        assert [t.slug for t in session.query(Tenant).all()] == ["kept"]
        tenant = session.query(Tenant).one()
        # timestamps come back aware UTC even from SQLite
        assert tenant.created_at.tzinfo is not None
        assert tenant.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    catalog.dispose()
