"""Checks across datasets: ``referential`` (values exist in another dataset) and
``reconcile`` (a metric equals another dataset's, within a tolerance)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from lakegate.errors import ConfigError
from lakegate.quality.checks.base import (
    MAIN,
    Check,
    CheckInputs,
    CheckSql,
    CompileContext,
    Observation,
    as_int,
    check_filter,
    count_where,
    not_null,
)
from lakegate.quality.checks.statistics import aggregate, number
from lakegate.quality.models import ReconcileCheck, ReferentialCheck


def _require_column(ctx: CompileContext, dataset: str, column: str) -> None:
    columns = ctx.other_columns(dataset)
    if columns and column not in columns:
        raise ConfigError(
            f"{ctx.location}: column {column!r} not found in dataset {dataset!r} "
            f"(columns: {', '.join(columns)})"
        )


def _qualified(table: str, column: str) -> exp.Column:
    return exp.column(column, table=table, quoted=True)


class Referential(Check[ReferentialCheck]):
    """A non-NULL value with no match in ``ref_dataset.ref_column`` fails."""

    type = "referential"
    model = ReferentialCheck

    def _orphans(
        self, check: ReferentialCheck, ctx: CompileContext, *select: exp.Expr
    ) -> exp.Select:
        _require_column(ctx, check.ref_dataset, check.ref_column)
        ref = ctx.ref(check.ref_dataset)
        ours = _qualified("d", check.column)
        match = (
            exp.select(exp.Literal.number(1))
            .from_(exp.to_table(ref).as_("r"))
            .where(exp.EQ(this=_qualified("r", check.ref_column), expression=ours.copy()))
        )
        orphan = exp.Not(this=exp.Exists(this=match))
        return (
            exp.select(*select)
            .from_(exp.to_table(MAIN).as_("d"))
            .where(ctx.where(check_filter(check, ctx), not_null(ours), orphan))
        )

    def compile(self, check: ReferentialCheck, ctx: CompileContext) -> CheckSql:
        """An anti-join (``NOT EXISTS``) count, and the same rows for samples."""
        counted = self._orphans(check, ctx, exp.alias_(exp.Count(this=exp.Star()), "failed_rows"))
        shown = ctx.sample_columns(check.column)
        samples = self._orphans(check, ctx, *(_qualified("d", name) for name in shown))
        return CheckSql(
            metrics={"checked": count_where(check_filter(check, ctx))},
            queries={"orphans": counted},
            samples=samples,
        )

    def observe(self, check: ReferentialCheck, inputs: CheckInputs) -> Observation:
        """Rows whose value has no match."""
        failed = as_int(inputs.queries.get("orphans", {}).get("failed_rows"))
        return Observation(
            failed_rows=failed,
            checked_rows=as_int(inputs.metrics["checked"]),
            observed_value=failed,
        )


class Reconcile(Check[ReconcileCheck]):
    """Fails when |ours - theirs| exceeds ``tolerance`` (or ``tolerance_percent`` of theirs)."""

    type = "reconcile"
    model = ReconcileCheck

    def _metric(self, check: ReconcileCheck, column: str | None, cond: Any) -> exp.Expr:
        if check.metric == "row_count":
            return count_where(cond)
        return aggregate(check.metric, str(column), cond)

    def compile(self, check: ReconcileCheck, ctx: CompileContext) -> CheckSql:
        """Our value in the one scan; theirs in one query on the other dataset."""
        other_column = check.other_column or check.column
        if other_column:
            _require_column(ctx, check.other_dataset, other_column)
        theirs = exp.select(exp.alias_(self._metric(check, other_column, None), "value")).from_(
            ctx.ref(check.other_dataset)
        )
        return CheckSql(
            metrics={"value": self._metric(check, check.column, check_filter(check, ctx))},
            queries={"other": theirs},
        )

    def observe(self, check: ReconcileCheck, inputs: CheckInputs) -> Observation:
        """Observed value: ours; threshold: theirs and the allowed difference."""
        ours = number(inputs.metrics["value"])
        theirs = number(inputs.queries.get("other", {}).get("value"))
        allowed = check.tolerance
        if check.tolerance_percent is not None and theirs is not None:
            allowed = max(allowed, abs(float(theirs)) * check.tolerance_percent / 100.0)
        threshold = {"equals": theirs, "tolerance": allowed}
        if ours is None or theirs is None:
            return Observation(
                observed_value=ours, threshold=threshold, passed=False, message="no value"
            )
        difference = float(ours) - float(theirs)
        return Observation(
            observed_value=ours,
            threshold=threshold,
            passed=abs(difference) <= allowed + 1e-12,
            message=f"difference {difference:g}",
        )
