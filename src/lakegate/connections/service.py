"""Tenant connections: create, read, update, delete, test, and resolve for the runner.

Secrets are kept by a :mod:`~lakegate.connections.secret_store` (Fernet-encrypted in the
catalog, or Azure Key Vault when configured) and never returned, logged or put in an
error: reads show their *names*; :func:`resolve` (for the runner) is the only way back to
the values, and it registers each with the redactor.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lakegate.catalog.models import Connection, Tenant
from lakegate.catalog.repositories import AuditRepository, ConnectionRepository
from lakegate.connections.secret_store import SecretStore, secret_store_for, store_of
from lakegate.errors import ConfigError, ConflictError, NotFoundError
from lakegate.ingest.models import SourceType
from lakegate.observability.logging import get_logger
from lakegate.observability.redact import redact, register_secret
from lakegate.settings import Settings
from lakegate.tenants.service import check_no_prod_reference

CONNECT_TIMEOUT_S = 5
_SECRET_LIKE_KEYS = ("password", "passwd", "secret", "token", "api_key", "apikey", "private_key")
_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mssql": "mssql+pymssql",
    "oracle": "oracle+oracledb",
}
_REQUIRED = {"rest_api": ("base_url",), "sqlite": ("database",)}
_DB_REQUIRED = ("host", "database")
log = get_logger(__name__)


class ResolvedConnection(NamedTuple):
    """What the runner needs: ``type, config, secrets = resolve(...)``."""

    type: str
    config: dict[str, Any]
    secrets: dict[str, str]


def _validate(tenant: Tenant, name: str, type_: str, config: dict[str, Any]) -> None:
    known = [t.value for t in SourceType]
    if type_ not in known:
        raise ConfigError(f"type: unknown connection type {type_!r} (known: {', '.join(known)})")
    for key in config:
        if any(word in key.lower() for word in _SECRET_LIKE_KEYS):
            raise ConfigError(f"config.{key}: secret values belong in 'secrets', not 'config'")
    for key in _REQUIRED.get(type_, _DB_REQUIRED):
        if not config.get(key):
            raise ConfigError(f"config.{key}: required for a {type_} connection")
    check_no_prod_reference(tenant, {"name": name}, "connection")
    check_no_prod_reference(tenant, config, "config")


def _audit(session: Session, tenant: Tenant, actor: str, action: str, conn: Connection) -> None:
    AuditRepository(session).record(
        actor=actor,
        action=action,
        resource_type="connection",
        resource_id=conn.name,
        tenant_id=tenant.id,
        details={"type": conn.type, "secret_names": list(conn.secret_names)},
    )


def get(session: Session, tenant: Tenant, name: str) -> Connection:
    """A connection of ``tenant``; NotFoundError (404) otherwise, also for other tenants'."""
    conn = ConnectionRepository(session, tenant.id).get(name)
    if conn is None:
        raise NotFoundError(f"connection {name!r} not found")
    return conn


def list_connections(session: Session, tenant: Tenant) -> Sequence[Connection]:
    """The tenant's connections."""
    return ConnectionRepository(session, tenant.id).list()


def create(
    session: Session,
    tenant: Tenant,
    settings: Settings,
    *,
    name: str,
    type: str,
    config: dict[str, Any],
    secrets: dict[str, str],
    actor: str,
    store: SecretStore | None = None,
) -> Connection:
    """A new connection; ConflictError (409) when the name is taken.

    Secrets go to ``store`` (default: Key Vault when configured, else the catalog).
    """
    _validate(tenant, name, type, config)
    repo = ConnectionRepository(session, tenant.id)
    if repo.get(name) is not None:
        raise ConflictError(f"name: connection {name!r} already exists")
    store = store or secret_store_for(settings)
    conn = Connection(name=name, type=type, config=config, secret_names=sorted(secrets))
    conn.tenant_id = tenant.id
    conn.secrets_store = store.kind
    store.save(tenant, conn, secrets)
    try:
        repo.add(conn)
    except IntegrityError:
        session.rollback()
        raise ConflictError(f"name: connection {name!r} already exists") from None
    _audit(session, tenant, actor, "connection.created", conn)
    session.commit()
    log.info("connection.created", tenant_id=tenant.id, connection=name, type=type)
    return conn


def update(
    session: Session,
    tenant: Tenant,
    settings: Settings,
    name: str,
    *,
    type: str,
    config: dict[str, Any],
    secrets: dict[str, str] | None,
    actor: str,
    store: SecretStore | None = None,
) -> Connection:
    """Replace type and config; replace the secrets when given, keep them otherwise."""
    conn = get(session, tenant, name)
    _validate(tenant, name, type, config)
    conn.type = type
    conn.config = config
    if secrets is not None:
        store = store or secret_store_for(settings)
        conn.secret_names = sorted(secrets)
        conn.secrets_store = store.kind
        store.save(tenant, conn, secrets)
    _audit(session, tenant, actor, "connection.updated", conn)
    session.commit()
    return conn


def delete(session: Session, tenant: Tenant, name: str, *, actor: str) -> None:
    """Remove a connection."""
    conn = get(session, tenant, name)
    _audit(session, tenant, actor, "connection.deleted", conn)
    ConnectionRepository(session, tenant.id).delete(conn)
    session.commit()


def resolve(
    session: Session,
    tenant: Tenant,
    name: str,
    settings: Settings,
    store: SecretStore | None = None,
) -> ResolvedConnection:
    """``(type, config, secrets)`` of a connection, secrets decrypted (for the runner)."""
    conn = get(session, tenant, name)
    secrets: dict[str, str] = {}
    if conn.secret_names:
        secrets = store_of(conn, settings, store or secret_store_for(settings)).load(tenant, conn)
    return ResolvedConnection(type=conn.type, config=dict(conn.config), secrets=secrets)


def sqlalchemy_url(resolved: ResolvedConnection) -> URL:
    """SQLAlchemy URL of a database connection (``username``/``password`` from config or
    secrets, ``port``, ``database``; sqlite: ``database`` is the file path)."""
    config, secrets = resolved.config, resolved.secrets
    if resolved.type == "sqlite":
        return URL.create("sqlite", database=str(config["database"]))
    driver = _DRIVERS.get(resolved.type)
    if driver is None:
        raise ConfigError(f"type: {resolved.type!r} is not a database connection")
    port = config.get("port")
    return URL.create(
        driver,
        username=config.get("username") or config.get("user") or secrets.get("username"),
        password=secrets.get("password"),
        host=str(config["host"]),
        port=int(port) if port not in (None, "") else None,
        database=str(config["database"]),
    )


def _connect_args(type_: str) -> dict[str, Any]:
    return {
        "postgresql": {"connect_timeout": CONNECT_TIMEOUT_S},
        "mysql": {"connect_timeout": CONNECT_TIMEOUT_S},
        "mssql": {"login_timeout": CONNECT_TIMEOUT_S},
        "oracle": {"tcp_connect_timeout": CONNECT_TIMEOUT_S},
    }.get(type_, {})


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()
    return redact(text[0] if text else type(cause).__name__)


def check_reachable(resolved: ResolvedConnection) -> str | None:
    """None when the source answers; otherwise one line saying why (secrets masked)."""
    for value in resolved.secrets.values():
        register_secret(value)
    if resolved.type == "rest_api":
        try:
            response = httpx.get(
                str(resolved.config["base_url"]), timeout=CONNECT_TIMEOUT_S, follow_redirects=True
            )
        except httpx.HTTPError as exc:
            return redact(f"{type(exc).__name__}: {exc}")
        return None if response.status_code < 400 else f"HTTP {response.status_code}"
    if resolved.type == "sqlite" and not Path(str(resolved.config["database"])).is_file():
        # connecting would create an empty database file: report the missing file instead
        return f"SQLite file {resolved.config['database']} does not exist"
    try:
        url = sqlalchemy_url(resolved)
        engine = sa.create_engine(
            url, connect_args=_connect_args(resolved.type), poolclass=sa.pool.NullPool
        )
    except (ConfigError, ValueError, KeyError) as exc:
        return redact(str(exc))
    except ImportError as exc:
        return f"driver for {resolved.type} is not installed ({exc.name})"
    try:
        with engine.connect() as connection:
            connection.execute(
                sa.text("SELECT 1" if resolved.type != "oracle" else "SELECT 1 FROM dual")
            )
    except Exception as exc:  # every driver error becomes {ok: false, error}
        return _first_line(exc)
    finally:
        engine.dispose()
    return None


def test(
    session: Session,
    tenant: Tenant,
    name: str,
    settings: Settings,
    store: SecretStore | None = None,
) -> tuple[bool, str | None, int]:
    """``(ok, error, elapsed_ms)`` of a reachability check of a stored connection."""
    resolved = resolve(session, tenant, name, settings, store)
    started = time.monotonic()
    error = check_reachable(resolved)
    log.info(
        "connection.tested", tenant_id=tenant.id, connection=name, ok=error is None, error=error
    )
    return error is None, error, int((time.monotonic() - started) * 1000)
