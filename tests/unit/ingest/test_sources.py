"""Source URLs per type, backend defaults, lag parsing and the REST endpoint file."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from lakegate.errors import ConfigError, SecretNotFoundError
from lakegate.ingest.models import IngestJob, SourceType
from lakegate.ingest.rest_source import load_endpoint_config
from lakegate.ingest.sql_source import (
    build_url,
    choose_backend,
    default_backend,
    parse_lag,
)
from lakegate.secrets.credentials import SourceCredentials

NASTY = "p@ss:w/o#rd?&%=é"


def creds(**kw: object) -> SourceCredentials:
    base: dict[str, object] = {
        "source_name": "erp",
        "host": "db.example.com",
        "database": "erp",
        "username": "loader",
        "password": NASTY,
    }
    base.update(kw)
    return SourceCredentials(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source_type", "driver", "port"),
    [
        (SourceType.postgresql, "postgresql+psycopg", 5432),
        (SourceType.mysql, "mysql+pymysql", 3306),
        (SourceType.mssql, "mssql+pymssql", 1433),
    ],
)
def test_url_per_type_keeps_special_character_passwords(
    source_type: SourceType, driver: str, port: int
) -> None:
    url = build_url(source_type, creds())
    assert url.drivername == driver
    assert url.port == port
    assert url.password == NASTY
    # rendering escapes it, parsing gives the same password back
    rendered = url.render_as_string(hide_password=False)
    assert NASTY not in rendered
    assert sa.make_url(rendered).password == NASTY
    assert NASTY not in str(url)  # SQLAlchemy hides it when printed


def test_explicit_port_wins() -> None:
    assert build_url(SourceType.postgresql, creds(port=6543)).port == 6543


def test_oracle_sid_and_service_name() -> None:
    sid = build_url(SourceType.oracle, creds(sid="ORCL"))
    assert sid.drivername == "oracle+oracledb"
    assert sid.database == "ORCL" and dict(sid.query) == {}
    service = build_url(SourceType.oracle, creds(service_name="erp.example.com"))
    assert service.database is None
    assert dict(service.query) == {"service_name": "erp.example.com"}
    assert service.port == 1521


def test_oracle_needs_exactly_one_of_sid_and_service_name() -> None:
    with pytest.raises(ConfigError, match=r"sources\.erp: Oracle needs sid or service_name"):
        build_url(SourceType.oracle, creds())
    with pytest.raises(ConfigError, match="not both"):
        build_url(SourceType.oracle, creds(sid="A", service_name="B"))


def test_sqlite_database_is_a_file_path(tmp_path: Path) -> None:
    url = build_url(SourceType.sqlite, SourceCredentials("local", database=str(tmp_path / "a.db")))
    assert url.drivername == "sqlite"
    assert url.database == str((tmp_path / "a.db").resolve())


def test_missing_fields_name_the_secret_and_where_to_set_it() -> None:
    """A missing field is a missing secret: exit 2, naming the key and the env variable."""
    with pytest.raises(SecretNotFoundError, match=r"sources\.erp\.host not found") as caught:
        build_url(SourceType.postgresql, creds(host=None))
    assert caught.value.exit_code == 2
    assert "$SOURCES__ERP__HOST" in str(caught.value)
    with pytest.raises(SecretNotFoundError, match=r"sources\.erp\.database not found"):
        build_url(SourceType.mysql, creds(database=None))
    with pytest.raises(SecretNotFoundError, match=r"sources\.erp\.database not found"):
        build_url(SourceType.sqlite, SourceCredentials("erp"))


def test_drivers_are_installed_and_dialects_load() -> None:
    """The dialects resolve their DBAPI modules (pymssql, oracledb thin) without a server."""
    for source_type in (SourceType.mssql, SourceType.oracle):
        extra = {"sid": "ORCL"} if source_type is SourceType.oracle else {}
        url = build_url(source_type, creds(**extra))
        dialect_cls = url.get_dialect()
        assert dialect_cls.import_dbapi() is not None


def test_default_backends_measured_per_type() -> None:
    assert default_backend(SourceType.postgresql) == "connectorx"
    assert default_backend(SourceType.mysql) == "connectorx"
    assert default_backend(SourceType.oracle) == "pyarrow"
    assert default_backend(SourceType.mssql) == "pyarrow"
    assert default_backend(SourceType.sqlite) == "pyarrow"  # connectorx fails on NULL-first columns


def _job(**kw: object) -> IngestJob:
    base: dict[str, object] = {
        "job_id": "j1",
        "source_type": "postgresql",
        "source_name": "erp",
        "table_name": "t",
    }
    base.update(kw)
    return IngestJob(**base)  # type: ignore[arg-type]


def test_backend_choice_and_impossible_pairs() -> None:
    assert choose_backend(_job()) == "connectorx"
    assert choose_backend(_job(backend="sqlalchemy")) == "sqlalchemy"
    with pytest.raises(ConfigError, match="job j1: backend connectorx cannot read oracle"):
        choose_backend(_job(source_type="oracle", backend="connectorx"))
    with pytest.raises(ConfigError, match="adbc is only wired for postgresql"):
        choose_backend(_job(source_type="mysql", backend="adbc"))


@pytest.mark.parametrize(
    ("lag", "kind", "expected"),
    [
        ("2h", "timestamp", 7200.0),
        ("30m", "timestamp", 1800.0),
        ("90", "timestamp", 90.0),
        ("1d", "timestamp", 86400.0),
        ("2d", "date", 2.0),
        ("500", "number", 500.0),
        (None, "timestamp", None),
    ],
)
def test_lag_parsing(lag: str | None, kind: str, expected: float | None) -> None:
    assert parse_lag(lag, kind) == expected


@pytest.mark.parametrize(("lag", "kind"), [("soon", "timestamp"), ("2h", "number")])
def test_bad_lag_is_a_config_error(lag: str, kind: str) -> None:
    with pytest.raises(ConfigError, match="lag"):
        parse_lag(lag, kind)


def test_endpoint_config_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "api.yml"
    bad.write_text("client: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"api\.yml: line \d+ not valid YAML"):
        load_endpoint_config(bad)
    bad.write_text("client: {}\nresources: [a]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"client\.base_url is missing"):
        load_endpoint_config(bad)
    bad.write_text("client: {base_url: 'http://x'}\nresources: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="resources must be a non-empty list"):
        load_endpoint_config(bad)
