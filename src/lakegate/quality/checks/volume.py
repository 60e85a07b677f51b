"""Volume checks: ``row_count``."""

from __future__ import annotations

from typing import Any

from lakegate.quality.checks.base import (
    Check,
    CheckInputs,
    CheckSql,
    CompileContext,
    Observation,
    as_int,
    bounds,
    check_filter,
    count_where,
    within,
)
from lakegate.quality.models import RowCountCheck
from lakegate.quality.statistics import DatasetStatistics


class RowCount(Check[RowCountCheck]):
    """Rows after filters within min/max or equal to ``equals``."""

    type = "row_count"
    model = RowCountCheck

    def compile(self, check: RowCountCheck, ctx: CompileContext) -> CheckSql:
        """COUNT(*) (answered from Parquet metadata when nothing else needs a scan)."""
        return CheckSql(metrics={"rows": count_where(check_filter(check, ctx))})

    def from_statistics(
        self, check: RowCountCheck, stats: DatasetStatistics
    ) -> dict[str, Any] | None:
        """Rows from the footers."""
        return {"rows": stats.rows}

    def observe(self, check: RowCountCheck, inputs: CheckInputs) -> Observation:
        """Compare the count with the bounds."""
        rows = as_int(inputs.metrics["rows"])
        return Observation(
            observed_value=rows,
            threshold=bounds(check.min, check.max, check.equals),
            passed=within(rows, check.min, check.max, check.equals),
        )
