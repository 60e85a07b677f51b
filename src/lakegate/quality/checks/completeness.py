"""Completeness checks: ``not_null`` (with ``missing_values``)."""

from __future__ import annotations

from sqlglot import exp

from lakegate.quality.checks.base import CompileContext, RowCheck, col, literal
from lakegate.quality.models import NotNullCheck
from lakegate.quality.statistics import DatasetStatistics


class NotNull(RowCheck[NotNullCheck]):
    """A row fails when the column is NULL or one of ``missing_values``."""

    type = "not_null"
    model = NotNullCheck

    def failing(self, check: NotNullCheck, ctx: CompileContext) -> exp.Expr:
        """``col IS NULL [OR col IN (missing values)]``."""
        is_null: exp.Expr = exp.Is(this=col(check.column), expression=exp.Null())
        if not check.missing_values:
            return is_null
        missing = col(check.column).isin(*(literal(v) for v in check.missing_values))
        return exp.or_(is_null, missing, wrap=True)

    def failed_from_statistics(self, check: NotNullCheck, stats: DatasetStatistics) -> int | None:
        """The footers' NULL count (exact), unless ``missing_values`` count too."""
        column = stats.column(check.column)
        if column is None or check.missing_values:
            return None
        return column.null_count
