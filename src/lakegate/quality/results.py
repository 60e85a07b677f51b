"""Results of a quality run: one :class:`CheckResult` per check in a :class:`QualityResult`.

``QualityResult.to_dict()`` is the JSON document of ``lakegate check --output json`` and of
stored runs, exactly::

    {"dataset": "orders", "rows": 1000, "status": "fail", "duration_s": 0.12,
     "checks": [{"name": "id_unique", "type": "unique", "column": "order_id",
                 "status": "fail", "failed_rows": 4, "failed_percent": 0.4,
                 "observed_value": 4, "threshold": {"max": 0},
                 "samples": [{"order_id": 7, "duplicate_count": 2}]}]}

Statuses:

* a check is ``pass``; ``fail`` (it failed and its severity is ``error``); ``warn`` (it
  failed and its severity is ``warn``); or ``error`` (it could not be evaluated, e.g. a
  ``custom_sql`` query failed at run time; ``message`` says why).
* the dataset is ``error`` if any check is ``error``, else ``fail`` if any is ``fail``,
  else ``warn`` if any is ``warn``, else ``pass``.

``failed_percent`` is a percentage (0-100) of the rows the check looked at (after filters),
``None`` for checks that do not count rows. ``observed_value`` is what was measured (the
failed row count, a row count, an aggregate, an age in seconds, a z-score, a list of
schema differences). ``threshold`` is a mapping of what was required (``{"max": 0}``,
``{"min": 1, "max": 10}``, ``{"mostly": 0.99}``...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal

from lakegate.errors import ExitCode

CheckStatus = Literal["pass", "warn", "fail", "error"]
DatasetStatus = Literal["pass", "warn", "fail", "error"]

CHECK_KEYS = (
    "name",
    "type",
    "column",
    "status",
    "failed_rows",
    "failed_percent",
    "observed_value",
    "threshold",
    "samples",
)
"""Keys of one check in the JSON document, in order."""
RESULT_KEYS = ("dataset", "rows", "status", "duration_s", "checks")
"""Keys of the JSON document, in order."""


def json_value(value: Any) -> Any:
    """A JSON-friendly version of a value read from an engine (dates, decimals, NaN)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return str(value)


@dataclass
class CheckResult:
    """The outcome of one check."""

    name: str
    type: str
    column: str | None
    status: CheckStatus
    severity: Literal["warn", "error"] = "error"
    failed_rows: int | None = None
    """Rows that failed (row-level checks, unique, referential, custom_sql query)."""
    checked_rows: int | None = None
    """Rows the check looked at (after filters): the base of ``failed_percent``."""
    observed_value: Any = None
    threshold: dict[str, Any] | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)
    """Failed rows (key columns + offending column), only for failing checks."""
    message: str | None = None
    """Why a check is ``error`` or failed, in one line (not part of ``to_dict``)."""

    @property
    def failed_percent(self) -> float | None:
        """Percentage of checked rows that failed (0 when no row was checked)."""
        if self.failed_rows is None or self.checked_rows is None:
            return None
        if self.checked_rows == 0:
            return 0.0
        return round(100.0 * self.failed_rows / self.checked_rows, 4)

    @property
    def failed(self) -> bool:
        """True for ``fail``, ``warn`` and ``error``."""
        return self.status != "pass"

    def to_dict(self) -> dict[str, Any]:
        """This check in the JSON document's shape (exactly :data:`CHECK_KEYS`)."""
        return {
            "name": self.name,
            "type": self.type,
            "column": self.column,
            "status": self.status,
            "failed_rows": self.failed_rows,
            "failed_percent": self.failed_percent,
            "observed_value": json_value(self.observed_value),
            "threshold": json_value(self.threshold),
            "samples": [json_value(sample) for sample in self.samples],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        """Rebuild a check result from :meth:`to_dict` output (stored runs, reports).

        ``checked_rows`` is recovered from ``failed_percent`` only approximately, so
        it is left unset and ``failed_percent`` is kept as given.
        """
        result = _StoredCheckResult(
            name=data["name"],
            type=data["type"],
            column=data.get("column"),
            status=data["status"],
            severity="warn" if data["status"] == "warn" else "error",
            failed_rows=data.get("failed_rows"),
            observed_value=data.get("observed_value"),
            threshold=data.get("threshold"),
            samples=list(data.get("samples") or []),
        )
        result.stored_percent = data.get("failed_percent")
        return result


@dataclass
class _StoredCheckResult(CheckResult):
    stored_percent: float | None = None

    @property
    def failed_percent(self) -> float | None:
        return self.stored_percent


def dataset_status(checks: list[CheckResult]) -> DatasetStatus:
    """The dataset status from its checks' (error > fail > warn > pass)."""
    statuses = {check.status for check in checks}
    for status in ("error", "fail", "warn"):
        if status in statuses:
            return status  # type: ignore[return-value]
    return "pass"


@dataclass
class QualityResult:
    """The outcome of a rule set on one dataset."""

    dataset: str
    rows: int | None
    checks: list[CheckResult]
    duration_s: float = 0.0
    engine: str = "duckdb"
    queries: int = 0
    """Number of SQL queries the engine ran (one scan + the extra ones)."""

    @property
    def status(self) -> DatasetStatus:
        """``error`` | ``fail`` | ``warn`` | ``pass`` (see the module docstring)."""
        return dataset_status(self.checks)

    @property
    def failed_checks(self) -> list[str]:
        """Names of the checks that are not ``pass``."""
        return [check.name for check in self.checks if check.failed]

    @property
    def exit_code(self) -> int:
        """1 when an error-severity check failed or could not run, else 0."""
        for check in self.checks:
            if check.severity == "error" and check.status in ("fail", "error"):
                return int(ExitCode.FAILED)
        return int(ExitCode.OK)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (exactly :data:`RESULT_KEYS`)."""
        return {
            "dataset": self.dataset,
            "rows": self.rows,
            "status": self.status,
            "duration_s": round(self.duration_s, 4),
            "checks": [check.to_dict() for check in self.checks],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QualityResult:
        """Rebuild a result from :meth:`to_dict` output."""
        return cls(
            dataset=data["dataset"],
            rows=data.get("rows"),
            checks=[CheckResult.from_dict(item) for item in data.get("checks", [])],
            duration_s=float(data.get("duration_s") or 0.0),
        )
