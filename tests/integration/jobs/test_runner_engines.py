"""The runner on the real engines: ingest from SQLite and PostgreSQL, then quality checks.

No step is faked: a tenant connection (secrets encrypted in the catalog) feeds
:func:`lakegate.ingest.pipeline.run_job`, which writes Parquet under the tenant's prefix,
and :func:`lakegate.quality.service.check` validates what was loaded.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from lakegate.catalog.models import Tenant
from lakegate.catalog.session import Catalog
from lakegate.connections import service as connections
from lakegate.jobs import manager, registry
from lakegate.jobs.models import JobDefinitionSpec
from lakegate.jobs.runner import Runner
from lakegate.settings import Settings

SECRET_KEY = "secret-key-for-tests-0123456789"
ROWS = [(1, "alice", 10.5), (2, "bob", 20.0), (3, None, 7.25)]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        secret_key=SECRET_KEY,  # type: ignore[arg-type]
        lake={"url": str(tmp_path / "lake")},  # type: ignore[arg-type]
        state_dir=str(tmp_path / "state"),
    )


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    catalog = Catalog.from_url(f"sqlite:///{tmp_path / 'catalog.db'}")
    catalog.create_all()
    yield catalog
    catalog.dispose()


@pytest.fixture
def tenant(catalog: Catalog) -> Tenant:
    with catalog.transaction() as session:
        row = Tenant(slug="acme", name="Acme", environment="prod", status="active")
        session.add(row)
    return row


def _job(
    connection: str, checks: list[dict[str, Any]], schema: str | None = None
) -> JobDefinitionSpec:
    table: dict[str, Any] = {"table": "customers", "primary_key": ["id"]}
    if schema:
        table["schema"] = schema
    return JobDefinitionSpec.model_validate(
        {
            "name": "load-customers",
            "steps": [
                {"type": "ingest", "connection": connection, "tables": [table]},
                {"type": "quality", "dataset": "customers", "checks": checks},
            ],
        }
    )


def _quality_job(name: str) -> JobDefinitionSpec:
    """A job of one quality step on the tenant's ``customers`` dataset."""
    return JobDefinitionSpec.model_validate(
        {
            "name": name,
            "steps": [
                {
                    "type": "quality",
                    "dataset": "customers",
                    "checks": [{"type": "row_count", "min": 1}],
                }
            ],
        }
    )


def _run(catalog: Catalog, settings: Settings, tenant: Tenant, spec: JobDefinitionSpec) -> Any:
    with catalog.session() as session:
        view = registry.create_job(session, tenant.id, spec)
        run_id = manager.create_run(session, view.job).run.id
        session.commit()
    status = Runner(catalog.sessions, settings).execute(run_id)
    with catalog.session() as session:
        run = manager.get_run(session, run_id)
        _ = run.steps, run.quality_results
    return status, run


def _lake_rows(settings: Settings) -> list[tuple[Any, ...]]:
    files = sorted(Path(settings.lake.url, "acme", "prod", "customers").rglob("*.parquet"))
    assert files, "no Parquet file under <lake>/acme/prod/customers"
    query = f"select id, name, amount from read_parquet({[str(f) for f in files]}) order by id"
    return duckdb.sql(query).fetchall()


def _set_max_dataset_bytes(catalog: Catalog, tenant: Tenant, limit: int) -> None:
    from lakegate.catalog.models import Quota

    with catalog.transaction() as session:
        quota = session.get(Quota, tenant.id) or Quota(tenant_id=tenant.id)
        quota.max_dataset_bytes = limit
        session.add(quota)


def _sqlite_shop(catalog: Catalog, settings: Settings, tenant: Tenant, tmp_path: Path) -> None:
    source = tmp_path / "shop.db"
    with sqlite3.connect(source) as db:
        db.execute("create table customers (id integer primary key, name text, amount real)")
        db.executemany("insert into customers values (?, ?, ?)", ROWS)
    with catalog.session() as session:
        connections.create(
            session, tenant, settings, name="shop", type="sqlite",
            config={"database": str(source)}, secrets={}, actor="test",
        )  # fmt: skip


def test_sqlite_source_into_the_tenant_prefix_then_quality(
    catalog: Catalog, settings: Settings, tenant: Tenant, tmp_path: Path
) -> None:
    _sqlite_shop(catalog, settings, tenant, tmp_path)
    checks = [
        {"type": "row_count", "min": 3},
        {"type": "not_null", "column": "id"},
        {"type": "not_null", "column": "name", "severity": "warn"},
    ]
    status, run = _run(catalog, settings, tenant, _job("shop", checks))
    assert status == "succeeded", run.error
    assert [(s.type, s.status) for s in run.steps] == [
        ("ingest", "succeeded"),
        ("quality", "succeeded"),
    ]
    assert run.steps[0].rows == 3
    assert _lake_rows(settings) == ROWS
    by_name = {r.check_name: r.status for r in run.quality_results}
    assert by_name["not_null_name"] == "warn"  # warn severity: reported, run still succeeds
    assert by_name["not_null_id"] == "pass"


def test_error_severity_check_failure_fails_the_run(
    catalog: Catalog, settings: Settings, tenant: Tenant, tmp_path: Path
) -> None:
    _sqlite_shop(catalog, settings, tenant, tmp_path)
    status, run = _run(
        catalog, settings, tenant, _job("shop", [{"type": "not_null", "column": "name"}])
    )
    assert status == "failed"
    assert run.steps[1].status == "failed"
    assert "not_null_name" in (run.error or "")


def test_postgresql_source_with_an_encrypted_password(
    catalog: Catalog, settings: Settings, tenant: Tenant, pg_url: str
) -> None:
    password = "pw-for-lg-runner-test"  # the local server trusts loopback; it still travels
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("create schema shop")
        conn.execute("create table shop.customers (id int primary key, name text, amount float8)")
        conn.cursor().executemany("insert into shop.customers values (%s, %s, %s)", ROWS)
    database = pg_url.rsplit("/", 1)[1]
    with catalog.session() as session:
        connections.create(
            session,
            tenant,
            settings,
            name="erp",
            type="postgresql",
            config={
                "host": "127.0.0.1",
                "port": 5432,
                "database": database,
                "username": "postgres",
            },
            secrets={"password": password},
            actor="test",
        )
    status, run = _run(
        catalog, settings, tenant, _job("erp", [{"type": "unique", "column": "id"}], schema="shop")
    )
    assert status == "succeeded", run.error
    assert _lake_rows(settings) == ROWS
    assert run.steps[0].name == "erp.shop.customers"


def test_unreachable_source_fails_the_step_without_leaking_the_password(
    catalog: Catalog, settings: Settings, tenant: Tenant
) -> None:
    password = "never-print-this-pw"
    with catalog.session() as session:
        connections.create(
            session,
            tenant,
            settings,
            name="erp",
            type="postgresql",
            config={"host": "127.0.0.1", "port": 1, "database": "nope", "username": "u"},
            secrets={"password": password},
            actor="test",
        )
    status, run = _run(catalog, settings, tenant, _job("erp", [{"type": "row_count", "min": 1}]))
    assert status == "failed"
    assert [s.status for s in run.steps] == ["failed", "skipped"]
    assert run.error and password not in run.error
    assert password not in (run.steps[0].error or "")


def test_quality_on_a_dataset_missing_from_the_tenant_lake_fails_and_never_reads_the_cwd(
    catalog: Catalog,
    settings: Settings,
    tenant: Tenant,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A folder named like the dataset in the server's working directory is not read."""
    decoy = tmp_path / "cwd" / "customers"
    decoy.mkdir(parents=True)
    duckdb.sql(f"copy (select 1 as id) to '{decoy / 'x.parquet'}' (format parquet)")
    monkeypatch.chdir(tmp_path / "cwd")
    spec = _quality_job("q")
    status, run = _run(catalog, settings, tenant, spec)
    assert status == "failed"
    assert run.steps[0].error == "dataset 'customers' is not in the tenant's lake"
    assert run.quality_results == []


def test_two_runs_of_one_job_at_once_both_succeed(
    catalog: Catalog, settings: Settings, tenant: Tenant, tmp_path: Path
) -> None:
    """The executor runs them in parallel; their loads of one dlt pipeline take turns."""
    from lakegate.jobs.executor import InProcessExecutor

    _sqlite_shop(catalog, settings, tenant, tmp_path)
    with catalog.session() as session:
        view = registry.create_job(
            session, tenant.id, _job("shop", [{"type": "row_count", "min": 3}])
        )
        run_ids = [manager.create_run(session, view.job).run.id for _ in range(2)]
        session.commit()
    executor = InProcessExecutor(catalog.sessions, settings, max_workers=2)
    executor.start()
    try:
        for run_id in run_ids:
            executor.submit(run_id)
        assert executor.wait_idle(120)
    finally:
        executor.shutdown()
    with catalog.session() as session:
        runs = [manager.get_run(session, run_id) for run_id in run_ids]
        assert [(r.status, r.error) for r in runs] == [("succeeded", None)] * 2
        loads = sorted(
            (r.steps[0].result["started_at"], r.steps[0].result["finished_at"]) for r in runs
        )
    assert loads[0][1] <= loads[1][0], f"the two loads overlapped: {loads}"
    assert _lake_rows(settings) == ROWS  # FULL loads replace: no duplicates


def test_a_load_past_max_dataset_bytes_fails_the_run_and_keeps_the_files(
    catalog: Catalog, settings: Settings, tenant: Tenant, tmp_path: Path
) -> None:
    _sqlite_shop(catalog, settings, tenant, tmp_path)
    _set_max_dataset_bytes(catalog, tenant, 100)  # far below one Parquet file
    status, run = _run(catalog, settings, tenant, _job("shop", [{"type": "row_count", "min": 1}]))
    assert status == "failed"
    assert run.steps[0].type == "ingest" and run.steps[0].status == "failed"
    assert "exceeds max_dataset_bytes=100 of tenant 'acme'" in (run.error or "")
    assert not run.quality_results  # the oversized table was never scanned
    assert _lake_rows(settings) == ROWS  # what was loaded is intact


def test_quality_refuses_a_dataset_past_max_dataset_bytes_before_scanning(
    catalog: Catalog, settings: Settings, tenant: Tenant, tmp_path: Path
) -> None:
    _sqlite_shop(catalog, settings, tenant, tmp_path)
    status, _ = _run(catalog, settings, tenant, _job("shop", [{"type": "row_count", "min": 1}]))
    assert status == "succeeded"
    folder = Path(settings.lake.url, "acme", "prod", "customers")
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    _set_max_dataset_bytes(catalog, tenant, size - 1)
    spec = _quality_job("check-customers")
    status, run = _run(catalog, settings, tenant, spec)
    assert status == "failed"
    assert f"dataset of {size} bytes exceeds max_dataset_bytes={size - 1}" in (run.error or "")
    assert not run.quality_results
    _set_max_dataset_bytes(catalog, tenant, size)  # at the limit is allowed
    status, run = _run(catalog, settings, tenant, spec.model_copy(update={"name": "again"}))
    assert status == "succeeded", run.error
