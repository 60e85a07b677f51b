"""Tenant-scoped job definitions: create, read, version on change, delete.

Every function takes the tenant id and never returns another tenant's job (a job of
another tenant is a :class:`~lakegate.errors.NotFoundError`, exactly like a missing one).
A change never edits a stored spec: :func:`update_job` adds a version row, so runs keep
pointing at the spec they executed. These functions are the service: they commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from lakegate.catalog.base import utcnow
from lakegate.catalog.models.connections import Connection
from lakegate.catalog.models.jobs import JobDefinition, JobVersion
from lakegate.errors import ConfigError, ConflictError, MultipleConfigError, NotFoundError
from lakegate.jobs.models import IngestStep, JobDefinitionSpec

MAX_PAGE = 200


@dataclass(frozen=True)
class JobView:
    """A job with its latest version, as the API shows it."""

    job: JobDefinition
    version: JobVersion

    @property
    def spec(self) -> JobDefinitionSpec:
        """The latest version's spec, parsed."""
        return JobDefinitionSpec.model_validate(self.version.spec)


def validate_references(session: Session, tenant_id: str, spec: JobDefinitionSpec) -> None:
    """Refuse a spec naming connections the tenant does not have (422 with the field path)."""
    names = {step.connection for step in spec.steps if isinstance(step, IngestStep)}
    if not names:
        return
    known = set(
        session.scalars(
            select(Connection.name).where(
                Connection.tenant_id == tenant_id, Connection.name.in_(names)
            )
        )
    )
    problems = [
        f"steps.{index}.connection: unknown connection {step.connection!r}"
        for index, step in enumerate(spec.steps)
        if isinstance(step, IngestStep) and step.connection not in known
    ]
    if len(problems) == 1:
        raise ConfigError(problems[0])
    if problems:
        raise MultipleConfigError(problems)


def _live_jobs(tenant_id: str) -> Select[JobDefinition]:
    return select(JobDefinition).where(
        JobDefinition.tenant_id == tenant_id, JobDefinition.deleted.is_(False)
    )


def _latest(session: Session, job: JobDefinition) -> JobVersion:
    return session.scalars(
        select(JobVersion).where(
            JobVersion.job_id == job.id, JobVersion.version == job.latest_version
        )
    ).one()


def _name_taken(session: Session, tenant_id: str, name: str, *, except_id: str | None) -> bool:
    query = _live_jobs(tenant_id).where(JobDefinition.name == name)
    if except_id is not None:
        query = query.where(JobDefinition.id != except_id)
    return session.scalars(query).first() is not None


def _version_row(
    job: JobDefinition, spec: JobDefinitionSpec, version: int, by: str | None
) -> JobVersion:
    return JobVersion(
        job_id=job.id,
        version=version,
        spec=spec.to_spec(),
        description=spec.description,
        schedule_cron=spec.schedule.cron if spec.schedule else None,
        schedule_timezone=spec.schedule.timezone if spec.schedule else None,
        created_by=by[:200] if by else None,
    )


def create_job(
    session: Session, tenant_id: str, spec: JobDefinitionSpec, *, created_by: str | None = None
) -> JobView:
    """Store a new job (version 1). 409 when the name is taken, 422 for unknown references."""
    validate_references(session, tenant_id, spec)
    if _name_taken(session, tenant_id, spec.name, except_id=None):
        raise ConflictError(f"a job named {spec.name!r} already exists")
    job = JobDefinition(tenant_id=tenant_id, name=spec.name, latest_version=1)
    session.add(job)
    session.flush()
    version = _version_row(job, spec, 1, created_by)
    session.add(version)
    session.commit()
    return JobView(job, version)


def get_job(session: Session, tenant_id: str, job_ref: str) -> JobDefinition:
    """A live job of the tenant by id or name (404 otherwise, also for other tenants')."""
    job = session.scalars(_live_jobs(tenant_id).where(JobDefinition.id == job_ref)).first()
    if job is None:
        job = session.scalars(_live_jobs(tenant_id).where(JobDefinition.name == job_ref)).first()
    if job is None:
        raise NotFoundError(f"job {job_ref!r} not found")
    return job


def get_job_view(session: Session, tenant_id: str, job_ref: str) -> JobView:
    """A job and its latest version."""
    job = get_job(session, tenant_id, job_ref)
    return JobView(job, _latest(session, job))


def list_jobs(
    session: Session, tenant_id: str, *, limit: int = 50, after: str | None = None
) -> list[JobView]:
    """The tenant's live jobs by name; ``after`` is the last name of the previous page."""
    query = _live_jobs(tenant_id).order_by(JobDefinition.name).limit(min(limit, MAX_PAGE))
    if after:
        query = query.where(JobDefinition.name > after)
    jobs = session.scalars(query).all()
    return [JobView(job, _latest(session, job)) for job in jobs]


def count_jobs(session: Session, tenant_id: str) -> int:
    """Number of live jobs of the tenant."""
    query = select(func.count()).select_from(_live_jobs(tenant_id).subquery())
    return int(session.scalar(query) or 0)


def update_job(
    session: Session,
    tenant_id: str,
    job_ref: str,
    spec: JobDefinitionSpec,
    *,
    created_by: str | None = None,
) -> JobView:
    """Replace a job's spec: a new version when it differs, the current one otherwise."""
    job = get_job(session, tenant_id, job_ref)
    latest = _latest(session, job)
    validate_references(session, tenant_id, spec)
    if spec.to_spec() == latest.spec:
        return JobView(job, latest)
    if spec.name != job.name and _name_taken(session, tenant_id, spec.name, except_id=job.id):
        raise ConflictError(f"a job named {spec.name!r} already exists")
    job.name = spec.name
    job.latest_version += 1
    version = _version_row(job, spec, job.latest_version, created_by)
    session.add(version)
    session.commit()
    return JobView(job, version)


def delete_job(session: Session, tenant_id: str, job_ref: str) -> None:
    """Delete a job: it disappears from the API, its versions stay for past runs.

    The name is freed (the row is renamed ``<name>~<id>``) so a new job may reuse it.
    """
    job = get_job(session, tenant_id, job_ref)
    job.deleted = True
    job.deleted_at = utcnow()
    job.name = f"{job.name}~{job.id}"[:200]
    session.commit()


def list_versions(session: Session, tenant_id: str, job_ref: str) -> Sequence[JobVersion]:
    """Every version of a job, oldest first."""
    job = get_job(session, tenant_id, job_ref)
    return session.scalars(
        select(JobVersion).where(JobVersion.job_id == job.id).order_by(JobVersion.version)
    ).all()


def get_version(session: Session, tenant_id: str, job_ref: str, version: int) -> JobVersion:
    """One version of a job (404 when it does not exist)."""
    job = get_job(session, tenant_id, job_ref)
    row = session.scalars(
        select(JobVersion).where(JobVersion.job_id == job.id, JobVersion.version == version)
    ).first()
    if row is None:
        raise NotFoundError(f"job {job.name!r} has no version {version}")
    return row
