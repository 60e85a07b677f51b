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
FAILED_ROWS = "lg_failed_rows"
DUPLICATE_KEYS = "lg_duplicate_keys"


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
        """One GROUP BY query giving the totals (window sums) and the worst keys.

        Its rows, most duplicated keys first, are also the failed-row samples, so the
        dataset is grouped once whether or not samples are wanted.
        """
        duplicates = self._duplicates(check, ctx)
        count = exp.column(DUPLICATE_COUNT)
        ranked = (
            exp.select(
                *(exp.column(name, quoted=True) for name in check.key),
                count,
                exp.alias_(exp.Window(this=exp.Sum(this=count.copy())), FAILED_ROWS),
                exp.alias_(exp.Window(this=exp.Count(this=exp.Star())), DUPLICATE_KEYS),
            )
            .from_(duplicates.subquery("duplicates"))
            .order_by(exp.Ordered(this=count.copy(), desc=True))
        )
        return CheckSql(
            metrics={"checked": count_where(check_filter(check, ctx))},
            queries={"duplicates": ranked},
            sampled_queries={"duplicates"},
        )

    def observe(self, check: UniqueCheck, inputs: CheckInputs) -> Observation:
        """failed_rows = rows in duplicated keys; observed value = that count."""
        row = inputs.queries.get("duplicates", {})
        failed = as_int(row.get(FAILED_ROWS))
        return Observation(
            failed_rows=failed,
            checked_rows=as_int(inputs.metrics["checked"]),
            observed_value=failed,
        )
