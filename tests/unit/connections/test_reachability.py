"""Connection URLs and reachability checks against the real MariaDB and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from lakegate.connections.service import ResolvedConnection, check_reachable, sqlalchemy_url
from lakegate.errors import ConfigError

SECRET = "reach-Secret-123!"


def test_urls_use_the_installed_drivers() -> None:
    pg = sqlalchemy_url(
        ResolvedConnection(
            "postgresql",
            {"host": "db", "port": "5433", "database": "erp", "username": "u"},
            {"password": SECRET},
        )
    )
    assert (pg.drivername, pg.host, pg.port, pg.database, pg.username, pg.password) == (
        "postgresql+psycopg",
        "db",
        5433,
        "erp",
        "u",
        SECRET,
    )
    assert SECRET not in str(pg)  # SQLAlchemy masks the password when rendering
    assert (
        sqlalchemy_url(ResolvedConnection("mysql", {"host": "h", "database": "d"}, {})).drivername
        == "mysql+pymysql"
    )
    assert (
        sqlalchemy_url(ResolvedConnection("mssql", {"host": "h", "database": "d"}, {})).drivername
        == "mssql+pymssql"
    )
    assert (
        sqlalchemy_url(ResolvedConnection("oracle", {"host": "h", "database": "d"}, {})).drivername
        == "oracle+oracledb"
    )
    with pytest.raises(ConfigError):
        sqlalchemy_url(ResolvedConnection("rest_api", {"base_url": "http://x"}, {}))


def test_mariadb_reachable_and_wrong_password(mysql_url: str) -> None:
    url = make_url(mysql_url)
    config = {"host": url.host, "port": url.port, "database": url.database, "username": "root"}
    assert check_reachable(ResolvedConnection("mysql", config, {})) is None
    error = check_reachable(ResolvedConnection("mysql", config, {"password": SECRET}))
    assert error is not None and "Access denied" in error
    assert SECRET not in error


def test_postgres_unknown_host_fails_fast_and_clean(pg_url: str) -> None:
    error = check_reachable(
        ResolvedConnection(
            "postgresql",
            {"host": "no-such-host.invalid", "database": "x", "username": "u"},
            {"password": SECRET},
        )
    )
    assert error is not None and "\n" not in error and SECRET not in error
