"""One ingestion job through dlt into the lake (placeholder: the pipeline issue fills it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from lakegate.ingest.models import IngestJob, LoadResult
from lakegate.lake.storage import Lake
from lakegate.settings import Settings

ProgressCallback = Callable[[str, int], None]
"""Called as ``progress(job_id, rows_so_far)`` while a job extracts."""


def run_job(
    job: IngestJob,
    *,
    lake: Lake,
    settings: Settings,
    run_id: str,
    tags: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
) -> LoadResult:
    """Load one table into ``lake`` and return what happened.

    Never raises for a failure of the job itself (unreachable source, unknown table,
    permission denied): the result has ``status="failed"`` and a one-line ``error``
    without secrets, and the watermark is not advanced. ``tags`` (tenant_id, job_id,
    run_id, environment, source) are attached to every file written.
    """
    raise NotImplementedError("the ingestion pipeline is not implemented yet")
