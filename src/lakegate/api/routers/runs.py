"""``/runs``: read, list, cancel runs and read their logs; owns the app's executor.

Reading needs the ``viewer`` role, cancelling ``operator``. A run of another tenant
answers 404. The in-process executor is started by :func:`on_startup` (called by the
app's lifespan): it first fails the runs a crashed process left running.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request

from lakegate.api.deps import SessionDep, TenantDep, require_role
from lakegate.api.schemas.runs import RUN_STATUSES, RunList, RunLogLine, RunLogs, RunOut
from lakegate.jobs import runs as run_service
from lakegate.jobs.executor import InProcessExecutor
from lakegate.observability.logging import get_logger

router = APIRouter(prefix="/runs", tags=["runs"])
_operator = [Depends(require_role("operator"))]
_viewer = [Depends(require_role("viewer"))]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such run for this tenant"}}
log = get_logger(__name__)

StatusFilter = Annotated[
    str | None,
    Query(pattern="^(" + "|".join(RUN_STATUSES) + ")$", description="Only runs in this status."),
]


def on_startup(app: FastAPI) -> None:
    """Start the executor (``app.state.executor``, built here unless a test set one)."""
    executor = getattr(app.state, "executor", None)
    if executor is None:
        settings = app.state.settings
        executor = InProcessExecutor(
            app.state.catalog.sessions, settings, max_workers=settings.run_workers
        )
        app.state.executor = executor
    recovered = executor.start()
    if recovered:
        log.warning("runs.recovered_at_startup", run_ids=recovered)


def on_shutdown(app: FastAPI) -> None:
    """Stop the executor: running runs end failed (interrupted), queued ones stay queued."""
    executor = getattr(app.state, "executor", None)
    if executor is not None:
        executor.shutdown()


def submit(app: FastAPI, run_id: str) -> None:
    """Hand a queued run to the app's executor (left queued when none runs: no lifespan)."""
    executor = getattr(app.state, "executor", None)
    if executor is not None:
        executor.submit(run_id)


@router.get("", dependencies=_viewer, summary="List runs")
def list_runs(
    tenant: TenantDep,
    session: SessionDep,
    job_id: Annotated[str | None, Query(max_length=64, description="Only this job's runs.")] = None,
    status: StatusFilter = None,
    limit: Annotated[int, Query(ge=1, le=run_service.MAX_PAGE)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=400, description="next_cursor of the previous page")
    ] = None,
) -> RunList:
    """The tenant's runs, newest first (keyset pagination)."""
    page = run_service.list_runs(
        session, tenant, job_id=job_id, status=status, limit=limit, cursor=cursor
    )
    return RunList(items=[RunOut.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{run_id}", dependencies=_viewer, summary="Get a run", responses=_NOT_FOUND)
def get_run(run_id: str, tenant: TenantDep, session: SessionDep) -> RunOut:
    """Status, steps, quality results and error of a run."""
    return RunOut.of(run_service.get_run(session, tenant, run_id))


@router.post(
    "/{run_id}:cancel", dependencies=_operator, summary="Cancel a run", responses=_NOT_FOUND
)
def cancel_run(run_id: str, tenant: TenantDep, session: SessionDep, request: Request) -> RunOut:
    """Cancel (idempotent): queued -> cancelled; running -> cancelling -> cancelled."""
    run = run_service.cancel_run(session, tenant, run_id)
    executor = getattr(request.app.state, "executor", None)
    if executor is not None:
        executor.cancel(run_id)
    return RunOut.of(run)


@router.get("/{run_id}/logs", dependencies=_viewer, summary="A run's log", responses=_NOT_FOUND)
def get_logs(
    run_id: str,
    tenant: TenantDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> RunLogs:
    """The run's log lines, oldest first (secrets masked)."""
    run = run_service.get_run(session, tenant, run_id)
    lines = run_service.run_logs(session, tenant, run_id, limit=limit)
    return RunLogs(run_id=run.id, status=run.status, lines=[RunLogLine.of(x) for x in lines])
