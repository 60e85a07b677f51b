"""run_job on SQLite (no server needed), lake URL split, failure lines, schema diffs."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from lakegate.errors import ConfigError, SourceError
from lakegate.ingest.destination import split_lake_url
from lakegate.ingest.failures import describe_failure
from lakegate.ingest.models import IngestJob
from lakegate.ingest.pipeline import pipeline_name, run_job
from lakegate.ingest.schema_changes import diff_columns
from lakegate.lake.storage import Lake
from lakegate.secrets.credentials import SourceCredentials
from lakegate.settings import Settings, get_settings


@pytest.fixture
def sqlite_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "erp.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE customers"
            " (id INTEGER PRIMARY KEY, name TEXT, score REAL, updated INTEGER)"
        )
        conn.executemany(
            "INSERT INTO customers VALUES (?, ?, ?, ?)",
            [(i, f"name {i} 'q'\n", i / 3, i) for i in range(1, 101)],
        )
    monkeypatch.setenv("SOURCES__LOCAL__DATABASE", str(path))
    return path


@pytest.fixture
def env(tmp_path: Path) -> tuple[Lake, Settings]:
    return Lake.from_url(str(tmp_path / "lake")), get_settings(state_dir=str(tmp_path / "state"))


def _job(**kw: Any) -> IngestJob:
    base: dict[str, Any] = {
        "job_id": "customers",
        "source_type": "sqlite",
        "source_name": "local",
        "table_name": "customers",
        "primary_key": ["id"],
    }
    base.update(kw)
    return IngestJob(**base)


def test_sqlite_full_and_incremental(sqlite_db: Path, env: tuple[Lake, Settings]) -> None:
    import pyarrow.parquet as pq

    lake, settings = env
    seen: list[int] = []
    full = run_job(
        _job(), lake=lake, settings=settings, run_id="r1", progress=lambda _j, n: seen.append(n)
    )
    assert full.status == "success", full.error
    assert full.rows_loaded == 100 and full.files == 1 and seen[-1] == 100
    table = pq.read_table(full.file_paths[0]).to_pylist()
    assert [r["name"] for r in table[:2]] == ["name 1 'q'\n", "name 2 'q'\n"]
    assert full.duration_s > 0 and full.extra["backend"] == "pyarrow"
    assert {"extract_s", "normalize_s", "load_s"} <= set(full.extra)

    inc = _job(job_id="customers_inc", load_type="INCREMENTAL", watermark_column="updated")
    first = run_job(inc, lake=lake, settings=settings, run_id="r2")
    assert first.watermark_to == "100"
    with sqlite3.connect(sqlite_db) as conn:
        conn.execute("INSERT INTO customers VALUES (101, 'late', 0, 101)")
    second = run_job(inc, lake=lake, settings=settings, run_id="r3")
    assert (second.rows_loaded, second.watermark_from, second.watermark_to) == (1, "100", "101")


def test_missing_sqlite_file_fails_cleanly(
    env: tuple[Lake, Settings], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lake, settings = env
    monkeypatch.setenv("SOURCES__LOCAL__DATABASE", str(tmp_path / "missing.db"))
    result = run_job(_job(), lake=lake, settings=settings, run_id="r1")
    assert result.status == "failed"
    assert (
        result.error
        == f"job customers: SQLite database file {tmp_path / 'missing.db'} does not exist"
    )
    assert not (tmp_path / "missing.db").exists()


def test_incremental_without_watermark_is_a_config_error(env: tuple[Lake, Settings]) -> None:
    lake, settings = env
    with pytest.raises(ConfigError, match="job customers: INCREMENTAL needs a watermark_column"):
        run_job(_job(load_type="INCREMENTAL"), lake=lake, settings=settings, run_id="r1")


def test_unknown_include_column_fails(sqlite_db: Path, env: tuple[Lake, Settings]) -> None:
    lake, settings = env
    result = run_job(_job(columns=["id", "nope"]), lake=lake, settings=settings, run_id="r1")
    assert result.error == "job customers: column(s) nope not found in table customers"


def test_pipeline_names_are_stable_snake_case() -> None:
    assert (
        pipeline_name(_job(source_name="Postgres-ERP", job_id="Orders 1"))
        == "postgres_erp__orders_1"
    )


@pytest.mark.parametrize(
    ("url", "bucket", "dataset"),
    [
        ("az://raw/tenant/prod", "az://raw/tenant", "prod"),
        ("az://raw/data", "az://raw", "data"),
    ],
)
def test_lake_root_becomes_the_dataset_folder(url: str, bucket: str, dataset: str) -> None:
    lake = Lake(url=url, protocol="az", root=url.split("://", 1)[1])
    assert split_lake_url(lake) == (bucket, dataset)


def test_local_lake_split(tmp_path: Path) -> None:
    lake = Lake.from_url(str(tmp_path / "my-lake"))
    assert split_lake_url(lake) == (str(tmp_path), "my-lake")


def test_container_root_is_refused() -> None:
    with pytest.raises(ConfigError, match="give a folder inside the bucket"):
        split_lake_url(Lake(url="az://raw", protocol="az", root="raw"))


CREDS = SourceCredentials("erp", host="db", port=5432, username="loader", password="Pw-Unique-77")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            'connection to server at "db" (10.0.0.1), port 5432 failed: Connection refused',
            "cannot connect to db:5432: connection refused",
        ),
        (
            'FATAL:  password authentication failed for user "loader"',
            "authentication failed for user loader at db:5432",
        ),
        ('relation "public.orders" does not exist', "unknown table public.orders"),
        ("permission denied for table orders", "permission denied reading public.orders"),
        ("(1146, \"Table 'erp.orders' doesn't exist\")", "unknown table public.orders"),
    ],
)
def test_failures_are_recognised_from_the_chain(message: str, expected: str) -> None:
    job = _job(table_name="orders", schema_name="public")
    try:
        try:
            raise OSError(message)
        except OSError as inner:
            raise RuntimeError("Pipeline execution failed at stage extract") from inner
    except RuntimeError as exc:
        assert describe_failure(exc, job, CREDS) == f"job customers: {expected}"


def test_unrecognised_failure_is_one_line_and_masked() -> None:
    exc = ValueError("weird\nthing with Pw-Unique-77 and postgresql://u:Other-Pw@h/db")
    from lakegate.observability.redact import register_secret

    register_secret("Pw-Unique-77")
    line = describe_failure(exc, _job(), CREDS)
    assert line == "job customers: ValueError: weird"
    own = describe_failure(SourceError("gone with postgresql://u:Other-Pw@h/db"), _job(), CREDS)
    assert "Other-Pw" not in own and "\n" not in own


def test_schema_diff() -> None:
    assert not diff_columns(None, ["a"]).changed
    diff = diff_columns(["a", "b", "c"], ["a", "c", "d"])
    assert diff.describe() == ["added column d", "removed column b"]


def test_parallel_jobs_on_a_fresh_lake(sqlite_db: Path, env: tuple[Lake, Settings]) -> None:
    """Jobs started together on an empty lake all succeed (dlt's dataset folder is created
    once under a lock instead of racing to FileExistsError)."""
    from concurrent.futures import ThreadPoolExecutor

    lake, settings = env
    jobs = [_job(job_id=f"c{i}", target_table=f"customers_{i}") for i in range(3)]
    with ThreadPoolExecutor(3) as pool:
        results = list(
            pool.map(lambda j: run_job(j, lake=lake, settings=settings, run_id="r1"), jobs)
        )
    assert [(r.status, r.rows_loaded, r.error) for r in results] == [("success", 100, None)] * 3


def test_freeze_allows_the_first_load_and_an_unchanged_schema(
    sqlite_db: Path, env: tuple[Lake, Settings]
) -> None:
    lake, settings = env
    job = _job(schema_contract="freeze")
    first = run_job(job, lake=lake, settings=settings, run_id="r1")
    assert (first.status, first.rows_loaded, first.schema_changed) == ("success", 100, False)
    again = run_job(job, lake=lake, settings=settings, run_id="r2")
    assert (again.status, again.rows_loaded, again.schema_changed) == ("success", 100, False)


def test_watermark_must_be_an_included_column(sqlite_db: Path, env: tuple[Lake, Settings]) -> None:
    lake, settings = env
    job = _job(load_type="INCREMENTAL", watermark_column="updated", columns=["id", "name"])
    with pytest.raises(ConfigError, match="watermark_column updated must be one of the included"):
        run_job(job, lake=lake, settings=settings, run_id="r1")
