"""Job definitions, versioned: a change never edits a spec, it adds a version row.

``job_definitions`` holds the identity of a job inside a tenant (its name, its latest
version, whether it was deleted); ``job_versions`` holds every spec the job ever had.
Runs reference the exact ``job_versions`` row they executed, so a later edit never
changes what a past run says it ran.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lakegate.catalog.base import Base, IdMixin, TimestampMixin, utcnow


class JobDefinition(IdMixin, TimestampMixin, Base):
    """A tenant's job: its stable id and name, pointing at its latest version."""

    __tablename__ = "job_definitions"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    tenant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    """Number of the newest row in ``job_versions`` (1, 2, ...)."""
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    """Soft delete: past runs keep pointing at their version; the name is freed by renaming."""
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    versions: Mapped[list[JobVersion]] = relationship(
        back_populates="job",
        order_by="JobVersion.version",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class JobVersion(IdMixin, Base):
    """One immutable spec of a job (the validated JobDefinition document)."""

    __tablename__ = "job_versions"
    __table_args__ = (UniqueConstraint("job_id", "version"),)

    job_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("job_definitions.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The job document as validated by ``lakegate.jobs.models.JobDefinitionSpec``."""
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    schedule_cron: Mapped[str | None] = mapped_column(String(120), nullable=True)
    """Copied out of ``spec`` so the scheduler can find scheduled jobs with one query."""
    schedule_timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    job: Mapped[JobDefinition] = relationship(back_populates="versions")
