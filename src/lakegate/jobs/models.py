"""The JobDefinition document: an execution plan of ingest and quality steps.

This is what ``POST /api/v1/jobs`` accepts and what ``job_versions.spec`` stores::

    {"name": "erp-daily", "description": "...",
     "steps": [
        {"type": "ingest", "connection": "erp",
         "tables": [{"schema": "public", "table": "orders", "load_type": "INCREMENTAL",
                     "watermark_column": "updated_at", "primary_key": ["id"]}]},
        {"type": "quality", "dataset": "orders",
         "checks": [{"type": "not_null", "column": "id"}]}],
     "schedule": {"cron": "0 6 * * *", "timezone": "Europe/Paris"},
     "timeout_s": 3600, "retries": 1}

Steps are a discriminated union on ``type``. Quality checks use the quality engine's own
check models (the vocabulary of rule files); see :func:`validate_checks`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lakegate.ingest.models import LoadType

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
"""Job and connection names: letters, digits, ``_ . -``, at most 100 characters."""
_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_$.]{0,127}$"


class Schedule(BaseModel):
    """When the scheduler triggers the job: a 5-field cron expression in a timezone."""

    model_config = ConfigDict(extra="forbid")

    cron: str = Field(min_length=1, max_length=120, examples=["0 6 * * *"])
    timezone: str = Field(default="UTC", max_length=64, examples=["Europe/Paris"])

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        value = " ".join(value.split())
        if len(value.split(" ")) != 5 or not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a valid 5-field cron expression")
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value


class IngestTable(BaseModel):
    """One table of an ingest step (the fields of an ingestion workbook row)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_name: str | None = Field(
        default=None, alias="schema", pattern=_IDENTIFIER, description="Source schema."
    )
    table: str = Field(pattern=_IDENTIFIER, description="Source table.")
    load_type: LoadType = LoadType.FULL
    watermark_column: str | None = Field(default=None, pattern=_IDENTIFIER)
    primary_key: list[Annotated[str, Field(pattern=_IDENTIFIER)]] = Field(
        default_factory=list, max_length=32
    )
    target_table: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_]{0,127}$", description="Name in the lake."
    )
    columns: list[Annotated[str, Field(pattern=_IDENTIFIER)]] | None = Field(
        default=None, max_length=1000
    )
    chunk_size: int | None = Field(default=None, gt=0, le=10_000_000)
    backend: Literal["connectorx", "pyarrow", "sqlalchemy", "pandas", "adbc"] | None = None
    lag: str | None = Field(default=None, pattern=r"^\d+[smhd]$")
    schema_contract: Literal["evolve", "freeze"] = "evolve"

    @model_validator(mode="after")
    def _incremental_needs_watermark(self) -> IngestTable:
        if self.load_type is LoadType.INCREMENTAL and not self.watermark_column:
            raise ValueError("load_type INCREMENTAL needs a watermark_column")
        return self

    @property
    def target(self) -> str:
        """Table name in the lake."""
        return self.target_table or self.table


class IngestStep(BaseModel):
    """Load tables of one connection into the tenant's lake."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["ingest"]
    connection: str = Field(pattern=NAME_PATTERN, description="Name of a tenant connection.")
    tables: list[IngestTable] = Field(min_length=1, max_length=500)


class QualityStep(BaseModel):
    """Validate a dataset of the tenant's lake with quality checks (rule-file vocabulary)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["quality"]
    dataset: str = Field(
        # a bare table name: no path, glob or URL can reach outside the tenant's prefix
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,127}$",
        description="A table of the tenant's lake (e.g. an ingest step's target table).",
    )
    checks: list[dict[str, Any]] = Field(min_length=1, max_length=500)

    @field_validator("checks")
    @classmethod
    def _known_checks(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return validate_checks(value)


Step = Annotated[IngestStep | QualityStep, Field(discriminator="type")]
"""One step of a job, chosen by its ``type``."""


class JobDefinitionSpec(BaseModel):
    """A job definition as users write it (API body, stored version spec)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    description: str | None = Field(default=None, max_length=4000)
    steps: list[Step] = Field(min_length=1, max_length=100)
    schedule: Schedule | None = None
    action_profile: str | None = Field(default=None, pattern=NAME_PATTERN)
    timeout_s: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    """Wall-clock limit of a run; past it the run is stopped and ends ``timed_out``."""
    retries: int = Field(default=0, ge=0, le=10)
    """Extra attempts of a failing step (transient errors only) before the run fails."""

    def to_spec(self) -> dict[str, Any]:
        """The JSON document stored in ``job_versions.spec`` (aliases as users write them)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def validate_checks(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate quality checks with the quality engine's own models.

    Raises ValueError naming the check index and problem (pydantic turns it into a 422
    with the field path). The check vocabulary lives in :mod:`lakegate.quality.models`;
    nothing here lists check types.
    """
    from lakegate.jobs.checks import validate_with_quality_models

    return validate_with_quality_models(checks)
