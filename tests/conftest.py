"""Fixtures shared by every test level: real services, each test on its own database.

A test that needs a service that is not running fails under ``CI=true`` and is skipped
loudly otherwise (``-ra`` prints the reason in the summary).
"""

from __future__ import annotations

import os
import socket
import uuid
import warnings
from collections.abc import Iterator

import pytest

PG_HOST, PG_PORT = "127.0.0.1", 5432
MYSQL_HOST, MYSQL_PORT = "127.0.0.1", 3306
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
RABBIT_HOST, RABBIT_PORT = "127.0.0.1", 5672


def service_up(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Fail (CI) or skip loudly (elsewhere) when a service is not reachable."""
    if service_up(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (required under CI=true)", pytrace=False)
    warnings.warn(f"SKIPPED: {message}", stacklevel=2)
    pytest.skip(f"SERVICE MISSING: {message}")


def _unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the local server; dropped afterwards."""
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    import psycopg

    name = _unique_name("lg_test")
    admin = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """A fresh, empty MariaDB database on the local server; dropped afterwards."""
    require_service("MariaDB", MYSQL_HOST, MYSQL_PORT)
    import pymysql

    name = _unique_name("lg_test")
    conn = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        yield f"mysql://root@{MYSQL_HOST}:{MYSQL_PORT}/{name}"
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


@pytest.fixture
def redis_url() -> str:
    """URL of the local Redis (tests use their own key prefixes)."""
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


@pytest.fixture
def rabbitmq_url() -> str:
    """URL of the local RabbitMQ."""
    require_service("RabbitMQ", RABBIT_HOST, RABBIT_PORT)
    return f"amqp://guest:guest@{RABBIT_HOST}:{RABBIT_PORT}//"


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test reads the developer's LAKEGATE_* settings or writes ./lake by accident."""
    for key in list(os.environ):
        if key.startswith("LAKEGATE_") or key in {"AZURE_KEY_VAULT_URL"}:
            monkeypatch.delenv(key, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("DLT_DATA_DIR", str(home / "dlt"))
    monkeypatch.setenv("LAKEGATE_STATE_DIR", str(home / "pipelines"))
    monkeypatch.setenv("LAKEGATE_LAKE_URL", str(home / "lake"))
    monkeypatch.setenv("LAKEGATE_METADATA_DIR", str(home / "metadata"))
    monkeypatch.setenv("LAKEGATE_DATABASE_URL", f"sqlite:///{home / 'lakegate.db'}")
