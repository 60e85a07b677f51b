"""Jobs read their source credentials from Key Vault (loopback HTTPS test server).

No Key Vault emulator can run here: the real ``azure-keyvault-secrets`` ``SecretClient``
talks to ``tests.unit.secrets.keyvault_server`` (documented REST subset: 401 bearer
challenge, GET/PUT ``/secrets/{name}``, list) over HTTPS with a test-made certificate and a
fixed-token credential supplied by the test (the credential is not under test). The jobs
themselves are real: SQLite and the local PostgreSQL, loaded by ``run_job``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from lakegate.ingest.models import IngestJob, SourceType
from lakegate.ingest.pipeline import run_job
from lakegate.lake.storage import Lake
from lakegate.observability.redact import redact
from lakegate.secrets.credentials import reload_providers
from lakegate.secrets.keyvault import install_keyvault_provider, uninstall_keyvault_provider
from lakegate.settings import get_settings
from tests.unit.secrets.keyvault_server import VaultServer, run_vault_server

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def vault_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VaultServer]:
    with run_vault_server(tmp_path_factory.mktemp("vault")) as server:
        yield server


@pytest.fixture
def vault(
    vault_server: VaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[VaultServer]:
    vault_server.state.secrets.clear()
    vault_server.state.requests.clear()
    (tmp_path / ".dlt").mkdir()
    monkeypatch.setenv("DLT_PROJECT_DIR", str(tmp_path))  # no stray secrets.toml
    monkeypatch.setenv("AZURE_KEY_VAULT_URL", vault_server.url)
    reload_providers()
    install_keyvault_provider(
        get_settings(), credential=vault_server.credential, **vault_server.client_kwargs
    )
    yield vault_server
    uninstall_keyvault_provider()
    monkeypatch.delenv("DLT_PROJECT_DIR")
    reload_providers()


def _sqlite(path: Path, rows: int) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("create table items (id integer primary key, name text)")
        conn.executemany("insert into items values (?, ?)", [(i, f"n{i}") for i in range(rows)])


def test_sqlite_job_reads_its_database_path_from_the_vault(
    vault: VaultServer, tmp_path: Path
) -> None:
    _sqlite(tmp_path / "erp.db", 17)
    vault.state.secrets["erp-lite-database"] = [str(tmp_path / "erp.db")]
    settings = get_settings(state_dir=str(tmp_path / "state"))
    lake = Lake.from_url(str(tmp_path / "lake"), settings)
    job = IngestJob(
        job_id="items", source_type=SourceType.sqlite, source_name="erp_lite", table_name="items"
    )
    result = run_job(job, lake=lake, settings=settings, run_id="r1")
    assert result.status == "success", result.error
    assert result.rows_loaded == 17
    assert ("GET", "/secrets/erp-lite-database", True) in vault.state.requests


def test_postgres_job_resolves_every_field_from_the_vault(
    vault: VaultServer, pg_url: str, tmp_path: Path
) -> None:
    url = make_url(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("create table orders (id int primary key, amount numeric(10,2))")
        conn.execute("insert into orders select g, g * 1.25 from generate_series(1, 42) g")
        conn.execute("create role kv_loader login password 'Kv-Pa55word!'")
        conn.execute("grant select on orders to kv_loader")
    try:
        for field, value in {
            "host": url.host,
            "port": str(url.port),
            "database": url.database,
            "username": "kv_loader",
            "password": "Kv-Pa55word!",
        }.items():
            vault.state.secrets[f"postgres-erp-{field}"] = [str(value)]
        settings = get_settings(state_dir=str(tmp_path / "state"))
        lake = Lake.from_url(str(tmp_path / "lake"), settings)
        job = IngestJob(
            job_id="orders",
            source_type=SourceType.postgresql,
            source_name="postgres_erp",
            table_name="orders",
        )
        result = run_job(job, lake=lake, settings=settings, run_id="r1")
        assert result.status == "success", result.error
        assert result.rows_loaded == 42
        assert redact("password Kv-Pa55word! here") == "password *** here"
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("drop owned by kv_loader")
            conn.execute("drop role kv_loader")
