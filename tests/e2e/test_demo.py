"""``lakegate demo`` as a process in an empty folder: build, ingest, validate, re-run."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.e2e

LAKEGATE = str(Path(sys.executable).with_name("lakegate"))


def lake_rows(lake: Path, table: str) -> int:
    return sum(pq.read_metadata(p).num_rows for p in lake.glob(f"{table}/*/*/*/*.parquet"))


def test_demo_builds_ingests_validates_and_reruns(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEGATE_", "SOURCES__"))}
    env.update(DLT_DATA_DIR=str(tmp_path / "dlt"), LAKEGATE_STATE_DIR=str(tmp_path / "state"))

    def demo() -> dict[str, object]:
        done = subprocess.run(
            [LAKEGATE, "demo", "--rows", "200", "--output", "json"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        data: dict[str, object] = json.loads(done.stdout)
        return data

    first = demo()
    # Defaults: ./demo for the sample, ./lake for the lake, ./metadata for the audit.
    database = tmp_path / "demo" / "erp.sqlite"
    assert first["database"] == "demo/erp.sqlite" and first["database_created"] is True
    assert (tmp_path / "demo" / "ingestion_config.yml").is_file()
    assert sorted(p.name for p in (tmp_path / "demo" / "rules").iterdir()) == [
        "customers.yml", "order_lines.yml", "orders.yml"
    ]  # fmt: skip
    with sqlite3.connect(database) as conn:
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("customers", "orders", "order_lines")
        }
    conn.close()
    assert counts["orders"] == 200 and counts["customers"] == 50 and counts["order_lines"] > 200
    assert first["row_counts"] == counts
    jobs = {j["job_id"]: j for j in first["jobs"]}  # type: ignore[attr-defined]
    for table, n in counts.items():
        assert jobs[table]["rows_loaded"] == n
        assert jobs[table]["status"] == "success"
        assert jobs[table]["dq_status"] in {"pass", "warn"}
        assert lake_rows(tmp_path / "lake", table) == n
    assert jobs["orders"]["load_type"] == "INCREMENTAL"
    assert jobs["customers"]["load_type"] == "FULL"
    assert list((tmp_path / "metadata").glob("audit_*.csv"))

    second = demo()
    assert second["database_created"] is False
    jobs = {j["job_id"]: j for j in second["jobs"]}  # type: ignore[attr-defined]
    assert jobs["orders"]["rows_loaded"] == 0 and jobs["order_lines"]["rows_loaded"] == 0
    assert jobs["customers"]["rows_loaded"] == counts["customers"]
    for table, n in counts.items():  # FULL replaced, INCREMENTAL added nothing
        assert lake_rows(tmp_path / "lake", table) == n
