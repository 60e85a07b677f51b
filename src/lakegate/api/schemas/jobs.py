"""Bodies of /jobs: the JobDefinition document in, the document plus id and version out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from lakegate.jobs.manager import as_utc
from lakegate.jobs.models import JobDefinitionSpec
from lakegate.jobs.registry import JobView

JobIn = JobDefinitionSpec
"""POST /jobs and PUT /jobs/{id}: the job document (validated on write)."""


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
"""A datetime labelled UTC (SQLite returns naive ones; the catalog stores UTC)."""


class JobOut(JobDefinitionSpec):
    """A job: its latest version's document with its id and version number."""

    id: str
    version: int = Field(description="Number of the latest version (1, 2, ...).")
    created_at: UtcDatetime
    updated_at: UtcDatetime
    href: str

    @classmethod
    def of(cls, view: JobView) -> JobOut:
        """The API shape of a job and its latest version."""
        return cls.model_validate(
            {
                **view.version.spec,
                "id": view.job.id,
                "version": view.version.version,
                "created_at": view.job.created_at,
                "updated_at": view.version.created_at,
                "href": f"/api/v1/jobs/{view.job.id}",
            }
        )


class JobList(BaseModel):
    """GET /jobs: one page by name; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[JobOut]
    next_cursor: str | None = None


class JobVersionOut(BaseModel):
    """One stored version of a job."""

    version: int
    created_at: UtcDatetime
    created_by: str | None = None
    definition: JobDefinitionSpec
