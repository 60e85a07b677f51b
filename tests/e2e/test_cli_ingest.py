"""``lakegate ingest`` and ``python -m lakegate`` as real processes on a SQLite source."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lakegate.ingest.audit import AUDIT_COLUMNS
from lakegate.ingest.config import write_workbook

pytestmark = pytest.mark.e2e

LAKEGATE = str(Path(sys.executable).with_name("lakegate"))
PG_PASSWORD = "e2e-Secret-Pw-93"


@dataclass
class Workspace:
    root: Path
    config: Path
    lake: Path
    metadata: Path
    env: dict[str, str]

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
        )

    def audit(self) -> list[dict[str, str]]:
        import csv

        rows: list[dict[str, str]] = []
        for path in sorted(self.metadata.glob("audit_*.csv")):
            with path.open(encoding="utf-8", newline="") as handle:
                rows.extend(csv.DictReader(handle))
        return rows


def _base_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEGATE_", "SOURCES__"))}
    env.update(
        DLT_DATA_DIR=str(root / "dlt"),
        LAKEGATE_STATE_DIR=str(root / "pipelines"),
        LAKEGATE_METADATA_DIR=str(root / "metadata"),
        LAKEGATE_LAKE_URL=str(root / "lake"),
        LAKEGATE_WORKERS="2",
        COLUMNS="200",
    )
    return env


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("ingest_e2e")
    db = root / "shop.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript(
            """
            CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(8,2));
            CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, at TIMESTAMP NOT NULL);
            """
        )
        conn.executemany(
            "INSERT INTO items VALUES (?, ?, ?)",
            [(i, f"item «{i}» 'x'", f"{i * 1.5:.2f}") for i in range(1, 31)],
        )
        conn.executemany(
            "INSERT INTO events VALUES (?, ?, ?)",
            [(i, "click" if i % 2 else None, f"2026-01-01 00:{i:02d}:00") for i in range(1, 41)],
        )
    conn.close()
    rows = [
        {"job_id": "items", "enabled": "Y", "source_type": "sqlite", "source_name": "shop",
         "table_name": "items", "load_type": "FULL", "primary_key": "id"},
        {"job_id": "events", "enabled": "Y", "source_type": "sqlite", "source_name": "shop",
         "table_name": "events", "load_type": "INCREMENTAL", "watermark_column": "at",
         "primary_key": "id", "target_table": "shop_events"},
        {"job_id": "missing", "enabled": "N", "source_type": "sqlite", "source_name": "shop",
         "table_name": "no_such_table", "load_type": "FULL"},
        {"job_id": "pg_down", "enabled": "N", "source_type": "postgresql", "source_name": "pg",
         "schema_name": "public", "table_name": "t", "load_type": "FULL"},
    ]  # fmt: skip
    config = write_workbook(rows, root / "ingestion_config.xlsx")
    env = _base_env(root)
    env.update(
        SOURCES__SHOP__DATABASE=str(db),
        SOURCES__PG__HOST="127.0.0.1",
        SOURCES__PG__PORT="1",  # nothing listens: connection refused
        SOURCES__PG__DATABASE="x",
        SOURCES__PG__USERNAME="etl",
        SOURCES__PG__PASSWORD=PG_PASSWORD,
    )
    yield Workspace(root, config, root / "lake", root / "metadata", env)


@pytest.fixture(scope="module")
def first_run(ws: Workspace) -> subprocess.CompletedProcess[str]:
    return ws.run(LAKEGATE, "ingest", "--config", str(ws.config), "--output", "json")


def test_ingest_loads_every_enabled_job_into_the_lake(
    ws: Workspace, first_run: subprocess.CompletedProcess[str]
) -> None:
    assert first_run.returncode == 0, first_run.stderr
    report = json.loads(first_run.stdout)
    assert report["status"] == "success" and report["exit_code"] == 0
    jobs = {j["job_id"]: j for j in report["jobs"]}
    assert set(jobs) == {"items", "events"}  # disabled jobs do not run
    assert jobs["items"]["rows_loaded"] == 30 and jobs["events"]["rows_loaded"] == 40
    items = list(ws.lake.glob("items/*/*/*/*.parquet"))
    events = list(ws.lake.glob("shop_events/*/*/*/*.parquet"))
    assert items and events
    assert sum(pq.read_metadata(p).num_rows for p in items) == 30
    assert sum(pq.read_metadata(p).num_rows for p in events) == 40
    audit = ws.audit()
    assert list(audit[0]) == list(AUDIT_COLUMNS)
    by_job = {r["job_id"]: r for r in audit if r["run_id"] == report["run_id"]}
    assert by_job["items"]["status"] == "success" and by_job["items"]["rows_loaded"] == "30"
    assert by_job["events"]["watermark_column"] == "at"
    assert by_job["events"]["watermark_to"].startswith("2026-01-01")


def test_python_m_lakegate_runs_the_config_again_incrementally(
    ws: Workspace, first_run: subprocess.CompletedProcess[str]
) -> None:
    assert first_run.returncode == 0
    done = ws.run(sys.executable, "-m", "lakegate", env={"LAKEGATE_CONFIG": str(ws.config)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == [
        "job", "table", "load", "type", "rows", "files", "seconds", "status", "dq"
    ]  # fmt: skip
    events = next(line.split() for line in lines if line.startswith("events "))
    assert events[1:5] == ["shop_events", "INCREMENTAL", "0", "0"]  # no new rows
    items = next(line.split() for line in lines if line.startswith("items "))
    assert items[1:4] == ["items", "FULL", "30"]
    # FULL replaced the table: still exactly 30 rows in the lake.
    files = list(ws.lake.glob("items/*/*/*/*.parquet"))
    assert sum(pq.read_metadata(p).num_rows for p in files) == 30


def test_failed_jobs_exit_1_with_one_line_each_and_no_secret(ws: Workspace) -> None:
    done = ws.run(LAKEGATE, "ingest", "-c", str(ws.config), "--job", "missing", "--job", "pg_down")
    assert done.returncode == 1
    failures = [line for line in done.stderr.splitlines() if " failed: " in line]
    assert len(failures) == 2, done.stderr
    assert any(line.startswith("job missing failed: ") for line in failures)
    assert any(line.startswith("job pg_down failed: ") for line in failures)
    assert "Traceback" not in done.stderr
    assert not any("failed: job " in line for line in failures)  # the job is named once
    everything = (
        done.stdout + done.stderr + "".join(p.read_text() for p in ws.metadata.glob("audit_*.csv"))
    )
    assert PG_PASSWORD not in everything
    rows = [r for r in ws.audit() if r["job_id"] in {"missing", "pg_down"}]
    assert {r["status"] for r in rows} == {"failed"} and all(r["error"] for r in rows)


def test_bad_workbook_exits_2_with_every_line_and_writes_nothing(tmp_path: Path) -> None:
    rows = [
        {"job_id": "a", "enabled": "Y", "source_type": "sqlite", "source_name": "s",
         "table_name": "a", "load_type": "INCREMANTAL", "primary_key": "id"},
        {"job_id": "b", "enabled": "perhaps", "source_type": "db2", "source_name": "s",
         "table_name": "b", "load_type": "FULL"},
    ]  # fmt: skip
    config = write_workbook(rows, tmp_path / "ingestion_config.xlsx")
    env = _base_env(tmp_path)
    done = subprocess.run(
        [LAKEGATE, "ingest", "--config", str(config)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: ingestion_config.xlsx: sheet jobs, row 2, column load_type: "
        "'INCREMANTAL' is not FULL or INCREMENTAL",
        "error: ingestion_config.xlsx: sheet jobs, row 3, column enabled: 'perhaps' is not Y or N",
        "error: ingestion_config.xlsx: sheet jobs, row 3, column source_type: "
        "'db2' is not one of postgresql, mysql, mssql, oracle, sqlite, rest_api",
    ]
    assert done.stdout == ""
    assert not (tmp_path / "lake").exists() and not (tmp_path / "metadata").exists()


def test_python_m_lakegate_without_config_is_a_clear_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lakegate"],
        cwd=tmp_path, env=_base_env(tmp_path), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: no job configuration: pass --config FILE or set LAKEGATE_CONFIG "
        "(an ingestion_config.xlsx workbook or a YAML file)"
    )


def test_unknown_job_id_is_exit_2(
    ws: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process through the CLI's entry point (same code path, no process start-up)."""
    from lakegate.cli import main

    monkeypatch.setenv("LAKEGATE_METADATA_DIR", str(ws.metadata))
    assert main(["ingest", "-c", str(ws.config), "--job", "nope"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: ingestion_config.xlsx: unknown job 'nope' (jobs: items, events, missing, pg_down)"
    )


def test_dry_run_lists_the_jobs_and_loads_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lakegate.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAKEGATE_METADATA_DIR", str(tmp_path / "metadata"))
    config = str(Path(__file__).parents[2] / "config" / "ingestion_config.yml")
    assert main(["ingest", "-c", config, "--dry-run", "--output", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [j["job_id"] for j in data["jobs"]] == ["erp_customers", "erp_orders", "shop_products"]
    assert main(["ingest", "-c", config, "--dry-run", "--job", "hr_employees"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "hr_employees: FULL oracle:oracle_hr HR.EMPLOYEES -> hr_employees",
        "1 jobs would run; nothing loaded (--dry-run)",
    ]
    assert list(tmp_path.iterdir()) == []


def test_missing_source_secret_is_exit_2_before_anything_loads(tmp_path: Path) -> None:
    """A source whose credentials resolve nowhere stops the run before any job loads."""
    rows = [
        {"job_id": "ok", "enabled": "Y", "source_type": "sqlite", "source_name": "shop",
         "table_name": "items", "load_type": "FULL"},
        {"job_id": "erp", "enabled": "Y", "source_type": "postgresql", "source_name": "erp_x",
         "schema_name": "public", "table_name": "orders", "load_type": "FULL"},
    ]  # fmt: skip
    config = write_workbook(rows, tmp_path / "ingestion_config.xlsx")
    db = tmp_path / "shop.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY)")
    conn.close()
    env = {**_base_env(tmp_path), "SOURCES__SHOP__DATABASE": str(db)}
    done = subprocess.run(
        [LAKEGATE, "ingest", "--config", str(config)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "error: job erp: secret sources.erp_x.host not found (set it in .dlt/secrets.toml "
        "or $SOURCES__ERP_X__HOST, or configure AZURE_KEY_VAULT_URL)"
    ]
    assert not (tmp_path / "lake").exists() and not (tmp_path / "metadata").exists()
