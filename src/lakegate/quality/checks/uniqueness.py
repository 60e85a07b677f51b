"""Uniqueness checks: ``unique`` (single or compound key), one GROUP BY query each."""

from __future__ import annotations

from sqlglot import exp

from lakegate.quality.checks.base import (
    MAIN,
    Check,
    CheckInputs,
    CheckSql,
    CompileContext,
    Observation,
    as_int,
    check_filter,
    col,
    count_where,
    not_null,
)
from lakegate.quality.models import UniqueCheck

DUPLICATE_COUNT = "duplicate_count"
"""Column of unique samples: how many rows share the key."""


class Unique(Check[UniqueCheck]):
    """Every row whose key occurs more than once fails; keys with a NULL part are skipped."""

    type = "unique"
    model = UniqueCheck

    def _duplicates(self, check: UniqueCheck, ctx: CompileContext) -> exp.Select:
        keys = check.key
        keep = [not_null(col(name)) for name in keys]
        count = exp.Count(this=exp.Star())
        return (
            exp.select(*(col(name) for name in keys), exp.alias_(count, DUPLICATE_COUNT))
            .from_(MAIN)
            .where(ctx.where(check_filter(check, ctx), *keep))
            .group_by(*(col(name) for name in keys))
            .having(exp.GT(this=count.copy(), expression=exp.Literal.number(1)))
        )

    def compile(self, check: UniqueCheck, ctx: CompileContext) -> CheckSql:
        """``SELECT SUM(n) FROM (... GROUP BY key HAVING COUNT(*) > 1)`` + samples."""
        duplicates = self._duplicates(check, ctx)
        summary = exp.select(
            exp.alias_(exp.Sum(this=exp.column(DUPLICATE_COUNT)), "failed_rows"),
            exp.alias_(exp.Count(this=exp.Star()), "duplicate_keys"),
        ).from_(duplicates.subquery("duplicates"))
        samples = (
            exp.select("*")
            .from_(duplicates.copy().subquery("duplicates"))
            .order_by(exp.Ordered(this=exp.column(DUPLICATE_COUNT), desc=True))
        )
        return CheckSql(
            metrics={"checked": count_where(check_filter(check, ctx))},
            queries={"duplicates": summary},
            samples=samples,
        )

    def observe(self, check: UniqueCheck, inputs: CheckInputs) -> Observation:
        """failed_rows = rows in duplicated keys; observed value = that count."""
        row = inputs.queries.get("duplicates", {})
        failed = as_int(row.get("failed_rows"))
        return Observation(
            failed_rows=failed,
            checked_rows=as_int(inputs.metrics["checked"]),
            observed_value=failed,
        )
