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
from sqlalchemy.exc import DBAPIError

from lakegate.errors import LakegateError
from lakegate.observability.redact import redact

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class CatalogUnavailableError(LakegateError):
    """The catalog database cannot be reached or refused the migration."""

    http_status = 503
    transient = True
    title = "Catalog unavailable"


def alembic_config(database_url: str) -> Config:
    """An Alembic config for the catalog at ``database_url`` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolates '%': escape it so URL-encoded passwords survive.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> str | None:
    """Migrate the catalog to ``revision``; returns the revision it is at afterwards."""
    from lakegate.catalog.session import create_catalog_engine

    try:
        command.upgrade(alembic_config(database_url), revision)
        engine = create_catalog_engine(database_url)
        try:
            return current_revision(engine)
        finally:
            engine.dispose()
    except DBAPIError as exc:
        first = str(exc.orig or exc).strip().splitlines() or [type(exc).__name__]
        raise CatalogUnavailableError(f"catalog migration failed: {redact(first[0])}") from None


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
