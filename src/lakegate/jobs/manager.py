"""Every state change of a run, in one place.

Routes, the executor and the runner never assign ``Run.status`` themselves: they call
these functions, which check the move against :mod:`lakegate.jobs.states`, stamp the
timestamps and write a log line. Functions take a :class:`~sqlalchemy.orm.Session` and
flush; the caller owns the transaction (commits) — except :func:`claim`, whose
conditional UPDATE is the lock that stops two workers running the same run.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lakegate.catalog.base import utcnow
from lakegate.catalog.models.jobs import JobDefinition, JobVersion
from lakegate.catalog.models.runs import QualityResult, Run, RunLog, RunStep
from lakegate.errors import NotFoundError
from lakegate.jobs.states import (
    ACTIVE,
    IllegalTransitionError,
    RunStatus,
    can_transition,
    check_transition,
    is_terminal,
)
from lakegate.observability.redact import redact

log = structlog.get_logger(__name__)

STALE_HEARTBEAT = timedelta(minutes=5)
"""A run whose worker has not beaten for this long is considered orphaned at start-up."""
_MAX_ERROR = 2000


def worker_id() -> str:
    """This process as ``<host>:<pid>``: who claimed a run."""
    return f"{socket.gethostname()}:{os.getpid()}"


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; the catalog stores UTC, so label them."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _one_line(text: str | None) -> str | None:
    if text is None:
        return None
    line = redact(" ".join(str(text).split()))
    return line if len(line) <= _MAX_ERROR else line[: _MAX_ERROR - 1] + "…"


def _cut(value: Any, size: int) -> str | None:
    return None if value is None else str(value)[:size]


def add_log(session: Session, run_id: str, message: str, *, level: str = "info") -> None:
    """Append a (redacted) log line to a run."""
    session.add(RunLog(run_id=run_id, level=level, message=_one_line(message) or ""))


@dataclass(frozen=True)
class CreatedRun:
    """A run returned by :func:`create_run`; ``created`` is False for an idempotent replay."""

    run: Run
    created: bool


def find_by_idempotency_key(session: Session, tenant_id: str, job_id: str, key: str) -> Run | None:
    """The run created earlier with this Idempotency-Key for this job, if any."""
    return session.scalars(
        select(Run).where(
            Run.tenant_id == tenant_id, Run.job_id == job_id, Run.idempotency_key == key
        )
    ).one_or_none()


def create_run(
    session: Session,
    job: JobDefinition,
    *,
    trigger: str = "api",
    idempotency_key: str | None = None,
    parameters: dict[str, Any] | None = None,
    callback_uri: str | None = None,
    trace_id: str | None = None,
) -> CreatedRun:
    """Record a queued run of the job's latest version (or return the idempotent twin).

    The unique constraint on ``(tenant_id, job_id, idempotency_key)`` settles a race
    between two requests with the same key: the loser gets the winner's run.
    """
    if idempotency_key is not None:
        existing = find_by_idempotency_key(session, job.tenant_id, job.id, idempotency_key)
        if existing is not None:
            return CreatedRun(existing, created=False)
    version = session.scalars(
        select(JobVersion).where(
            JobVersion.job_id == job.id, JobVersion.version == job.latest_version
        )
    ).one()
    run = Run(
        tenant_id=job.tenant_id,
        job_id=job.id,
        job_version_id=version.id,
        job_version=version.version,
        status=RunStatus.queued.value,
        trigger=trigger,
        idempotency_key=idempotency_key,
        parameters=dict(parameters or {}),
        callback_uri=callback_uri,
        trace_id=trace_id,
        timeout_s=version.spec.get("timeout_s"),
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        if idempotency_key is None:
            raise
        existing = find_by_idempotency_key(session, job.tenant_id, job.id, idempotency_key)
        if existing is None:
            raise
        return CreatedRun(existing, created=False)
    add_log(session, run.id, f"run queued (trigger {trigger}, job version {version.version})")
    log.info("run.queued", run_id=run.id, job_id=job.id, version=version.version)
    return CreatedRun(run, created=True)


def get_run(session: Session, run_id: str) -> Run:
    """A run by id (NotFoundError otherwise)."""
    run = session.get(Run, run_id)
    if run is None:
        raise NotFoundError(f"run {run_id!r} not found")
    return run


def transition(session: Session, run: Run, target: RunStatus, *, error: str | None = None) -> Run:
    """Move ``run`` to ``target`` and flush; IllegalTransitionError when not allowed.

    The write is a compare-and-set on the status the caller saw, so the executor's
    watchdog (timeout), an API cancel and the runner (finish) cannot overwrite each
    other: the loser re-reads the row and the move is checked again from there.
    """
    for _ in range(3):
        expected = run.status
        status = check_transition(expected, target)
        now = utcnow()
        values: dict[str, Any] = {"status": status.value}
        if status is RunStatus.running and run.started_at is None:
            values["started_at"] = now
        if is_terminal(status):
            values["finished_at"] = now
            if run.started_at is None:
                values["started_at"] = now
        if error is not None:
            values["error"] = _one_line(error)
        if status is RunStatus.cancelling or (
            status is RunStatus.cancelled and run.cancel_requested_at is None
        ):
            values["cancel_requested_at"] = now
        session.flush()
        result = session.execute(
            update(Run)
            .where(Run.id == run.id, Run.status == expected)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.refresh(run)
        if getattr(result, "rowcount", 0):
            add_log(
                session,
                run.id,
                f"status {status.value}" + (f": {run.error}" if error else ""),
                level="error" if status in {RunStatus.failed, RunStatus.timed_out} else "info",
            )
            session.flush()
            log.info("run.status", run_id=run.id, status=status.value)
            return run
    raise IllegalTransitionError(f"run {run.id} changed concurrently; could not set {target}")


def claim(session: Session, run_id: str, *, worker: str | None = None) -> bool:
    """Atomically move a queued run to running for this worker; False if someone else did.

    Commits: the conditional UPDATE is what makes two workers (or two processes sharing a
    PostgreSQL catalog) unable to run the same run twice.
    """
    now = utcnow()
    result = session.execute(
        update(Run)
        .where(Run.id == run_id, Run.status == RunStatus.queued.value)
        .values(
            status=RunStatus.running.value,
            started_at=now,
            heartbeat_at=now,
            worker=worker or worker_id(),
        )
        .execution_options(synchronize_session=False)
    )
    claimed = bool(getattr(result, "rowcount", 0))
    if claimed:
        add_log(session, run_id, f"status running (worker {worker or worker_id()})")
    session.commit()
    return claimed


def heartbeat(session: Session, run_id: str) -> str:
    """Stamp the run's heartbeat and return its current status (commits)."""
    session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    status = session.scalar(select(Run.status).where(Run.id == run_id))
    session.commit()
    return str(status)


def request_cancel(session: Session, run: Run) -> Run:
    """Cancel a run; idempotent.

    A queued run is cancelled at once; a running one becomes ``cancelling`` and the
    worker stops it at its next checkpoint; a cancelling or finished run is left as is.
    """
    for _ in range(3):
        try:
            if run.status == RunStatus.queued.value:
                return transition(
                    session, run, RunStatus.cancelled, error="cancelled before it started"
                )
            if run.status == RunStatus.running.value:
                return transition(session, run, RunStatus.cancelling)
            return run
        except IllegalTransitionError:
            session.refresh(run)  # it moved meanwhile (claimed or finished): look again
    return run


def finish(session: Session, run: Run, target: RunStatus, *, error: str | None = None) -> Run:
    """End a run in ``target`` unless it already ended (e.g. the watchdog timed it out).

    Work that completes after a cancel request ends ``cancelled``, not ``succeeded``.
    """
    session.refresh(run)
    for _ in range(4):
        if is_terminal(run.status):
            return run
        goal, why = target, error
        if goal is RunStatus.succeeded and run.status == RunStatus.cancelling.value:
            goal, why = RunStatus.cancelled, "cancelled"
        if goal is RunStatus.cancelled and run.status == RunStatus.running.value:
            goal, why = RunStatus.cancelling, None  # cancelled is reached through cancelling
        elif not can_transition(run.status, goal):
            goal, why = RunStatus.failed, why or f"could not end as {target.value}"
        try:
            if goal is RunStatus.cancelling:
                transition(session, run, goal)
                continue
            return transition(session, run, goal, error=why)
        except IllegalTransitionError:
            session.refresh(run)
    return run


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def is_orphaned(run: Run, *, now: datetime | None = None) -> bool:
    """True when no live process can be executing ``run``.

    Its worker is this host and that pid is gone (or is us: we just started and run
    nothing), or it has no worker, or its heartbeat is older than :data:`STALE_HEARTBEAT`.
    """
    now = now or utcnow()
    if not run.worker:
        return True
    host, _, pid_text = run.worker.rpartition(":")
    if host == socket.gethostname() and pid_text.isdigit():
        pid = int(pid_text)
        return pid == os.getpid() or not _pid_alive(pid)
    beat = as_utc(run.heartbeat_at or run.started_at)
    return beat is None or now - beat > STALE_HEARTBEAT


def recover_orphans(session: Session) -> list[str]:
    """Fail the runs a crashed process left running (cancel the ones being cancelled).

    Called by the executor at start-up; returns the ids it ended. Commits.
    """
    ended: list[str] = []
    active = [status.value for status in ACTIVE]
    for run in session.scalars(select(Run).where(Run.status.in_(active))).all():
        if not is_orphaned(run):
            continue
        if run.status == RunStatus.cancelling.value:
            transition(session, run, RunStatus.cancelled, error="cancelled (worker process died)")
        else:
            transition(
                session,
                run,
                RunStatus.failed,
                error=f"worker process {run.worker or '?'} died while the run was running",
            )
        for step in run.steps:
            if step.status in {"pending", "running"}:
                step.status = "failed" if step.status == "running" else "skipped"
                step.finished_at = step.finished_at or utcnow()
        ended.append(run.id)
    session.commit()
    if ended:
        log.warning("runs.recovered", count=len(ended), run_ids=ended)
    return ended


def queued_run_ids(session: Session) -> list[str]:
    """Ids of every queued run, oldest first (re-submitted by the executor at start-up)."""
    return list(
        session.scalars(
            select(Run.id).where(Run.status == RunStatus.queued.value).order_by(Run.created_at)
        )
    )


def plan_steps(session: Session, run: Run, steps: Iterable[tuple[str, str]]) -> list[RunStep]:
    """Record the run's steps as pending, in order: ``(type, name)`` pairs."""
    rows = [
        RunStep(run_id=run.id, position=index, type=kind, name=name, status="pending", result={})
        for index, (kind, name) in enumerate(steps)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def start_step(session: Session, step: RunStep) -> None:
    """Mark a step running."""
    step.status = "running"
    step.started_at = utcnow()
    add_log(session, step.run_id, f"step {step.position} {step.type} {step.name}: started")
    session.flush()


def finish_step(
    session: Session,
    step: RunStep,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    rows: int | None = None,
    error: str | None = None,
) -> None:
    """Record a step's outcome (succeeded | failed | skipped | cancelled)."""
    step.status = status
    step.finished_at = utcnow()
    started = as_utc(step.started_at)
    if started is not None:
        step.duration_s = round((step.finished_at - started).total_seconds(), 3)
    if result is not None:
        step.result = result
    step.rows = rows
    step.error = _one_line(error)
    message = f"step {step.position} {step.type} {step.name}: {status}"
    if rows is not None:
        message += f" ({rows} rows)"
    if step.error:
        message += f": {step.error}"
    add_log(session, step.run_id, message, level="error" if status == "failed" else "info")
    session.flush()


def record_quality(
    session: Session, step: RunStep, dataset: str, checks: Iterable[dict[str, Any]]
) -> None:
    """Store one quality_results row per check of a quality step."""
    for check in checks:
        session.add(
            QualityResult(
                run_id=step.run_id,
                step_id=step.id,
                # user-chosen names are cut to the column sizes (PostgreSQL enforces them)
                dataset=dataset[:400],
                check_name=str(check.get("name") or check.get("check") or "check")[:400],
                check_type=_cut(check.get("type"), 80),
                column=_cut(check.get("column"), 200),
                severity=str(check.get("severity") or "error")[:20],
                status=str(check.get("status") or "error")[:20],
                value=check.get("value", check.get("observed")),
                message=_one_line(check.get("message")),
            )
        )
    session.flush()
