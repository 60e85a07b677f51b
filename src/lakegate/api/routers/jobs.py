"""``/jobs``: the tenant's job definitions, and ``POST /jobs/{id}/runs`` to trigger one.

Writing a job needs the ``admin`` role, triggering a run ``operator``, reading ``viewer``.
A job of another tenant answers 404. Every change of a job adds a version.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response, status

from lakegate.api.deps import (
    PrincipalDep,
    SessionDep,
    TenantDep,
    require_feature,
    require_role,
)
from lakegate.api.routers.runs import submit
from lakegate.api.schemas.jobs import JobIn, JobList, JobOut, JobVersionOut
from lakegate.api.schemas.runs import RunAccepted, RunCreate
from lakegate.jobs import registry
from lakegate.jobs import runs as run_service
from lakegate.jobs.models import JobDefinitionSpec

router = APIRouter(prefix="/jobs", tags=["jobs"])
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id of a W3C ``traceparent`` header (None when absent or malformed)."""
    match = _TRACEPARENT.match(traceparent.strip().lower()) if traceparent else None
    return match.group(1) if match else None


_admin = [Depends(require_role("admin"))]
_operator = [Depends(require_role("operator"))]
_viewer = [Depends(require_role("viewer"))]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such job for this tenant"}}
_INVALID: dict[int | str, dict[str, Any]] = {
    422: {"description": "Invalid job: the field path says where"}
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=_admin,
    summary="Create a job",
    responses={409: {"description": "A job with this name exists"}, **_INVALID},
)
def create_job(
    body: JobIn, tenant: TenantDep, session: SessionDep, principal: PrincipalDep, response: Response
) -> JobOut:
    """Store a job definition as version 1 (validated: connections, cron, check types)."""
    view = registry.create_job(session, tenant.id, body, created_by=principal.subject)
    out = JobOut.of(view)
    response.headers["Location"] = out.href
    return out


@router.get("", dependencies=_viewer, summary="List jobs")
def list_jobs(
    tenant: TenantDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=registry.MAX_PAGE)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
) -> JobList:
    """The tenant's jobs by name, latest version of each."""
    views = registry.list_jobs(session, tenant.id, limit=limit + 1, after=cursor)
    more = len(views) > limit
    views = views[:limit]
    return JobList(
        items=[JobOut.of(v) for v in views],
        next_cursor=views[-1].job.name if more and views else None,
    )


@router.get("/{job_id}", dependencies=_viewer, summary="Get a job", responses=_NOT_FOUND)
def get_job(job_id: str, tenant: TenantDep, session: SessionDep) -> JobOut:
    """A job (by id or name) with its latest version."""
    return JobOut.of(registry.get_job_view(session, tenant.id, job_id))


@router.put(
    "/{job_id}",
    dependencies=_admin,
    summary="Replace a job (adds a version)",
    responses={**_NOT_FOUND, **_INVALID, 409: {"description": "The new name is taken"}},
)
def update_job(
    job_id: str, body: JobIn, tenant: TenantDep, session: SessionDep, principal: PrincipalDep
) -> JobOut:
    """Store a new version when the document differs from the latest one."""
    return JobOut.of(
        registry.update_job(session, tenant.id, job_id, body, created_by=principal.subject)
    )


@router.delete(
    "/{job_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=_admin,
    summary="Delete a job",
    responses=_NOT_FOUND,
)
def delete_job(job_id: str, tenant: TenantDep, session: SessionDep) -> Response:
    """Remove a job from the API; its versions stay for the runs that reference them."""
    registry.delete_job(session, tenant.id, job_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{job_id}/versions",
    dependencies=_viewer,
    summary="List a job's versions",
    responses=_NOT_FOUND,
)
def list_versions(job_id: str, tenant: TenantDep, session: SessionDep) -> list[JobVersionOut]:
    """Every version of a job, oldest first."""
    return [
        JobVersionOut(
            version=v.version,
            created_at=v.created_at,
            created_by=v.created_by,
            definition=JobDefinitionSpec.model_validate(v.spec),
        )
        for v in registry.list_versions(session, tenant.id, job_id)
    ]


@router.post(
    "/{job_id}/runs",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[*_operator, Depends(require_feature("api_runs"))],
    summary="Trigger a run",
    responses={
        **_NOT_FOUND,
        403: {"description": "Role below operator, or the api_runs feature is off"},
        429: {"description": "Tenant quota exceeded (see Retry-After)"},
    },
)
def trigger_run(
    job_id: str,
    request: Request,
    response: Response,
    tenant: TenantDep,
    session: SessionDep,
    body: Annotated[RunCreate | None, Body()] = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="Same key, same job: the same run is returned, no second run starts.",
        ),
    ] = None,
) -> RunAccepted:
    """Queue a run of the job's latest version: ``202 {id, status, href}`` + ``Location``."""
    body = body or RunCreate()
    created = run_service.trigger_run(
        session,
        tenant,
        job_id,
        limiter=getattr(request.app.state, "quotas", None),
        idempotency_key=idempotency_key,
        parameters=body.parameters,
        callback_uri=str(body.callback_uri) if body.callback_uri else None,
        trace_id=trace_id_of(request.headers.get("traceparent")),
    )
    if created.created:
        submit(request.app, created.run.id)
    href = f"/api/v1/runs/{created.run.id}"
    response.headers["Location"] = href
    return RunAccepted(id=created.run.id, status=created.run.status, href=href)
