"""Step functions that hand a planned step to the ingestion or the quality engine.

Nothing here loads a table or evaluates a check: an ingest table becomes an
:class:`~lakegate.ingest.models.IngestJob` given to
:func:`lakegate.ingest.pipeline.run_job`, a quality step a rule set given to
:func:`lakegate.quality.service.check`. Connection credentials come from the catalog
(platform connections, secrets decrypted there and registered for redaction) and reach
the pipeline through a per-step, per-tenant source key (:mod:`lakegate.jobs.credentials`),
never through process-wide environment variables.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import TYPE_CHECKING, Any

from lakegate.errors import LakegateError, QuotaExceededError
from lakegate.ingest.models import IngestJob, LoadResult
from lakegate.jobs.checks import build_rule_set
from lakegate.jobs.credentials import scoped_source
from lakegate.jobs.models import IngestStep, QualityStep
from lakegate.observability.redact import register_secret

if TYPE_CHECKING:
    from lakegate.jobs.runner import PlannedStep, StepContext, StepOutcome


@dataclass(frozen=True)
class SourceConnection:
    """A tenant connection resolved for one step: its name, type, config and secrets."""

    name: str
    type: str
    config: dict[str, Any]
    secrets: dict[str, str] = field(repr=False)


def resolve_connection(context: StepContext, name: str) -> SourceConnection:
    """The tenant's connection ``name``, secrets decrypted by the connections service."""
    from lakegate.connections import service

    with context.sessions() as session:
        resolved = service.resolve(session, context.tenant, name, context.settings)
    for value in resolved.secrets.values():
        register_secret(value)
    return SourceConnection(name, resolved.type, dict(resolved.config), dict(resolved.secrets))


def ingest_job(
    context: StepContext, planned: PlannedStep, connection: SourceConnection, source_name: str
) -> IngestJob:
    """The ingestion engine's job for one table of an ingest step."""
    assert isinstance(planned.step, IngestStep) and planned.table is not None
    table = planned.table
    return IngestJob(
        job_id=f"{context.job.name}.{table.target}",
        source_type=connection.type,
        source_name=source_name,
        schema_name=table.schema_name,
        table_name=table.table,
        load_type=table.load_type,
        watermark_column=table.watermark_column,
        primary_key=list(table.primary_key),
        target_table=table.target_table,
        chunk_size=table.chunk_size,
        columns=table.columns,
        backend=table.backend,
        lag=table.lag,
        schema_contract=table.schema_contract,
        description=context.job.description,
    )


def _load_result_dict(result: LoadResult) -> dict[str, Any]:
    data = asdict(result) if is_dataclass(result) else dict(vars(result))
    for key in ("started_at", "finished_at"):
        if data.get(key) is not None:
            data[key] = data[key].isoformat()
    data["duration_s"] = result.duration_s
    return {key: value for key, value in data.items() if key != "extra"}


_locks_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


@contextmanager
def _pipeline_lock(context: StepContext, key: str) -> Iterator[None]:
    """One load at a time per dlt pipeline in this process (two runs of one job queue here).

    Waiting stays responsive to cancel and timeout through the run's checkpoint.
    """
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    while not lock.acquire(timeout=0.2):
        context.checkpoint()
    try:
        yield
    finally:
        lock.release()


def _load(
    context: StepContext, job: IngestJob, tags: dict[str, str], progress: Any
) -> LoadResult | StepOutcome:
    from lakegate.ingest import pipeline
    from lakegate.jobs.runner import StepOutcome

    try:
        return pipeline.run_job(
            job,
            lake=context.lake,
            settings=context.settings,
            run_id=context.run_id,
            tags=tags,
            progress=progress,
        )
    except LakegateError as exc:  # configuration the engine refuses (missing fields...)
        return StepOutcome("failed", error=exc.message)


def dataset_quota_error(context: StepContext, dataset: str) -> str | None:
    """The one-line reason ``dataset`` is over the tenant's ``max_dataset_bytes``, if it is.

    The size is what the dataset's files take in the tenant's lake prefix.
    """
    from lakegate.tenants.quotas import check_dataset_size

    path = context.lake.path(dataset)

    def size() -> int:
        return int(context.lake.fs.du(path)) if context.lake.fs.exists(path) else 0

    try:
        with context.sessions() as session:
            check_dataset_size(context.tenant, session, size)
    except QuotaExceededError as exc:
        return exc.message
    return None


def run_ingest_table(context: StepContext, planned: PlannedStep) -> StepOutcome:
    """Load one table through :func:`lakegate.ingest.pipeline.run_job`."""
    from lakegate.jobs.runner import RunInterruptedError, StepOutcome

    assert isinstance(planned.step, IngestStep)
    try:
        connection = resolve_connection(context, planned.step.connection)
    except LakegateError as exc:  # deleted since the job was written, bad secret key...
        return StepOutcome("failed", error=exc.message)
    tags = {
        "tenant_id": context.tenant.id,
        "job_id": context.job_id,
        "run_id": context.run_id,
        "environment": context.tenant.environment,
        "source": connection.name,
    }

    def progress(_job_id: str, _rows: int) -> None:
        context.checkpoint()  # lets a cancel or timeout stop the extraction between chunks

    with scoped_source(
        context.tenant.id, connection.name, connection.config, connection.secrets
    ) as source_name:
        job = ingest_job(context, planned, connection, source_name)
        with _pipeline_lock(context, f"{context.lake.url}|{source_name}|{job.job_id}"):
            result = _load(context, job, tags, progress)
        if isinstance(result, StepOutcome):
            return result
    if context.token.stopped:  # the engine turned our stop into a failed load: say why
        raise RunInterruptedError(context.token.reason or "cancel")
    summary = _load_result_dict(result)
    if result.status != "success":
        return StepOutcome("failed", rows=result.rows_loaded, result=summary, error=result.error)
    # Checked after the load (a source's size is not known before reading it): the files
    # loaded stay intact, but the run fails and no later step works on the oversized table.
    over_quota = dataset_quota_error(context, job.target)
    if over_quota:
        return StepOutcome("failed", rows=result.rows_loaded, result=summary, error=over_quota)
    return StepOutcome("succeeded", rows=result.rows_loaded, result=summary)


def run_quality_step(context: StepContext, planned: PlannedStep) -> StepOutcome:
    """Validate a dataset of the tenant's lake with :func:`lakegate.quality.service.check`."""
    from lakegate.jobs.runner import StepOutcome
    from lakegate.quality import service

    step = planned.step
    assert isinstance(step, QualityStep)
    rules = build_rule_set(step.dataset, step.checks)
    context.checkpoint()
    if not context.lake.exists(step.dataset):
        # Checked here so the quality engine never falls back to a local path of the server.
        return StepOutcome("failed", error=f"dataset {step.dataset!r} is not in the tenant's lake")
    over_quota = dataset_quota_error(context, step.dataset)
    if over_quota:  # refused before the engine scans it
        return StepOutcome("failed", error=over_quota)
    result = service.check(rules, step.dataset, settings=context.settings, lake=context.lake)
    data: dict[str, Any] = result.to_dict()
    checks = []
    for check in result.checks:
        item = check.to_dict()
        item["severity"] = getattr(check, "severity", "error")
        item["message"] = getattr(check, "message", None)
        item["value"] = item.get("observed_value")
        checks.append(item)
    failed = [
        c["name"] for c in checks if c["severity"] == "error" and c["status"] in ("fail", "error")
    ]
    summary = {key: value for key, value in data.items() if key != "checks"}
    summary["failed_checks"] = failed
    if failed:
        error = f"error-severity checks failed on {step.dataset}: {', '.join(failed)}"
        return StepOutcome(
            "failed", rows=data.get("rows"), result=summary, error=error, quality_checks=checks
        )
    return StepOutcome("succeeded", rows=data.get("rows"), result=summary, quality_checks=checks)


__all__ = [
    "dataset_quota_error",
    "ingest_job",
    "resolve_connection",
    "run_ingest_table",
    "run_quality_step",
]
