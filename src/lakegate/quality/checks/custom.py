"""Custom SQL checks: a failed-rows query or a one-value metric query over ``dataset``."""

from __future__ import annotations

from sqlglot import exp

from lakegate.errors import ConfigError
from lakegate.quality.checks.base import (
    Check,
    CheckInputs,
    CheckSql,
    CompileContext,
    Observation,
    as_int,
    bounds,
    count_where,
    parse_query,
    within,
)
from lakegate.quality.checks.statistics import number
from lakegate.quality.models import CustomSqlCheck

DATASET_TABLE = "dataset"
"""Name by which custom SQL refers to the checked dataset."""


def bind_dataset(query: exp.Query, ctx: CompileContext) -> exp.Query:
    """Point every unqualified ``dataset`` table of a user query at the checked dataset
    (after the rule file's filter)."""

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and node.name.lower() == DATASET_TABLE and not node.db:
            alias = node.alias or DATASET_TABLE
            return ctx.filtered_main(alias)
        return node

    bound = query.transform(replace)
    assert isinstance(bound, exp.Query)
    return bound


class CustomSql(Check[CustomSqlCheck]):
    """``query``: each returned row is a failed row. ``metric_query``: first value in bounds."""

    type = "custom_sql"
    model = CustomSqlCheck

    def compile(self, check: CustomSqlCheck, ctx: CompileContext) -> CheckSql:
        """The user query, bound to the dataset, counted or read as one value."""
        if check.filter:
            raise ConfigError(
                f"{ctx.location}.filter: custom_sql takes no filter; put it in the query"
            )
        if check.query is not None:
            query = bind_dataset(parse_query(check.query, f"{ctx.location}.query"), ctx)
            counted = exp.select(exp.alias_(exp.Count(this=exp.Star()), "failed_rows")).from_(
                query.subquery("failed")
            )
            samples = exp.select("*").from_(query.copy().subquery("failed"))
            return CheckSql(
                metrics={"checked": count_where(None)},
                queries={"failed": counted},
                samples=samples,
            )
        metric = bind_dataset(
            parse_query(str(check.metric_query), f"{ctx.location}.metric_query"), ctx
        )
        return CheckSql(queries={"value": metric})

    def observe(self, check: CustomSqlCheck, inputs: CheckInputs) -> Observation:
        """Failed rows, or the metric against its bounds."""
        if check.query is not None:
            failed = as_int(inputs.queries.get("failed", {}).get("failed_rows"))
            return Observation(
                failed_rows=failed,
                checked_rows=as_int(inputs.metrics["checked"]),
                observed_value=failed,
            )
        row = inputs.queries.get("value", {})
        value = number(next(iter(row.values()))) if row else None
        return Observation(
            observed_value=value,
            threshold=bounds(check.min, check.max),
            passed=within(value, check.min, check.max),
            message=None if row else "metric_query returned no row",
        )
