"""The daily audit CSV: header once, appended, safe with parallel writers, no secrets."""

from __future__ import annotations

import csv
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from lakegate.ingest.audit import AUDIT_COLUMNS, AuditLog
from lakegate.ingest.models import LoadResult
from lakegate.observability.redact import register_secret

DAY = datetime(2026, 3, 9, 23, 59, 58, tzinfo=UTC)


def result(job_id: str = "orders", **kw: object) -> LoadResult:
    values: dict[str, object] = {
        "run_id": "r1",
        "job_id": job_id,
        "source_name": "postgres_erp",
        "table_name": job_id,
        "load_type": "INCREMENTAL",
        "status": "success",
        "rows_loaded": 42,
        "files": 2,
        "started_at": DAY,
        "finished_at": DAY + timedelta(seconds=3.5),
        "watermark_column": "updated_at",
        "watermark_from": "2026-03-08 10:00:00",
        "watermark_to": "2026-03-09 10:00:00",
    }
    values.update(kw)
    return LoadResult(**values)  # type: ignore[arg-type]


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_one_file_per_day_header_once_rows_appended(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "metadata")
    first = audit.write(result("customers", load_type="FULL", rows_loaded=7))
    second = audit.write(
        result(schema_changed=True, schema_changes=["added column discount", "removed x"])
    )
    assert first == second == str(tmp_path / "metadata" / "audit_20260309.csv")
    text = lines(Path(first))
    assert text[0] == ",".join(AUDIT_COLUMNS)
    assert len(text) == 3
    rows = audit.read(date(2026, 3, 9))
    assert [r["job_id"] for r in rows] == ["customers", "orders"]
    assert rows[0]["rows_loaded"] == "7" and rows[0]["load_type"] == "FULL"
    assert rows[1]["duration_s"] == "3.500"
    assert rows[1]["started_at"] == "2026-03-09T23:59:58+00:00"
    assert rows[1]["watermark_to"] == "2026-03-09 10:00:00"
    assert rows[1]["schema_changed"] == "true"
    assert rows[1]["schema_changes"] == "added column discount; removed x"
    # A run that starts the next day goes to the next day's file, with its own header.
    nxt = audit.write(result(started_at=DAY + timedelta(seconds=5), finished_at=None))
    assert nxt.endswith("audit_20260310.csv")
    assert lines(Path(nxt))[0] == ",".join(AUDIT_COLUMNS)


def test_errors_are_one_line_and_secrets_never_reach_the_file(tmp_path: Path) -> None:
    register_secret("Pa55-w0rd-audit")
    audit = AuditLog(tmp_path)
    path = audit.write(
        result(
            status="failed",
            error="connection to postgresql://etl:Pa55-w0rd-audit@db:5432/erp failed\n"
            'FATAL: password authentication failed, "quoted", comma',
            dq_status="fail",
            dq_failed_checks=["id_unique", "amount_range"],
        )
    )
    raw = Path(path).read_text(encoding="utf-8")
    assert "Pa55-w0rd-audit" not in raw
    (row,) = AuditLog(tmp_path).read(DAY.date())
    assert row["status"] == "failed"
    assert row["error"] == (
        "connection to postgresql://etl:***@db:5432/erp failed "
        'FATAL: password authentication failed, "quoted", comma'
    )
    assert row["dq_status"] == "fail"
    assert row["dq_failed_checks"] == "id_unique; amount_range"


def test_parallel_threads_write_every_row_and_one_header(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: audit.write(result(f"job{i}")), range(200)))
    text = lines(tmp_path / "audit_20260309.csv")
    assert text.count(",".join(AUDIT_COLUMNS)) == 1
    assert sorted(r["job_id"] for r in audit.read(DAY.date())) == sorted(
        f"job{i}" for i in range(200)
    )


def _write_from_process(folder: str, worker: int) -> None:
    audit = AuditLog(folder)
    for i in range(50):
        audit.write(result(f"p{worker}-{i}", error="x" * 2000))


def test_parallel_processes_do_not_interleave_rows(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")  # fast; the test itself starts no threads
    procs = [ctx.Process(target=_write_from_process, args=(str(tmp_path), w)) for w in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    with (tmp_path / "audit_20260309.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(AUDIT_COLUMNS)
    assert len(rows) == 1 + 200
    assert all(len(r) == len(AUDIT_COLUMNS) for r in rows)
    assert {r[1] for r in rows[1:]} == {f"p{w}-{i}" for w in range(4) for i in range(50)}


def test_fsspec_url_metadata_dir(tmp_path: Path) -> None:
    """A remote-style URL (fsspec's in-memory filesystem) is read and rewritten, not appended."""
    audit = AuditLog("memory://lakegate-audit-test/metadata")
    audit.write(result("a"))
    audit.write(result("b"))
    rows = audit.read(DAY.date())
    assert [r["job_id"] for r in rows] == ["a", "b"]
    import fsspec

    fs = fsspec.filesystem("memory")
    content = fs.cat("/lakegate-audit-test/metadata/audit_20260309.csv").decode()
    assert content.count("run_id,job_id") == 1
