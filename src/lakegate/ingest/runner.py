"""Run many ingestion jobs: a bounded pool, quality gating, the audit, one report.

:func:`run_jobs` is the one place that runs a set of :class:`IngestJob` s, whoever asks
(``lakegate ingest``, ``lakegate demo``, ``python -m lakegate``). Each job runs in a
worker thread through ``job_fn`` (:func:`lakegate.ingest.pipeline.run_job` unless another
function with the same signature is given); a job that fails, even by raising, becomes a
failed :class:`LoadResult` and the others go on. After a successful load of a job with a
``rules_file`` the quality checks run through ``check_fn``
(:func:`lakegate.quality.service.check`); a failing error-severity check fails the job.
Results are written to the audit from the calling thread only, so the audit has one
writer per run.
"""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from lakegate.errors import ExitCode, LakegateError
from lakegate.ingest.audit import AuditLog, one_line
from lakegate.ingest.models import IngestJob, LoadResult, SourceType
from lakegate.ingest.pipeline import run_job
from lakegate.lake.storage import Lake
from lakegate.observability.logging import bind_correlation, get_logger
from lakegate.quality.service import check
from lakegate.settings import Settings

log = get_logger(__name__)

JobFunction = Callable[..., LoadResult]
"""Signature of :func:`lakegate.ingest.pipeline.run_job`:
``(job, *, lake, settings, run_id, tags, progress) -> LoadResult``."""

CheckFunction = Callable[..., Any]
"""Signature of :func:`lakegate.quality.service.check`:
``(rules, dataset, *, settings, lake) -> result with .status and .checks``."""

DQ_FAILED = frozenset({"warn", "fail", "failed", "error"})
"""Check statuses listed in ``dq_failed_checks`` (every check that did not pass)."""

_SQL = (
    "lakegate.ingest.sql_source",
    "dlt.sources.sql_database",
    "dlt.sources.sql_database.helpers",
)
_PRELOAD: dict[str, tuple[str, ...]] = {
    "always": (
        "pyarrow",
        "pyarrow.parquet",
        "pyarrow.compute",
        "dlt",
        "dlt.common.normalizers.naming.snake_case",
        "lakegate.ingest.destination",
    ),
    SourceType.postgresql: (*_SQL, "sqlalchemy.dialects.postgresql", "connectorx", "psycopg"),
    SourceType.mysql: (*_SQL, "sqlalchemy.dialects.mysql", "connectorx", "pymysql"),
    SourceType.sqlite: (*_SQL, "sqlalchemy.dialects.sqlite"),
    SourceType.mssql: (*_SQL, "sqlalchemy.dialects.mssql", "pymssql"),
    SourceType.oracle: (*_SQL, "sqlalchemy.dialects.oracle", "oracledb"),
    SourceType.rest_api: ("lakegate.ingest.rest_source", "dlt.sources.rest_api"),
    "quality": ("duckdb", "lakegate.quality.engines.duckdb", "lakegate.quality.registry"),
}
"""Modules the real pipeline and quality engine import lazily, imported up front.

Two threads importing the same package for the first time can be handed a partially
initialised module (Python breaks import-lock cycles that way): seen as ``partially
initialized module 'pyarrow' has no attribute 'Table'`` when three jobs started at
once. Importing them in the calling thread before the pool starts avoids it."""


class RunProgress(Protocol):
    """Receives what happens while jobs run (called from worker threads)."""

    def job_started(self, job: IngestJob) -> None:
        """``job`` left the queue and started."""

    def job_rows(self, job_id: str, rows: int) -> None:
        """``job_id`` has extracted ``rows`` rows so far."""

    def job_finished(self, result: LoadResult) -> None:
        """A job ended (success or failed); called from the runner's thread."""


class _NoProgress:
    def job_started(self, job: IngestJob) -> None:
        pass

    def job_rows(self, job_id: str, rows: int) -> None:
        pass

    def job_finished(self, result: LoadResult) -> None:
        pass


@dataclass
class RunReport:
    """The outcome of one :func:`run_jobs` call."""

    run_id: str
    results: list[LoadResult] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    audit_path: str | None = None
    audit_errors: list[str] = field(default_factory=list)
    """Audit rows that could not be written (the jobs' results are still in ``results``)."""

    @property
    def failed(self) -> list[LoadResult]:
        """Results of the jobs that failed."""
        return [r for r in self.results if r.status != "success"]

    @property
    def exit_code(self) -> ExitCode:
        """0 when every job succeeded, 1 when any failed."""
        return ExitCode.FAILED if self.failed or self.audit_errors else ExitCode.OK

    @property
    def status(self) -> str:
        """``success`` or ``failed``."""
        return "failed" if self.failed or self.audit_errors else "success"


def run_jobs(
    jobs: Sequence[IngestJob],
    *,
    settings: Settings,
    lake: Lake | None = None,
    workers: int | None = None,
    run_id: str | None = None,
    job_fn: JobFunction = run_job,
    check_fn: CheckFunction = check,
    audit: AuditLog | None = None,
    progress: RunProgress | None = None,
    tags: Mapping[str, str] | None = None,
) -> RunReport:
    """Run ``jobs`` in at most ``workers`` threads and return the report.

    ``lake`` defaults to ``settings.lake.url``, ``workers`` to ``settings.workers``,
    ``audit`` to the daily audit under ``settings.metadata_dir``. Never raises for a job's
    own failure; the report's ``exit_code`` says whether everything succeeded.
    """
    lake = lake or Lake.from_url(settings.lake.url, settings)
    audit = audit or AuditLog.from_settings(settings)
    progress = progress or _NoProgress()
    report = RunReport(run_id=run_id or new_run_id())
    pool_size = max(1, min(workers or settings.workers, len(jobs) or 1))
    base_tags = {"run_id": report.run_id, "environment": settings.environment, **(tags or {})}

    def one(job: IngestJob) -> LoadResult:
        with bind_correlation(run_id=report.run_id, job_id=job.job_id):
            progress.job_started(job)
            result = _load(job, job_fn, lake, settings, report.run_id, base_tags, progress)
            if result.status == "success" and job.rules_file:
                _validate(job, result, check_fn, settings, lake)
            return result

    if job_fn is run_job or check_fn is check:
        preload_modules(jobs, pipeline=job_fn is run_job, quality=check_fn is check)
    order = {job.job_id: i for i, job in enumerate(jobs)}
    with ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="lakegate-job") as pool:
        pending: set[Future[LoadResult]] = {pool.submit(one, job) for job in jobs}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    result = future.result()
                    report.results.append(result)
                    try:
                        report.audit_path = audit.write(result)
                    except LakegateError as exc:
                        # An unwritable audit must not stop jobs that are already loading.
                        report.audit_errors.append(one_line(f"job {result.job_id}: {exc}"))
                    progress.job_finished(result)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    report.results.sort(key=lambda r: order.get(r.job_id, len(order)))
    report.finished_at = datetime.now(UTC)
    return report


def preload_modules(
    jobs: Sequence[IngestJob], *, pipeline: bool = True, quality: bool = True
) -> None:
    """Import what the jobs' loads and checks will import, in this thread (see ``_PRELOAD``)."""
    import importlib

    names: list[str] = []
    if pipeline:
        names.extend(_PRELOAD["always"])
        for source_type in dict.fromkeys(job.source_type for job in jobs):
            names.extend(_PRELOAD.get(source_type, ()))
    if quality and any(job.rules_file for job in jobs):
        names.extend(_PRELOAD["quality"])
    for name in dict.fromkeys(names):
        try:
            importlib.import_module(name)
        except ImportError:  # an optional driver that is not installed: its jobs will say so
            continue


def new_run_id() -> str:
    """A sortable, unique run id: ``YYYYMMDDTHHMMSSZ-<8 hex>``."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def _load(
    job: IngestJob,
    job_fn: JobFunction,
    lake: Lake,
    settings: Settings,
    run_id: str,
    tags: Mapping[str, str],
    progress: RunProgress,
) -> LoadResult:
    started = datetime.now(UTC)
    try:
        result = job_fn(
            job,
            lake=lake,
            settings=settings,
            run_id=run_id,
            tags={**tags, "job_id": job.job_id, "source": job.source_name},
            progress=progress.job_rows,
        )
    except Exception as exc:  # a job function should not raise; one that does fails alone
        message = str(exc) if isinstance(exc, LakegateError) else f"{type(exc).__name__}: {exc}"
        log.debug("job raised", error=one_line(message))
        result = LoadResult(
            run_id=run_id,
            job_id=job.job_id,
            source_name=job.source_name,
            table_name=job.target,
            load_type=str(job.load_type),
            status="failed",
            watermark_column=job.watermark_column,
            error=one_line(message),
            extra={"traceback": traceback.format_exc()},
        )
    result.started_at = result.started_at or started
    result.finished_at = result.finished_at or datetime.now(UTC)
    result.error = _without_job_prefix(one_line(result.error), job.job_id) or None
    if result.status != "success" and not result.error:
        result.error = "failed without an error message"
    return result


def _validate(
    job: IngestJob,
    result: LoadResult,
    check_fn: CheckFunction,
    settings: Settings,
    lake: Lake,
) -> None:
    """Run the job's quality rules on what was loaded and record the outcome in ``result``."""
    try:
        outcome = check_fn(job.rules_file, dataset=job.target, settings=settings, lake=lake)
    except NotImplementedError as exc:
        # No quality engine in this build: the load stands, the audit says DQ did not run.
        result.dq_status = "error"
        result.extra["dq_error"] = one_line(f"quality engine unavailable: {exc}")
        return
    except Exception as exc:
        message = str(exc) if isinstance(exc, LakegateError) else f"{type(exc).__name__}: {exc}"
        result.dq_status = "error"
        result.extra["dq_error"] = one_line(message)
        result.status = "failed"
        result.error = one_line(f"quality checks could not run: {message}")
        return
    status = _text(_attr(outcome, "status")) or "error"
    checks = list(_attr(outcome, "checks") or [])
    result.dq_status = status
    result.dq_failed_checks = [
        _text(_attr(c, "name")) for c in checks if _text(_attr(c, "status")) in DQ_FAILED
    ]
    errored = [c for c in checks if _text(_attr(c, "status")) == "error"]
    if errored:
        result.extra["dq_error"] = one_line(
            "; ".join(
                f"{_text(_attr(c, 'name'))}: {_text(_attr(c, 'message')) or 'could not run'}"
                for c in errored
            )
        )
    # The quality result's own gate (exit_code: an error-severity check failed or could
    # not run) decides; a warn-severity check never fails the job.
    gate = _attr(outcome, "exit_code")
    failing = int(gate) != 0 if gate is not None else status in {"fail", "error"}
    if not failing:
        return
    result.status = "failed"
    blocking = [
        c
        for c in checks
        if _text(_attr(c, "status")) in DQ_FAILED and _text(_attr(c, "severity")) != "warn"
    ]
    failed = [_text(_attr(c, "name")) for c in blocking if _text(_attr(c, "status")) != "error"]
    broken = [_text(_attr(c, "name")) for c in blocking if _text(_attr(c, "status")) == "error"]
    parts = []
    if failed:
        parts.append(f"quality checks failed: {', '.join(failed)}")
    if broken:
        parts.append(f"quality checks could not run: {', '.join(broken)}")
    result.error = one_line("; ".join(parts) or f"quality status {status}")


def _without_job_prefix(error: str, job_id: str) -> str:
    """``job x: cause`` -> ``cause``: the job is named by its own column and line."""
    prefix = f"job {job_id}: "
    return error[len(prefix) :] if error.startswith(prefix) else error


def _attr(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _text(value: Any) -> str:
    value = getattr(value, "value", value)
    return "" if value is None else str(value)
