"""A load killed with SIGKILL (no clean-up code runs) is redone exactly by the next run.

The child process runs ``run_job`` and kills itself at the worst moment: after the data
file was copied into the lake, before dlt commits the load (state file and loads
marker are written in ``complete_load``). The parent then re-runs the job and compares
the lake with the source row by row.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from lakegate.ingest.models import IngestJob
from lakegate.ingest.pipeline import run_job
from lakegate.lake.storage import Lake
from lakegate.settings import Settings

from .conftest import SetSource, read_lake_table, table_files

pytestmark = pytest.mark.integration

CHILD = """
import os, signal, sys
from dlt.destinations.impl.filesystem.filesystem import FilesystemClient
from lakegate.ingest.models import IngestJob
from lakegate.ingest.pipeline import run_job
from lakegate.lake.storage import Lake
from lakegate.settings import get_settings

def die(self, load_id):
    os.kill(os.getpid(), signal.SIGKILL)

FilesystemClient.complete_load = die
job = IngestJob.model_validate_json(sys.argv[1])
run_job(job, lake=Lake.from_url(sys.argv[2]), settings=get_settings(state_dir=sys.argv[3]),
        run_id="killed")
"""


def _insert(url: str, start: int, stop: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO events SELECT i, 'e' || i, TIMESTAMPTZ '2024-01-01 00:00+00'"
            " + i * INTERVAL '1 second' FROM generate_series(%s::int, %s::int) AS i",
            (start, stop - 1),
        )


def test_sigkill_between_copy_and_commit_neither_loses_nor_duplicates(
    pg_url: str, set_source: SetSource, lake: Lake, settings: Settings, tmp_path: Path
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE events (id int PRIMARY KEY, name text, at timestamptz)")
    _insert(pg_url, 1, 1001)
    set_source("pg_events", pg_url)
    job = IngestJob(
        job_id="events",
        source_type="postgresql",
        source_name="pg_events",
        table_name="events",
        load_type="INCREMENTAL",
        watermark_column="at",
        primary_key=["id"],
    )
    first = run_job(job, lake=lake, settings=settings, run_id="r1")
    assert first.status == "success" and first.rows_loaded == 1000
    _insert(pg_url, 1001, 1501)

    proc = subprocess.run(
        [sys.executable, "-c", CHILD, job.model_dump_json(), lake.url, settings.state_dir],
        env=dict(os.environ),
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    # the killed load left its data file in the lake, uncommitted
    assert len(table_files(lake, "events")) == 2

    rerun = run_job(job, lake=lake, settings=settings, run_id="r3")
    assert rerun.status == "success", rerun.error
    assert rerun.watermark_from == first.watermark_to
    assert rerun.rows_loaded == 500
    ids = sorted(r["id"] for r in read_lake_table(table_files(lake, "events")).to_pylist())
    assert ids == list(range(1, 1501))
