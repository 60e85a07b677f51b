"""Statistical checks: ``aggregate`` (bounds on min/max/mean/sum/stddev/distinct_count)
and ``anomaly`` (z-score of a metric against its own history)."""

from __future__ import annotations

import math
import statistics
from datetime import date
from decimal import Decimal
from typing import Any

from sqlglot import exp

from lakegate.quality.checks.base import (
    Check,
    CheckInputs,
    CheckSql,
    CompileContext,
    Observation,
    as_int,
    bounds,
    check_filter,
    col,
    count_where,
    within,
)
from lakegate.quality.checks.timeliness import as_datetime
from lakegate.quality.models import AggregateCheck, AnomalyCheck
from lakegate.quality.statistics import DatasetStatistics


def aggregate(metric: str, column: str, condition: exp.Expr | None) -> exp.Expr:
    """The aggregate ``metric`` of ``column`` over rows where ``condition`` holds.

    A condition becomes ``CASE WHEN condition THEN column END`` inside the aggregate
    (NULLs are ignored by every aggregate), which keeps it in the one scan.
    """
    value: exp.Expr = col(column)
    if condition is not None:
        value = exp.If(this=condition.copy(), true=value)
    if metric == "min":
        return exp.Min(this=value)
    if metric == "max":
        return exp.Max(this=value)
    if metric == "mean":
        return exp.Avg(this=value)
    if metric == "sum":
        return exp.Sum(this=value)
    if metric == "stddev":
        return exp.StddevSamp(this=value)
    if metric == "distinct_count":
        return exp.Count(this=exp.Distinct(expressions=[value]))
    raise ValueError(f"unknown aggregate metric {metric!r}")


def extreme_from_statistics(
    metric: str, column: str, stats: DatasetStatistics
) -> dict[str, Any] | None:
    """``{"value": min or max}`` of ``column`` from exact footer statistics, else None."""
    found = stats.column(column)
    if metric not in ("min", "max") or found is None or not found.bounded:
        return None
    return {"value": found.minimum if metric == "min" else found.maximum}


def number(value: Any) -> Any:
    """Decimals as float so results serialise and compare; other values unchanged."""
    return float(value) if isinstance(value, Decimal) else value


class Aggregate(Check[AggregateCheck]):
    """Fails when the aggregate is outside min..max (or NULL: no value to judge)."""

    type = "aggregate"
    model = AggregateCheck

    def compile(self, check: AggregateCheck, ctx: CompileContext) -> CheckSql:
        """One aggregate in the one scan."""
        expression = aggregate(check.metric, check.column, check_filter(check, ctx))
        return CheckSql(metrics={"value": expression})

    def from_statistics(
        self, check: AggregateCheck, stats: DatasetStatistics
    ) -> dict[str, Any] | None:
        """``min`` and ``max`` are the footers' exact min/max."""
        return extreme_from_statistics(check.metric, check.column, stats)

    def observe(self, check: AggregateCheck, inputs: CheckInputs) -> Observation:
        """Compare with the bounds."""
        value = number(inputs.metrics["value"])
        return Observation(
            observed_value=value,
            threshold={"metric": check.metric, **bounds(check.min, check.max)},
            passed=within(value, check.min, check.max),
            message=None if value is not None else f"{check.metric} has no value (no rows)",
        )


def history_key(check: AnomalyCheck) -> str:
    """Key under which an anomaly check's metric is kept in the history store."""
    return f"anomaly:{check.check_name}"


class Anomaly(Check[AnomalyCheck]):
    """Fails when |value - mean(history)| / stddev(history) exceeds ``max_z``."""

    type = "anomaly"
    model = AnomalyCheck
    needs_history = True

    def compile(self, check: AnomalyCheck, ctx: CompileContext) -> CheckSql:
        """The metric's aggregate(s) in the one scan."""
        own = check_filter(check, ctx)
        if check.metric == "row_count":
            return CheckSql(metrics={"value": count_where(own)})
        column = str(check.column)
        if check.metric == "missing_percent":
            is_null = exp.Is(this=col(column), expression=exp.Null())
            missing = exp.and_(own.copy(), is_null) if own is not None else is_null
            return CheckSql(metrics={"missing": count_where(missing), "checked": count_where(own)})
        return CheckSql(metrics={"value": aggregate(check.metric, column, own)})

    def from_statistics(
        self, check: AnomalyCheck, stats: DatasetStatistics
    ) -> dict[str, Any] | None:
        """Row count, NULL share, min and max from the footers."""
        if check.metric == "row_count":
            return {"value": stats.rows}
        column = str(check.column)
        if check.metric == "missing_percent":
            found = stats.column(column)
            if found is None:
                return None
            return {"missing": found.null_count, "checked": stats.rows}
        return extreme_from_statistics(check.metric, column, stats)

    def _value(self, check: AnomalyCheck, inputs: CheckInputs) -> float | None:
        if check.metric == "missing_percent":
            checked = as_int(inputs.metrics["checked"])
            return 100.0 * as_int(inputs.metrics["missing"]) / checked if checked else 0.0
        value = number(inputs.metrics["value"])
        if isinstance(value, date):  # min/max of a date or timestamp: epoch seconds
            moment = as_datetime(value)
            return None if moment is None else moment.timestamp()
        return None if value is None else float(value)

    def observe(self, check: AnomalyCheck, inputs: CheckInputs) -> Observation:
        """z-score of this run's value against the last ``window`` recorded values."""
        value = self._value(check, inputs)
        key = history_key(check)
        past = [
            float(run["metrics"][key])
            for run in inputs.history
            if isinstance(run.get("metrics"), dict) and run["metrics"].get(key) is not None
        ][-check.window :]
        record = {key: value} if value is not None else {}
        threshold: dict[str, Any] = {"max_z": check.max_z, "metric": check.metric}
        if value is None:
            return Observation(threshold=threshold, passed=False, message="metric has no value")
        if len(past) < check.min_history:
            return Observation(
                threshold=threshold,
                passed=True,
                history_values=record,
                message=f"{len(past)} earlier runs, {check.min_history} needed",
            )
        mean = statistics.fmean(past)
        spread = statistics.stdev(past)
        if spread == 0:
            z = 0.0 if math.isclose(value, mean) else math.inf
        else:
            z = (value - mean) / spread
        threshold.update({"mean": mean, "stddev": spread})
        return Observation(
            observed_value=round(z, 4) if math.isfinite(z) else str(z),
            threshold=threshold,
            passed=abs(z) <= check.max_z,
            history_values=record,
            message=f"value {value} against mean {mean:.6g} over {len(past)} runs",
        )
