"""Trigger runs and read them, tenant-scoped: what every door (API, CLI, schedule) calls.

:func:`trigger_run` answers an idempotent replay before it spends quota, then admits the
run through the tenant's quotas and records it ``queued``; the caller submits it to an
executor after the commit. Reads never return another tenant's run (404 instead).
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from lakegate.catalog.models.runs import QualityResult, Run, RunLog
from lakegate.catalog.models.tenants import Tenant
from lakegate.errors import ConfigError, NotFoundError
from lakegate.jobs import callbacks, manager, registry
from lakegate.jobs.manager import CreatedRun, as_utc

MAX_PAGE = 200
_STATUS_ORDER = {"error": 0, "fail": 1, "warn": 2, "pass": 3}


def trigger_run(
    session: Session,
    tenant: Tenant,
    job_ref: str,
    *,
    limiter: Any | None,
    trigger: str = "api",
    idempotency_key: str | None = None,
    parameters: dict[str, Any] | None = None,
    callback_uri: str | None = None,
    trace_id: str | None = None,
) -> CreatedRun:
    """Queue a run of the job's latest version and commit (or return the idempotent twin).

    ``limiter`` is the quota rate limiter (``app.state.quotas`` in the API): a tenant over
    its quota gets QuotaExceededError (429 with Retry-After). An idempotent replay does
    not count against the quota.
    """
    from lakegate.tenants.quotas import RunRateLimiter, acquire_run_slot

    job = registry.get_job(session, tenant.id, job_ref)
    if idempotency_key is not None:
        existing = manager.find_by_idempotency_key(session, tenant.id, job.id, idempotency_key)
        if existing is not None:
            return CreatedRun(existing, created=False)
    acquire_run_slot(tenant, session, limiter or RunRateLimiter())
    created = manager.create_run(
        session,
        job,
        trigger=trigger,
        idempotency_key=idempotency_key,
        parameters=parameters,
        callback_uri=callback_uri,
        trace_id=trace_id,
    )
    session.commit()
    return created


def get_run(session: Session, tenant: Tenant, run_id: str) -> Run:
    """A run of the tenant with its steps and quality results (404 otherwise)."""
    run = session.scalars(
        select(Run)
        .where(Run.id == run_id, Run.tenant_id == tenant.id)
        .options(selectinload(Run.steps), selectinload(Run.quality_results))
    ).one_or_none()
    if run is None:
        raise NotFoundError(f"run {run_id!r} not found")
    return run


def cancel_run(session: Session, tenant: Tenant, run_id: str) -> Run:
    """Request the cancel of a tenant's run (idempotent) and commit."""
    run = get_run(session, tenant, run_id)
    was_queued = run.status == "queued"
    manager.request_cancel(session, run)
    session.commit()
    if was_queued and run.status == "cancelled" and run.callback_uri:
        # No worker will pick it up to report it; do not hold the request for the callback.
        threading.Thread(target=callbacks.notify, args=(run,), daemon=True).start()
    return get_run(session, tenant, run_id)


def run_logs(session: Session, tenant: Tenant, run_id: str, *, limit: int = 1000) -> list[RunLog]:
    """The run's log lines, oldest first."""
    get_run(session, tenant, run_id)
    return list(
        session.scalars(
            select(RunLog).where(RunLog.run_id == run_id).order_by(RunLog.id).limit(limit)
        )
    )


def encode_cursor(run: Run) -> str:
    """Opaque keyset cursor after ``run`` (its created_at and id)."""
    created = as_utc(run.created_at)
    assert created is not None
    raw = f"{created.isoformat()}|{run.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """``(created_at, id)`` of a cursor; ConfigError (422) when it was not made by us."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, run_id = raw.split("|", 1)
        created = datetime.fromisoformat(stamp)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError("cursor: not a cursor returned by this API") from exc
    if not run_id or created.tzinfo is None:
        raise ConfigError("cursor: not a cursor returned by this API")
    return created.astimezone(UTC), run_id


@dataclass(frozen=True)
class RunPage:
    """One page of runs, newest first; ``next_cursor`` is None on the last page."""

    items: Sequence[Run]
    next_cursor: str | None


def list_runs(
    session: Session,
    tenant: Tenant,
    *,
    job_id: str | None = None,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> RunPage:
    """The tenant's runs, newest first, keyset-paginated on ``(created_at, id)``."""
    limit = max(1, min(limit, MAX_PAGE))
    query = select(Run).where(Run.tenant_id == tenant.id)
    if job_id is not None:
        query = query.where(Run.job_id == job_id)
    if status is not None:
        query = query.where(Run.status == status)
    if cursor is not None:
        created, run_id = decode_cursor(cursor)
        if session.get_bind().dialect.name == "sqlite":
            created = created.replace(tzinfo=None)  # SQLite stores naive UTC text
        query = query.where(
            or_(Run.created_at < created, and_(Run.created_at == created, Run.id < run_id))
        )
    query = query.order_by(Run.created_at.desc(), Run.id.desc()).limit(limit + 1)
    query = query.options(selectinload(Run.steps), selectinload(Run.quality_results))
    rows = list(session.scalars(query))
    more = len(rows) > limit
    items = rows[:limit]
    return RunPage(items, encode_cursor(items[-1]) if more and items else None)


def quality_summary(results: Sequence[QualityResult]) -> dict[str, Any]:
    """``{status, checks: [...]}`` of a run: the worst check status, every check result."""
    checks = [
        {
            "step_id": r.step_id,
            "dataset": r.dataset,
            "name": r.check_name,
            "type": r.check_type,
            "column": r.column,
            "severity": r.severity,
            "status": r.status,
            "value": r.value,
            "message": r.message,
        }
        for r in results
    ]
    statuses = [c["status"] for c in checks if c["status"] in _STATUS_ORDER]
    status = min(statuses, key=_STATUS_ORDER.__getitem__) if statuses else None
    return {"status": status, "checks": checks}
