"""Thresholds -> statuses: what a check observed becomes a :class:`CheckResult`.

Kept apart from SQL: an engine measures values, a check implementation turns them into
an :class:`Observation`, and :func:`evaluate` applies ``mostly`` and ``severity``:

* an observation with ``passed`` set (metric checks: bounds, schema, freshness...) is
  judged by it;
* otherwise (row-level checks) it passes when ``failed_rows / checked_rows <= 1 - mostly``
  (``mostly`` defaults to 1.0: no failed row allowed; no checked row passes);
* a failed check is ``fail`` at severity ``error`` and ``warn`` at severity ``warn``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lakegate.quality.models import CheckModel
from lakegate.quality.results import CheckResult, CheckStatus


@dataclass
class Observation:
    """What a check found, before ``mostly`` and severity are applied."""

    failed_rows: int | None = None
    checked_rows: int | None = None
    observed_value: Any = None
    threshold: dict[str, Any] | None = None
    passed: bool | None = None
    """None: decided by :func:`evaluate` from failed rows and ``mostly``."""
    message: str | None = None
    history_values: dict[str, float] = field(default_factory=dict)
    """Metric values to record in the history store for later runs (anomaly)."""


def bounds(minimum: Any = None, maximum: Any = None, equals: Any = None) -> dict[str, Any]:
    """Threshold mapping with only the bounds that are set."""
    out = {"min": minimum, "max": maximum, "equals": equals}
    return {key: value for key, value in out.items() if value is not None}


def within(value: Any, minimum: Any = None, maximum: Any = None, equals: Any = None) -> bool:
    """True when ``value`` satisfies the bounds (a NULL value never does)."""
    if value is None:
        return False
    if equals is not None and value != equals:
        return False
    if minimum is not None and value < minimum:
        return False
    return not (maximum is not None and value > maximum)


def rows_pass(failed: int, checked: int, mostly: float | None) -> bool:
    """Row-level verdict: at most ``1 - mostly`` of the checked rows failed."""
    if failed <= 0:
        return True
    if checked <= 0:
        return True
    required = 1.0 if mostly is None else mostly
    # Compare counts, not rounded fractions: (checked - failed) / checked >= mostly.
    return (checked - failed) >= required * checked - 1e-9


def evaluate(check: CheckModel, observation: Observation) -> CheckResult:
    """Apply ``mostly`` and ``severity`` to an observation."""
    if observation.passed is not None:
        passed = observation.passed
        threshold = observation.threshold
    else:
        failed = observation.failed_rows or 0
        checked = observation.checked_rows or 0
        passed = rows_pass(failed, checked, check.mostly)
        threshold = observation.threshold or (
            {"mostly": check.mostly} if check.mostly is not None else {"max_failed_rows": 0}
        )
    status: CheckStatus = "pass" if passed else ("fail" if check.severity == "error" else "warn")
    return CheckResult(
        name=check.check_name,
        type=check.type,
        column=check.display_column,
        status=status,
        severity=check.severity,
        failed_rows=observation.failed_rows,
        checked_rows=observation.checked_rows,
        observed_value=observation.observed_value,
        threshold=threshold,
        message=observation.message,
    )


def errored(check: CheckModel, message: str) -> CheckResult:
    """The result of a check that could not be evaluated."""
    return CheckResult(
        name=check.check_name,
        type=check.type,
        column=check.display_column,
        status="error",
        severity=check.severity,
        message=message,
    )
