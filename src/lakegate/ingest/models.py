"""The ingestion job model: one row of the workbook (or one item of the YAML ``jobs:`` list).

This is the contract between configuration loading (:mod:`lakegate.ingest.config`),
the pipeline (:mod:`lakegate.ingest.pipeline`), the audit and the platform's job
definitions: they all speak :class:`IngestJob` and :class:`LoadResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SourceType(StrEnum):
    """Kinds of source a job can read."""

    postgresql = "postgresql"
    mysql = "mysql"
    mssql = "mssql"
    oracle = "oracle"
    sqlite = "sqlite"
    rest_api = "rest_api"


class LoadType(StrEnum):
    """FULL replaces the table's files; INCREMENTAL appends rows past the watermark."""

    FULL = "FULL"
    INCREMENTAL = "INCREMENTAL"


class IngestJob(BaseModel):
    """One table to load: a workbook row or a YAML ``jobs:`` item, validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    job_id: str = Field(min_length=1)
    enabled: bool = True
    source_type: SourceType
    source_name: str = Field(min_length=1)
    """Key of the connection in secrets (``[sources.<source_name>]``)."""
    schema_name: str | None = None
    table_name: str = Field(min_length=1)
    """Source table; for ``rest_api`` the resource name in the endpoint set."""
    load_type: LoadType = LoadType.FULL
    watermark_column: str | None = None
    primary_key: list[str] = Field(default_factory=list)
    target_table: str | None = None
    """Name of the table in the lake (default: ``table_name``)."""
    chunk_size: int | None = Field(default=None, gt=0)
    columns: list[str] | None = None
    """Only these columns (include list); default all."""
    rules_file: str | None = None
    """Quality rule file run right after the load."""
    owner: str | None = None
    description: str | None = None
    backend: Literal["connectorx", "pyarrow", "sqlalchemy", "pandas", "adbc"] | None = None
    """Extraction backend; default: the fastest measured for the source type."""
    partitions: int | None = Field(default=None, ge=1, le=64)
    """Split a large table into this many parallel key ranges (where the source allows)."""
    lag: str | None = None
    """Late-arriving data window for INCREMENTAL (e.g. ``2h``, ``1d``): re-read this far back."""
    schema_contract: Literal["evolve", "freeze"] = "evolve"
    endpoint_config: str | None = None
    """rest_api: YAML file with the dlt ``rest_api`` config (client, resources)."""

    @property
    def target(self) -> str:
        """Table name in the lake."""
        return self.target_table or self.table_name


@dataclass
class LoadResult:
    """What one job run did; one row of the audit, one line of the summary."""

    run_id: str
    job_id: str
    source_name: str
    table_name: str
    load_type: str
    status: Literal["success", "failed"]
    rows_loaded: int = 0
    files: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    watermark_column: str | None = None
    watermark_from: str | None = None
    watermark_to: str | None = None
    schema_changed: bool = False
    schema_changes: list[str] = field(default_factory=list)
    """Human-readable changes, e.g. ``added column discount``."""
    error: str | None = None
    """One line, secrets masked."""
    load_id: str | None = None
    file_paths: list[str] = field(default_factory=list)
    dq_status: str | None = None
    """pass | warn | fail | error when the job has a rules_file."""
    dq_failed_checks: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        """Seconds between start and finish."""
        if self.started_at and self.finished_at:
            return round((self.finished_at - self.started_at).total_seconds(), 3)
        return 0.0
