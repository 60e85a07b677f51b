"""Catalog engine and sessions, built from settings by a function (never at import).

Usage (a service owns the transaction; repositories never commit)::

    catalog = Catalog.from_settings(settings)
    with catalog.transaction() as session:   # commits on success, rolls back on error
        tenant = TenantRepository(session).get(tenant_id)

FastAPI routes get a session through ``lakegate.api.deps.SessionDep``; the service they
call commits. ``postgresql://`` URLs use psycopg 3 and ``mysql://`` URLs PyMySQL, the
drivers Lakegate installs. SQLite gets foreign keys, WAL and a busy timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from lakegate.errors import ConfigError
from lakegate.settings import Settings

_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


def normalize_database_url(database_url: str) -> URL:
    """Parse a catalog URL and pick the installed driver for bare dialect names."""
    try:
        url = make_url(database_url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with the URL in it
        raise ConfigError("LAKEGATE_DATABASE_URL is not a valid SQLAlchemy URL") from exc
    driver = _DRIVERS.get(url.drivername)
    return url.set(drivername=driver) if driver else url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside one writer.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def create_catalog_engine(database_url: str, *, echo: bool = False) -> Engine:
    """An engine for the catalog database at ``database_url``.

    ``sqlite://`` (in memory) uses one shared connection so every session sees the same
    database; file SQLite may be used from the API's worker threads.
    """
    url = normalize_database_url(database_url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False}
        if url.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (API responses read them)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@dataclass
class Catalog:
    """The catalog database: one engine and its session factory."""

    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def from_url(cls, database_url: str, *, echo: bool = False) -> Catalog:
        """Catalog on ``database_url``."""
        engine = create_catalog_engine(database_url, echo=echo)
        return cls(engine=engine, sessions=create_session_factory(engine))

    @classmethod
    def from_settings(cls, settings: Settings) -> Catalog:
        """Catalog on ``settings.database_url``."""
        return cls.from_url(settings.database_url)

    def session(self) -> Session:
        """A new session; the caller commits and closes it."""
        return self.sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed when the block succeeds, rolled back otherwise."""
        with self.sessions() as session, session.begin():
            yield session

    def create_all(self) -> None:
        """Create every table directly from the models (tests; production uses Alembic)."""
        from lakegate.catalog.base import Base
        from lakegate.catalog.models import import_all_models

        import_all_models()
        Base.metadata.create_all(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
