"""Bodies of /runs and POST /jobs/{id}/runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, UrlConstraints

from lakegate.catalog.models.runs import Run, RunLog, RunStep
from lakegate.jobs.manager import as_utc
from lakegate.jobs.runs import quality_summary
from lakegate.jobs.states import RunStatus, is_terminal

RUN_STATUSES = tuple(s.value for s in RunStatus)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
"""A datetime labelled UTC (SQLite returns naive ones; the catalog stores UTC)."""


class RunCreate(BaseModel):
    """POST /jobs/{id}/runs (the body is optional)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Free-form run parameters, stored with the run."
    )
    callback_uri: Annotated[AnyHttpUrl, UrlConstraints(max_length=2048)] | None = Field(
        default=None,
        alias="callBackUri",
        description="URL told about the outcome (Azure Data Factory webhook contract).",
    )


class RunAccepted(BaseModel):
    """202 answer of POST /jobs/{id}/runs."""

    id: str
    status: str
    href: str


class StepOut(BaseModel):
    """One step of a run."""

    position: int
    type: str
    name: str
    status: str
    rows: int | None = None
    duration_s: float | None = None
    error: str | None = None
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    result: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, step: RunStep) -> StepOut:
        """API shape of a run step."""
        return cls(
            position=step.position,
            type=step.type,
            name=step.name,
            status=step.status,
            rows=step.rows,
            duration_s=step.duration_s,
            error=step.error,
            started_at=step.started_at,
            finished_at=step.finished_at,
            result=dict(step.result or {}),
        )


class QualityCheckOut(BaseModel):
    """One check's result in one quality step."""

    step_id: str
    dataset: str
    name: str
    type: str | None = None
    column: str | None = None
    severity: str
    status: str
    value: Any = None
    message: str | None = None


class QualityOut(BaseModel):
    """Quality outcome of a run: the worst check status (None without quality steps)."""

    status: Literal["pass", "warn", "fail", "error"] | None = None
    checks: list[QualityCheckOut] = Field(default_factory=list)


class RunOut(BaseModel):
    """GET /runs/{id}."""

    id: str
    job_id: str
    job_version: int
    status: Literal[
        "queued", "running", "cancelling", "succeeded", "failed", "cancelled", "timed_out"
    ]
    is_terminal: bool
    trigger: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    steps: list[StepOut] = Field(default_factory=list)
    quality: QualityOut
    error: str | None = None
    created_at: UtcDatetime
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    href: str

    @classmethod
    def of(cls, run: Run) -> RunOut:
        """API shape of a run (steps and quality results loaded)."""
        return cls.model_validate(
            {
                "id": run.id,
                "job_id": run.job_id,
                "job_version": run.job_version,
                "status": run.status,
                "is_terminal": is_terminal(run.status),
                "trigger": run.trigger,
                "parameters": dict(run.parameters or {}),
                "steps": [StepOut.of(step) for step in run.steps],
                "quality": quality_summary(run.quality_results),
                "error": run.error,
                "created_at": run.created_at,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "href": f"/api/v1/runs/{run.id}",
            }
        )


class RunList(BaseModel):
    """GET /runs: newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[RunOut]
    next_cursor: str | None = None


class RunLogLine(BaseModel):
    """One log line of a run."""

    at: UtcDatetime
    level: str
    message: str

    @classmethod
    def of(cls, line: RunLog) -> RunLogLine:
        """API shape of a log line."""
        return cls(at=line.at, level=line.level, message=line.message)


class RunLogs(BaseModel):
    """GET /runs/{id}/logs."""

    run_id: str
    status: str
    lines: list[RunLogLine]
