"""Metric values per run, kept in the lake's ``_quality/`` folder.

One JSON document per run at ``_quality/<dataset>/runs/<UTC timestamp>-<id>.json``::

    {"run_at": "2026-11-22T08:00:00+00:00", "dataset": "orders", "rows": 1000,
     "status": "pass", "schema": {"order_id": "BIGINT", ...},
     "metrics": {"amount_range": 0, "anomaly:rows_normal": 1000.0, ...}}

One file per run (rather than one appended file) works on every fsspec filesystem,
including blob storage where appends are not atomic, and two concurrent runs never
overwrite each other. ``anomaly`` reads ``metrics`` of earlier runs, ``schema_change``
reads ``schema`` of the latest one.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from lakegate.lake.layout import QUALITY_DIR
from lakegate.lake.storage import Lake
from lakegate.observability.logging import get_logger
from lakegate.quality.results import QualityResult, json_value

log = get_logger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def dataset_key(name: str) -> str:
    """A folder-safe version of a dataset name."""
    return _UNSAFE.sub("_", name).strip("._") or "dataset"


class HistoryStore:
    """Read and append run records of datasets in a lake."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    def _folder(self, dataset: str) -> str:
        return self.lake.path(QUALITY_DIR, dataset_key(dataset), "runs")

    def runs(self, dataset: str, limit: int = 100) -> list[dict[str, Any]]:
        """The last ``limit`` run records of ``dataset``, oldest first."""
        fs = self.lake.fs
        folder = self._folder(dataset)
        try:
            paths = sorted(fs.glob(f"{folder}/*.json"))[-limit:]
        except FileNotFoundError:
            return []
        records = []
        for path in paths:
            try:
                with fs.open(path, "r") as handle:
                    records.append(json.load(handle))
            except (OSError, ValueError) as exc:
                # A torn or foreign file must not stop validation; it is skipped and logged.
                log.warning("quality history record unreadable", path=path, error=str(exc))
        return records

    def append(self, dataset: str, record: dict[str, Any]) -> str:
        """Write one run record; returns its path."""
        fs = self.lake.fs
        folder = self._folder(dataset)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = f"{folder}/{stamp}-{uuid.uuid4().hex[:8]}.json"
        if self.lake.is_local:
            fs.makedirs(folder, exist_ok=True)
        with fs.open(path, "w") as handle:
            json.dump(record, handle, default=str)
        return path


def run_record(
    result: QualityResult,
    *,
    run_at: datetime,
    schema: dict[str, str],
    metrics: dict[str, Any],
    dialect: str | None = None,
) -> dict[str, Any]:
    """The record kept for one run: row count, schema (types in ``dialect``), status and
    numeric metrics."""
    numeric = {
        key: json_value(value)
        for key, value in metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    return {
        "run_at": run_at.isoformat(),
        "dataset": result.dataset,
        "rows": result.rows,
        "status": result.status,
        "schema": schema,
        "dialect": dialect,
        "metrics": numeric,
    }
