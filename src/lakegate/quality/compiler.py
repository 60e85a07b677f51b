"""Rule set -> :class:`Plan`: one aggregate scan plus the few extra queries checks need.

Every check contributes metric expressions (sqlglot trees); identical expressions across
checks are computed once, so a rule file of twenty row-level checks is ONE
``SELECT COUNT(*), COUNT_IF(...), ... FROM lg_dataset [WHERE filter]``. ``unique``,
``referential``, ``reconcile`` and ``custom_sql`` add one query each; failed-row samples
are separate queries run only for failing checks.

The plan holds trees, never SQL strings: an engine renders them in its dialect
(:meth:`Plan.sql`), after binding the placeholder tables (:data:`MAIN`, ``lg_ref_<n>``)
to views or real tables. Columns are validated here: a check on a column that does not
exist is a :class:`~lakegate.errors.ConfigError` (exit 2) naming the check and column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from lakegate.errors import ConfigError, MultipleConfigError
from lakegate.quality.checks.base import (
    MAIN,
    READ_DIALECT,
    Check,
    CompileContext,
    count_where,
    parse_fragment,
)
from lakegate.quality.models import CheckModel, RuleSet
from lakegate.quality.registry import CheckRegistry, default_registry

ROWS_ALIAS = "lg_rows"
"""Alias of ``COUNT(*)`` in the scan: the dataset's rows after the rule file's filter."""


@dataclass
class PlannedCheck:
    """One check of the plan and where its values come from."""

    index: int
    check: CheckModel
    implementation: Check[Any]
    metrics: dict[str, str] = field(default_factory=dict)
    """Role -> alias of a column of the scan."""
    queries: dict[str, int] = field(default_factory=dict)
    """Role -> index in :attr:`Plan.queries`."""
    samples: exp.Query | None = None
    """Failed rows query (no LIMIT); engines add ``LIMIT n``."""
    sampled_queries: set[int] = field(default_factory=set)
    """Indexes in :attr:`Plan.queries` whose rows double as samples (see CheckSql)."""


@dataclass
class Plan:
    """Compiled rule set: what to run, as sqlglot trees."""

    scan: exp.Select
    """``SELECT COUNT(*) AS lg_rows, <metric> AS m0, ... FROM lg_dataset [WHERE ...]``."""
    metric_sql: dict[str, str]
    """Alias -> canonical (DuckDB) SQL of each deduplicated metric, for inspection."""
    queries: list[exp.Query]
    """Extra one-row queries (group-by, joins, custom SQL)."""
    checks: list[PlannedCheck]
    refs: dict[str, str]
    """Placeholder table -> dataset spec of other datasets the plan reads."""
    filtered: bool = False
    """True when the rule file's filter applies (row count cannot come from metadata)."""

    @property
    def scan_is_row_count_only(self) -> bool:
        """True when the scan computes nothing but the row count of the unfiltered data,
        which an engine may read from Parquet metadata instead of scanning."""
        return self.rows_only(set(self.metric_sql))

    def rows_only(self, aliases: set[str]) -> bool:
        """True when measuring ``aliases`` needs nothing but the unfiltered row count."""
        return not self.filtered and aliases <= {ROWS_ALIAS}

    def scan_for(self, aliases: set[str]) -> exp.Select:
        """The scan computing only the metrics ``aliases`` (and the row count): what is
        left to measure once metadata statistics answered the other checks."""
        query = self.scan.copy()
        wanted = aliases | {ROWS_ALIAS}
        query.set("expressions", [e for e in query.expressions if e.alias_or_name in wanted])
        return query

    def sql(
        self, dialect: str = READ_DIALECT, tables: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Every query rendered in ``dialect``: ``{"scan", "queries", "samples"}``.

        ``tables`` optionally maps placeholder names to real tables (see :func:`render`).
        """
        return {
            "scan": render(self.scan, dialect, tables),
            "queries": [render(query, dialect, tables) for query in self.queries],
            "samples": {
                planned.check.check_name: render(planned.samples, dialect, tables)
                for planned in self.checks
                if planned.samples is not None
            },
        }


def bind_tables(expression: exp.Expr, tables: Mapping[str, Any]) -> exp.Expr:
    """A copy of ``expression`` with placeholder tables replaced.

    ``tables`` maps a placeholder (``lg_dataset``, ``lg_ref_0``) to a table name
    (``"public.orders"``) or a sqlglot expression usable in FROM (``read_parquet(...)``).
    Aliases are kept, so ``lg_dataset AS d`` becomes ``public.orders AS d``.
    """

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and not node.db and node.name in tables:
            target = tables[node.name]
            new = exp.to_table(target) if isinstance(target, str) else target.copy()
            alias = node.alias
            if alias:
                new.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
            return new
        return node

    return expression.copy().transform(replace)


def render(expression: exp.Expr, dialect: str, tables: Mapping[str, Any] | None = None) -> str:
    """SQL text of a plan query in ``dialect`` (placeholders bound when ``tables`` given)."""
    tree = bind_tables(expression, tables) if tables else expression
    return str(tree.sql(dialect=dialect))


def _columns_in(tree: exp.Expr) -> set[str]:
    """Unqualified column names a user SQL fragment reads."""
    return {column.name for column in tree.find_all(exp.Column) if not column.table}


def _missing(names: set[str] | list[str], columns: Mapping[str, str], exact: bool) -> list[str]:
    lowered = {name.lower() for name in columns}
    if exact:
        return [name for name in names if name not in columns]
    return sorted(name for name in names if name.lower() not in lowered)


def _validate_columns(
    check: CheckModel, location: str, columns: Mapping[str, str], dataset: str
) -> list[str]:
    problems = []
    available = ", ".join(columns) or "none"
    for name in _missing(check.columns_used(), columns, exact=True):
        problems.append(
            f"{location} ({check.check_name}): column {name!r} not found in dataset "
            f"{dataset!r} (columns: {available})"
        )
    fragments = {"filter": check.filter, "expression": getattr(check, "expression", None)}
    for key, text in fragments.items():
        if not isinstance(text, str):
            continue
        tree = parse_fragment(text, f"{location}.{key}")
        for name in _missing(_columns_in(tree), columns, exact=False):
            problems.append(
                f"{location}.{key} ({check.check_name}): column {name!r} not found in "
                f"dataset {dataset!r} (columns: {available})"
            )
    return problems


def compile_rules(
    rules: RuleSet,
    columns: Mapping[str, str],
    *,
    dataset: str = "dataset",
    ref_columns: Callable[[str, str], Mapping[str, str]] | None = None,
    registry: CheckRegistry | None = None,
) -> Plan:
    """Compile ``rules`` for a dataset whose schema is ``columns`` (name -> type).

    ``ref_columns`` returns the schema of another dataset (referential, reconcile) so
    their columns are validated too. Raises ConfigError listing every missing column.
    """
    registry = registry or default_registry()
    source = rules.source or "<rules>"
    problems: list[str] = []
    global_filter = None
    if rules.filter:
        global_filter = parse_fragment(rules.filter, f"{source}: filter")
        for name in _missing(_columns_in(global_filter), columns, exact=False):
            problems.append(f"{source}: filter: column {name!r} not found in dataset {dataset!r}")
    for name in _missing(rules.keys, columns, exact=True):
        problems.append(f"{source}: keys: column {name!r} not found in dataset {dataset!r}")
    for index, check in enumerate(rules.checks):
        problems.extend(_validate_columns(check, f"{source}: checks[{index}]", columns, dataset))
    if problems:
        raise MultipleConfigError(problems) if len(problems) > 1 else ConfigError(problems[0])

    ctx = CompileContext(
        columns=columns,
        keys=list(rules.keys),
        global_filter=global_filter,
        ref_columns=ref_columns,
        location=source,
    )
    aliases: dict[str, str] = {}
    expressions: list[exp.Expr] = []

    def metric_alias(expression: exp.Expr) -> str:
        key = expression.sql(dialect=READ_DIALECT)
        if key not in aliases:
            aliases[key] = ROWS_ALIAS if not expressions else f"m{len(expressions) - 1}"
            expressions.append(expression)
        return aliases[key]

    metric_alias(count_where(None))
    queries: list[exp.Query] = []
    planned: list[PlannedCheck] = []
    for index, check in enumerate(rules.checks):
        implementation = registry.get(check.type)
        ctx.location = f"{source}: checks[{index}]"
        compiled = implementation.compile(check, ctx)
        item = PlannedCheck(
            index=index, check=check, implementation=implementation, samples=compiled.samples
        )
        for role, expression in compiled.metrics.items():
            item.metrics[role] = metric_alias(expression)
        for role, query in compiled.queries.items():
            item.queries[role] = len(queries)
            if role in compiled.sampled_queries:
                item.sampled_queries.add(len(queries))
            queries.append(query)
        planned.append(item)

    alias_of = {alias: key for key, alias in aliases.items()}
    scan = exp.select(
        *(
            exp.alias_(expression, alias_of_expr)
            for expression, alias_of_expr in zip(expressions, aliases.values(), strict=True)
        )
    ).from_(MAIN)
    if global_filter is not None:
        scan = scan.where(global_filter.copy())
    return Plan(
        scan=scan,
        metric_sql=alias_of,
        queries=queries,
        checks=planned,
        refs={placeholder: spec for spec, placeholder in ctx.refs.items()},
        filtered=global_filter is not None,
    )
