"""The foundation: errors, settings, redaction, lake paths, CLI error handling."""

from __future__ import annotations

import pytest

from lakegate.errors import ConfigError, ExitCode, MultipleConfigError
from lakegate.lake.layout import tenant_prefix
from lakegate.lake.storage import Lake
from lakegate.observability.redact import redact, register_secret
from lakegate.secrets.naming import secret_name
from lakegate.settings import get_settings


def test_config_error_is_exit_2_and_422() -> None:
    err = ConfigError("book.xlsx: sheet jobs, row 3, column x: bad")
    assert err.exit_code == ExitCode.BAD_INPUT == 2
    assert err.http_status == 422


def test_multiple_config_errors_keep_every_problem() -> None:
    err = MultipleConfigError(["a: one", "b: two"])
    assert err.problems == ["a: one", "b: two"]
    assert str(err).splitlines() == ["a: one", "b: two"]


def test_redact_masks_registered_secrets_and_url_passwords() -> None:
    register_secret("S3cr3t-Value!")
    text = "connect postgresql://bob:hunter22@db:5432/x failed, password=S3cr3t-Value!"
    out = redact(text)
    assert "S3cr3t-Value!" not in out
    assert "hunter22" not in out
    assert "postgresql://bob:***@db:5432/x" in out


def test_secret_name_convention() -> None:
    assert secret_name("postgres_erp", "host") == "postgres-erp-host"
    assert secret_name("oracle_crm", "service_name") == "oracle-crm-service-name"
    with pytest.raises(ConfigError, match="not valid for Key Vault"):
        secret_name("bad name!", "host")


def test_tenant_prefix_refuses_path_escape() -> None:
    assert tenant_prefix("acme", "prod") == "acme/prod"
    with pytest.raises(ValueError):
        tenant_prefix("../etc", "prod")
    with pytest.raises(ValueError):
        tenant_prefix("acme", "staging")


def test_local_lake_paths(tmp_path: object) -> None:
    lake = Lake.from_url(str(tmp_path))
    assert lake.is_local
    assert lake.path("orders", "2026") == f"{tmp_path}/orders/2026"
    assert lake.child("acme/prod").path("orders") == f"{tmp_path}/acme/prod/orders"


def test_unknown_lake_protocol_is_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown storage protocol"):
        Lake.from_url("nosuch://bucket")


def test_production_refuses_missing_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEGATE_ENVIRONMENT", "production")
    with pytest.raises(ValueError, match="LAKEGATE_ADMIN_TOKEN"):
        get_settings()


def test_bad_settings_are_one_line_each_exit_2_without_values(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lakegate.cli import main

    monkeypatch.setenv("LAKEGATE_DUCKDB_PERFECT_HASH_BITS", "33")
    monkeypatch.setenv("LAKEGATE_DUCKDB_PARQUET_STATISTICS", "maybe")
    with pytest.raises(ConfigError) as info:
        get_settings()
    assert info.value.exit_code == ExitCode.BAD_INPUT
    assert str(info.value).splitlines() == [
        "setting perfect_hash_bits (LAKEGATE_DUCKDB_PERFECT_HASH_BITS): "
        "Input should be less than or equal to 32",
        "setting parquet_statistics (LAKEGATE_DUCKDB_PARQUET_STATISTICS): "
        "Input should be a valid boolean, unable to interpret input",
    ]
    monkeypatch.delenv("LAKEGATE_DUCKDB_PARQUET_STATISTICS")
    code = main(["check", "--rules", "rules.yml", "orders"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [
        "error: setting perfect_hash_bits (LAKEGATE_DUCKDB_PERFECT_HASH_BITS): "
        "Input should be less than or equal to 32"
    ]


def test_settings_error_never_shows_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEGATE_ENVIRONMENT", "production")
    monkeypatch.setenv("LAKEGATE_SECRET_KEY", "hunter2-short")
    monkeypatch.setenv("LAKEGATE_WORKERS", "hunter3-not-a-number")
    with pytest.raises(ConfigError) as info:
        get_settings()
    text = str(info.value)
    assert "LAKEGATE_WORKERS" in text and "hunter" not in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_logging_survives_a_closed_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Logs go to the current sys.stderr, not the one present at configuration time."""
    import io

    from lakegate.observability.logging import configure_logging, get_logger

    old = io.StringIO()
    monkeypatch.setattr("sys.stderr", old)
    configure_logging("INFO", "json")
    old.close()
    new = io.StringIO()
    monkeypatch.setattr("sys.stderr", new)
    register_secret("pw-XYZ-123")
    get_logger("t").info("connected", dsn="postgresql://u:pw-XYZ-123@h/db")
    line = new.getvalue()
    assert '"event": "connected"' in line
    assert "pw-XYZ-123" not in line
