"""Runs of job versions, their steps, their quality results and their log lines.

A ``runs`` row is written (``queued``) before anything executes and always ends in a
terminal status; every change of ``status`` goes through :mod:`lakegate.jobs.manager`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lakegate.catalog.base import Base, IdMixin, utcnow


class Run(IdMixin, Base):
    """One execution of one job version."""

    __tablename__ = "runs"
    __table_args__ = (
        # The same Idempotency-Key on the same job returns the same run (NULL keys are distinct).
        UniqueConstraint("tenant_id", "job_id", "idempotency_key"),
        # Keyset pagination of GET /runs: newest first, id as tie-breaker.
        Index("ix_runs_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_runs_status", "status"),
    )

    tenant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    job_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("job_definitions.id", ondelete="CASCADE"), index=True
    )
    job_version_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("job_versions.id", ondelete="CASCADE")
    )
    job_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    """queued | running | cancelling | succeeded | failed | cancelled | timed_out."""
    trigger: Mapped[str] = mapped_column(String(40), default="api")
    """Which door created the run: api | cli | schedule | airflow | adf."""
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    callback_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    trace_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    timeout_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """Which process claimed the run (host:pid), for crash recovery."""
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    """One line, secrets masked."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )

    steps: Mapped[list[RunStep]] = relationship(
        back_populates="run",
        order_by="RunStep.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    quality_results: Mapped[list[QualityResult]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )


class RunStep(IdMixin, Base):
    """One step of a run (one ingest table or one quality check set)."""

    __tablename__ = "run_steps"
    __table_args__ = (UniqueConstraint("run_id", "position"),)

    run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    """0-based order of execution."""
    type: Mapped[str] = mapped_column(String(40))
    """ingest | quality."""
    name: Mapped[str] = mapped_column(String(400))
    """What the step works on: ``<connection>.<schema>.<table>`` or the dataset."""
    status: Mapped[str] = mapped_column(String(20), default="pending")
    """pending | running | succeeded | failed | skipped | cancelled."""
    rows: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Engine result summary (LoadResult fields or the quality result's JSON shape)."""
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    run: Mapped[Run] = relationship(back_populates="steps")


class QualityResult(IdMixin, Base):
    """The outcome of one quality check in one run step."""

    __tablename__ = "quality_results"

    run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("run_steps.id", ondelete="CASCADE"), index=True
    )
    dataset: Mapped[str] = mapped_column(String(400))
    check_name: Mapped[str] = mapped_column(String(400))
    check_type: Mapped[str | None] = mapped_column(String(80), nullable=True)
    column: Mapped[str | None] = mapped_column(String(200), nullable=True)
    severity: Mapped[str] = mapped_column(String(20), default="error")
    status: Mapped[str] = mapped_column(String(20))
    """pass | warn | fail | error."""
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    """Observed metric value(s)."""
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    run: Mapped[Run] = relationship(back_populates="quality_results")


class RunLog(Base):
    """One log line of a run, served by ``GET /runs/{id}/logs`` (secrets already masked)."""

    __tablename__ = "run_logs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    level: Mapped[str] = mapped_column(String(10), default="info")
    message: Mapped[str] = mapped_column(Text)
