"""The multi-job runner, with job and check functions injected in place of the real ones.

``run_jobs`` takes the job function as a parameter (default: the dlt pipeline); these
tests pass small functions with the same signature so that pool bounds, failure
isolation, exit codes and quality gating are tested without a database.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lakegate.errors import ConfigError, ExitCode, SourceError
from lakegate.ingest.audit import AuditLog
from lakegate.ingest.config import select_jobs
from lakegate.ingest.models import IngestJob, LoadResult
from lakegate.ingest.runner import run_jobs
from lakegate.ingest.summary import PlainProgress, render_plain, report_to_dict
from lakegate.lake.storage import Lake
from lakegate.observability.redact import register_secret
from lakegate.settings import Settings, get_settings


def job(job_id: str, **kw: Any) -> IngestJob:
    values: dict[str, Any] = {
        "job_id": job_id,
        "source_type": "sqlite",
        "source_name": kw.pop("source_name", "erp"),
        "table_name": job_id,
    }
    values.update(kw)
    return IngestJob(**values)


@dataclass
class FakeLoads:
    """A job function: sleeps, counts concurrency, fails or raises on request."""

    fail: set[str] = field(default_factory=set)
    raise_for: set[str] = field(default_factory=set)
    delay: float = 0.05
    running: int = 0
    peak: int = 0
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, job: IngestJob, **kw: Any) -> LoadResult:
        assert set(kw) == {"lake", "settings", "run_id", "tags", "progress"}
        assert kw["tags"]["job_id"] == job.job_id and kw["tags"]["run_id"] == kw["run_id"]
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.calls.append(job.job_id)
        try:
            started = datetime.now(UTC)
            kw["progress"](job.job_id, 10)
            time.sleep(self.delay)
            if job.job_id in self.raise_for:
                raise RuntimeError(f"boom in {job.job_id}\nsecond line")
            failed = job.job_id in self.fail
            return LoadResult(
                run_id=kw["run_id"],
                job_id=job.job_id,
                source_name=job.source_name,
                table_name=job.target,
                load_type=str(job.load_type),
                status="failed" if failed else "success",
                rows_loaded=0 if failed else 10,
                files=0 if failed else 1,
                started_at=started,
                finished_at=datetime.now(UTC),
                error=f"job {job.job_id}: table {job.table_name!r} does not exist"
                if failed
                else None,
            )
        finally:
            with self.lock:
                self.running -= 1


@dataclass
class Check:
    name: str
    status: str


@dataclass
class Outcome:
    status: str
    checks: list[Check]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = get_settings()
    s.lake.url = str(tmp_path / "lake")
    s.metadata_dir = str(tmp_path / "metadata")
    return s


def run(settings: Settings, jobs: list[IngestJob], **kw: Any) -> Any:
    kw.setdefault("check_fn", lambda *a, **k: pytest.fail("no rules: check must not run"))
    return run_jobs(jobs, settings=settings, lake=Lake.from_url(settings.lake.url), **kw)


def audit_rows(settings: Settings) -> list[dict[str, str]]:
    return AuditLog(settings.metadata_dir).read(datetime.now(UTC).date())


def test_pool_is_bounded_and_every_job_runs(settings: Settings) -> None:
    loads = FakeLoads(delay=0.1)
    jobs = [job(f"t{i}") for i in range(7)]
    report = run(settings, jobs, workers=3, job_fn=loads)
    assert loads.peak == 3
    assert sorted(loads.calls) == sorted(j.job_id for j in jobs)
    assert [r.job_id for r in report.results] == [j.job_id for j in jobs]  # config order
    assert report.exit_code == ExitCode.OK
    assert len(audit_rows(settings)) == 7


def test_workers_default_to_settings(settings: Settings) -> None:
    settings.workers = 2
    loads = FakeLoads(delay=0.1)
    run(settings, [job(f"t{i}") for i in range(5)], job_fn=loads)
    assert loads.peak == 2


def test_one_failure_does_not_stop_the_others_and_exit_is_1(settings: Settings) -> None:
    register_secret("s3cret-runner-pw")
    loads = FakeLoads(fail={"b"}, raise_for={"c"})
    jobs = [job("a"), job("b"), job("c", table_name="s3cret-runner-pw"), job("d")]
    report = run(settings, jobs, workers=2, job_fn=loads)
    assert report.exit_code == ExitCode.FAILED == 1
    status = {r.job_id: r.status for r in report.results}
    assert status == {"a": "success", "b": "failed", "c": "failed", "d": "success"}
    by_id = {r.job_id: r for r in report.results}
    assert by_id["b"].error == "table 'b' does not exist"
    assert by_id["c"].error == "RuntimeError: boom in c second line"
    assert "Traceback" in by_id["c"].extra["traceback"]
    rows = {r["job_id"]: r for r in audit_rows(settings)}
    assert rows["c"]["status"] == "failed" and rows["a"]["status"] == "success"
    assert (
        "s3cret-runner-pw"
        not in (Path(settings.metadata_dir)).joinpath(Path(report.audit_path).name).read_text()
    )


def test_failure_lines_name_the_job_and_cause(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "progress.txt"
    with out.open("w") as stream:
        report = run(
            settings,
            [job("a"), job("b")],
            job_fn=FakeLoads(fail={"b"}),
            progress=PlainProgress(stream),
        )
        render_plain(report, stream)
    text = out.read_text()
    assert "job b failed: table 'b' does not exist" in text.splitlines()
    assert "Traceback" not in text
    assert "1 of 2 jobs succeeded" in text


def test_all_succeeded_is_exit_0_and_json_shape(settings: Settings) -> None:
    report = run(settings, [job("a"), job("b", load_type="FULL")], job_fn=FakeLoads())
    data = report_to_dict(report)
    assert data["exit_code"] == 0 and data["status"] == "success"
    assert [j["job_id"] for j in data["jobs"]] == ["a", "b"]
    assert data["jobs"][0]["rows_loaded"] == 10 and data["jobs"][0]["files"] == 1
    assert "traceback" not in data["jobs"][0]["extra"]


def test_failing_error_check_fails_the_job(settings: Settings, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text("checks: []\n")
    seen: list[tuple[Any, str]] = []

    def check_fn(rules_file: Any, *, dataset: str, settings: Settings, lake: Lake) -> Outcome:
        seen.append((rules_file, dataset))
        if dataset == "bad_target":
            return Outcome("fail", [Check("id_unique", "fail"), Check("rows", "pass")])
        return Outcome("warn", [Check("email_format", "warn")])

    jobs = [
        job("good", rules_file=str(rules)),
        job("bad", target_table="bad_target", rules_file=str(rules)),
        job("norules"),
    ]
    report = run(settings, jobs, job_fn=FakeLoads(), check_fn=check_fn)
    by_id = {r.job_id: r for r in report.results}
    assert sorted(seen) == [(str(rules), "bad_target"), (str(rules), "good")]
    assert by_id["good"].status == "success" and by_id["good"].dq_status == "warn"
    assert by_id["bad"].status == "failed"
    assert by_id["bad"].dq_failed_checks == ["id_unique"]
    assert by_id["bad"].error == "quality checks failed: id_unique"
    assert by_id["norules"].dq_status is None
    assert report.exit_code == ExitCode.FAILED
    rows = {r["job_id"]: r for r in audit_rows(settings)}
    assert rows["bad"]["dq_status"] == "fail" and rows["bad"]["dq_failed_checks"] == "id_unique"


def test_checks_do_not_run_after_a_failed_load(settings: Settings, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text("checks: []\n")
    report = run(settings, [job("a", rules_file=str(rules))], job_fn=FakeLoads(fail={"a"}))
    assert report.results[0].dq_status is None


def test_missing_quality_engine_does_not_break_the_load(settings: Settings, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text("checks: []\n")

    def not_there(*a: Any, **k: Any) -> Any:
        raise NotImplementedError("the quality engine is not implemented yet")

    (result,) = run(
        settings, [job("a", rules_file=str(rules))], job_fn=FakeLoads(), check_fn=not_there
    ).results
    assert result.status == "success"
    assert result.dq_status == "error"
    assert result.extra["dq_error"] == (
        "quality engine unavailable: the quality engine is not implemented yet"
    )
    assert audit_rows(settings)[0]["dq_error"] == result.extra["dq_error"]


def test_a_check_that_cannot_run_fails_the_job(settings: Settings, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text("checks: []\n")

    def broken(*a: Any, **k: Any) -> Any:
        raise SourceError("dataset a: column 'amount' does not exist")

    (result,) = run(
        settings, [job("a", rules_file=str(rules))], job_fn=FakeLoads(), check_fn=broken
    ).results
    assert result.status == "failed" and result.dq_status == "error"
    assert result.error == "quality checks could not run: dataset a: column 'amount' does not exist"


def test_select_jobs_enabled_named_and_by_source() -> None:
    jobs = [
        job("a"),
        job("b", enabled=False),
        job("c", source_name="crm"),
        job("d", source_name="crm", enabled=False),
    ]
    assert [j.job_id for j in select_jobs(jobs)] == ["a", "c"]
    assert [j.job_id for j in select_jobs(jobs, job_ids=["b", "a", "b"])] == ["b", "a"]
    assert [j.job_id for j in select_jobs(jobs, source="crm")] == ["c"]
    assert [j.job_id for j in select_jobs(jobs, job_ids=["d"], source="crm")] == ["d"]
    with pytest.raises(ConfigError, match=r"^c\.xlsx: unknown job 'zz' \(jobs: a, b, c, d\)$"):
        select_jobs(jobs, job_ids=["zz"], config_name="c.xlsx")
    with pytest.raises(ConfigError, match=r"no job reads source 'nope' \(sources: crm, erp\)"):
        select_jobs(jobs, source="nope")
    with pytest.raises(ConfigError, match="no enabled job to run") as info:
        select_jobs([job("x", enabled=False)])
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_rich_summary_table_has_every_column_and_escapes_markup(settings: Settings) -> None:
    from io import StringIO

    from rich.console import Console

    from lakegate.ingest.summary import SUMMARY_COLUMNS, render_table

    report = run(settings, [job("a[b]"), job("c")], job_fn=FakeLoads(fail={"c"}))
    console = Console(file=StringIO(), width=200, force_terminal=False)
    render_table(report, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    header = next(line for line in text.splitlines() if "load type" in line)
    assert all(name in header for name in SUMMARY_COLUMNS)
    assert "a[b]" in text and "failed" in text and "1 of 2 jobs succeeded" in text


def test_docs_describe_every_column() -> None:
    from lakegate.ingest.audit import AUDIT_COLUMNS
    from lakegate.ingest.config import ALL_COLUMNS

    docs = Path(__file__).parents[3] / "docs"
    configuration = (docs / "configuration.md").read_text()
    audit = (docs / "audit.md").read_text()
    assert [c for c in ALL_COLUMNS if f"| `{c}` |" not in configuration] == []
    assert [c for c in AUDIT_COLUMNS if f"`{c}`" not in audit] == []


def test_unwritable_audit_does_not_stop_the_jobs(settings: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the metadata folder should be")
    settings.metadata_dir = str(blocker)
    loads = FakeLoads()
    report = run(settings, [job("a"), job("b")], workers=1, job_fn=loads)
    assert sorted(loads.calls) == ["a", "b"]
    assert [r.status for r in report.results] == ["success", "success"]
    assert len(report.audit_errors) == 2 and report.audit_errors[0].startswith("job ")
    assert report.exit_code == ExitCode.FAILED


def test_quality_gate_follows_the_real_result_classes(settings: Settings, tmp_path: Path) -> None:
    """With lakegate.quality's own result objects: only error-severity problems fail."""
    from lakegate.quality.results import CheckResult, QualityResult

    rules = tmp_path / "rules.yml"
    rules.write_text("checks: []\n")
    outcomes = {
        "warn_only": QualityResult(
            "warn_only",
            10,
            [
                CheckResult("email", "regex", "email", "warn", severity="warn"),
                CheckResult("odd", "custom_sql", None, "error", severity="warn", message="boom"),
            ],
        ),
        "broken": QualityResult(
            "broken",
            10,
            [
                CheckResult("ids", "unique", "id", "fail"),
                CheckResult("amount", "between", "amount", "error", message="no column amount"),
            ],
        ),
    }

    def check_fn(rules_file: Any, *, dataset: str, **kw: Any) -> QualityResult:
        return outcomes[dataset]

    report = run(
        settings,
        [job("warn_only", rules_file=str(rules)), job("broken", rules_file=str(rules))],
        job_fn=FakeLoads(),
        check_fn=check_fn,
    )
    ok, bad = report.results
    assert (ok.status, ok.dq_status) == ("success", "error")
    assert ok.extra["dq_error"] == "odd: boom"
    assert ok.dq_failed_checks == ["email", "odd"]
    assert (bad.status, bad.dq_status) == ("failed", "error")
    assert bad.dq_failed_checks == ["ids", "amount"]
    assert bad.error == "quality checks failed: ids; quality checks could not run: amount"


def test_real_pipeline_and_quality_engine_on_sqlite(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run_jobs with its defaults: the dlt pipeline and the DuckDB quality engine."""
    import sqlite3

    import pyarrow.parquet as pq

    db = tmp_path / "src.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (id INTEGER, amount NUMERIC(8,2))")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(1, "1.50"), (2, "2.00"), (2, "-1")])
    conn.close()
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "checks:\n"
        "  - {type: unique, column: id}\n"
        "  - {type: between, column: amount, min: 0, severity: warn}\n"
    )
    monkeypatch.setenv("SOURCES__REALSRC__DATABASE", str(db))
    report = run_jobs(
        [job("t", source_name="realsrc", rules_file=str(rules), load_type="FULL")],
        settings=settings,
    )
    (result,) = report.results
    assert result.rows_loaded == 3
    files = list(Path(settings.lake.url).glob("t/*/*/*/*.parquet"))
    assert sum(pq.read_metadata(f).num_rows for f in files) == 3
    assert result.dq_status == "fail"
    assert sorted(result.dq_failed_checks) == ["between_amount", "unique_id"]
    assert result.status == "failed" and result.error == "quality checks failed: unique_id"
    (row,) = audit_rows(settings)
    assert (row["status"], row["dq_status"], row["rows_loaded"]) == ("failed", "fail", "3")


def test_schema_changes_are_reported_in_the_summary(settings: Settings, tmp_path: Path) -> None:
    def evolving(job: IngestJob, **kw: Any) -> LoadResult:
        result = FakeLoads()(job, **kw)
        if job.job_id == "orders":
            result.schema_changed = True
            result.schema_changes = ["added column discount", "removed column fax"]
        return result

    report = run(settings, [job("orders"), job("customers")], job_fn=evolving)
    out = tmp_path / "summary.txt"
    with out.open("w") as stream:
        render_plain(report, stream)
    lines = out.read_text().splitlines()
    assert "schema of orders changed: added column discount; removed column fax" in lines
    assert not any("schema of customers" in line for line in lines)
    row = next(r for r in audit_rows(settings) if r["job_id"] == "orders")
    assert row["schema_changed"] == "true"
    assert row["schema_changes"] == "added column discount; removed column fax"


def test_rich_progress_runs_on_a_terminal(settings: Settings) -> None:
    from io import StringIO

    from rich.console import Console

    from lakegate.ingest.summary import make_progress

    console = Console(file=StringIO(), force_terminal=True, width=120)
    with make_progress(console) as progress:
        report = run(
            settings, [job("a"), job("b")], job_fn=FakeLoads(fail={"b"}), progress=progress
        )
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "a: 10 rows, 1 files" in text
    assert "job b failed: table 'b' does not exist" in text
    assert report.exit_code == ExitCode.FAILED
