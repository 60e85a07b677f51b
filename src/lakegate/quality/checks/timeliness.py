"""Timeliness checks: ``freshness`` (newest value at most ``max_age`` old)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlglot import exp

from lakegate.quality.checks.base import (
    Check,
    CheckInputs,
    CheckSql,
    CompileContext,
    Observation,
    check_filter,
    col,
)
from lakegate.quality.models import FreshnessCheck
from lakegate.quality.statistics import DatasetStatistics


def as_datetime(value: Any) -> datetime | None:
    """A measured date/timestamp as an aware datetime (naive values are taken as UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


class Freshness(Check[FreshnessCheck]):
    """Fails when ``MAX(column)`` is older than ``max_age`` (or there is no value)."""

    type = "freshness"
    model = FreshnessCheck

    def compile(self, check: FreshnessCheck, ctx: CompileContext) -> CheckSql:
        """``MAX(column)`` in the one scan."""
        value: exp.Expr = col(check.column)
        own = check_filter(check, ctx)
        if own is not None:
            value = exp.If(this=own, true=value)
        return CheckSql(metrics={"newest": exp.Max(this=value)})

    def from_statistics(
        self, check: FreshnessCheck, stats: DatasetStatistics
    ) -> dict[str, Any] | None:
        """The newest value is the largest footer max (exact for dates and timestamps)."""
        column = stats.column(check.column)
        if column is None or not column.bounded:
            return None
        if column.maximum is not None and not isinstance(column.maximum, date):
            return None  # a number or text column: leave the judgement to the scan
        return {"newest": column.maximum}

    def observe(self, check: FreshnessCheck, inputs: CheckInputs) -> Observation:
        """Observed value: age of the newest value in seconds."""
        newest = as_datetime(inputs.metrics["newest"])
        threshold = {"max_age": check.max_age, "max_age_s": check.max_age_delta.total_seconds()}
        if newest is None:
            return Observation(threshold=threshold, passed=False, message="no value to date")
        now = inputs.now if inputs.now.tzinfo else inputs.now.replace(tzinfo=UTC)
        age = (now - newest).total_seconds()
        return Observation(
            observed_value=round(age, 3),
            threshold=threshold,
            passed=age <= check.max_age_delta.total_seconds(),
            message=f"newest value {newest.isoformat()}",
        )
