"""The shape of a check implementation, and the SQL helpers every family uses.

A check implementation turns one validated check model into SQL and then turns the
values the engine measured into an :class:`Observation`:

* :meth:`Check.compile` returns :class:`CheckSql`: ``metrics`` are aggregate expressions
  over the checked dataset (the compiler merges every check's metrics, deduplicated, into
  ONE scan); ``queries`` are the few extra one-row queries a check needs (group-by,
  joins, custom SQL); ``samples`` selects the failed rows (the engine adds the LIMIT and
  runs it only when the check failed).
* :meth:`Check.observe` reads the measured values (:class:`CheckInputs`) and returns
  the observation (failed rows, observed value, threshold, pass/fail). Thresholds and
  severity are applied by :mod:`lakegate.quality.evaluate`, never here.

All SQL is built as sqlglot trees (DuckDB dialect for user-written fragments) and refers
to the checked dataset as the table :data:`MAIN` and to other datasets through
:meth:`CompileContext.ref`; engines substitute or register those names.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlglot import exp, parse_one
from sqlglot.errors import ParseError

from lakegate.errors import ConfigError
from lakegate.quality.evaluate import Observation, bounds, within
from lakegate.quality.models import CheckModel
from lakegate.quality.statistics import DatasetStatistics

__all__ = [
    "MAIN",
    "Check",
    "CheckInputs",
    "CheckSql",
    "CompileContext",
    "Observation",
    "RowCheck",
    "bounds",
    "within",
]

MAIN = "lg_dataset"
"""Table name that stands for the checked dataset in every compiled query."""
REF_PREFIX = "lg_ref_"
"""Prefix of the table names that stand for other datasets (referential, reconcile)."""
READ_DIALECT = "duckdb"
"""Dialect in which users write filters, expressions and custom SQL."""

M = TypeVar("M", bound=CheckModel)


def col(name: str) -> exp.Column:
    """A quoted column reference (names are taken verbatim from the dataset's schema)."""
    return exp.column(name, quoted=True)


def literal(value: Any) -> exp.Expr:
    """A SQL literal for a YAML scalar."""
    return exp.convert(value)


def parse_fragment(sql: str, where: str) -> exp.Expr:
    """Parse a user SQL boolean/expression (DuckDB dialect); ConfigError naming ``where``."""
    try:
        tree = parse_one(sql, read=READ_DIALECT)
    except ParseError as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{where}: not valid SQL ({first})") from exc
    if tree is None:
        raise ConfigError(f"{where}: empty SQL")
    return tree


def parse_query(sql: str, where: str) -> exp.Query:
    """Parse a user query (DuckDB dialect) that must be a SELECT; ConfigError otherwise."""
    tree = parse_fragment(sql, where)
    if not isinstance(tree, exp.Query):
        raise ConfigError(f"{where}: must be a SELECT query")
    return tree


def is_text_type(type_name: str) -> bool:
    """True for VARCHAR/TEXT-like column types."""
    return type_family(type_name) == "string"


_FAMILIES: dict[str, set[Any]] = {
    "integer": set(exp.DataType.INTEGER_TYPES),
    "float": set(exp.DataType.REAL_TYPES),
    "string": set(exp.DataType.TEXT_TYPES),
    "boolean": {exp.DataType.Type.BOOLEAN},
    "date": {exp.DataType.Type.DATE, exp.DataType.Type.DATE32},
    "timestamp": set(exp.DataType.TEMPORAL_TYPES)
    - {exp.DataType.Type.DATE, exp.DataType.Type.DATE32, exp.DataType.Type.TIME},
}
_FAMILY_ALIASES = {
    "int": "integer",
    "integer": "integer",
    "float": "float",
    "number": "float",
    "numeric": "float",
    "decimal": "float",
    "double": "float",
    "string": "string",
    "text": "string",
    "str": "string",
    "bool": "boolean",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "datetime": "timestamp",
}


def canonical_type(type_name: str, dialect: str = READ_DIALECT) -> str:
    """One spelling of a SQL type whatever the engine that reported it
    (``bigint`` in Spark and ``BIGINT`` in DuckDB are both ``BIGINT``)."""
    try:
        return str(exp.DataType.build(type_name, dialect=dialect).sql(dialect=READ_DIALECT))
    except Exception:  # unknown spelling: compare verbatim
        return type_name.strip().upper()


def type_family(type_name: str, dialect: str = READ_DIALECT) -> str:
    """The family of a SQL type (integer, float, string, boolean, date, timestamp) or the
    upper-cased type itself when it belongs to none."""
    lowered = type_name.strip().lower()
    if lowered in _FAMILY_ALIASES:
        return _FAMILY_ALIASES[lowered]
    try:
        kind = exp.DataType.build(type_name, dialect=dialect).this
    except Exception:  # unknown spelling: compare verbatim
        return type_name.strip().upper()
    for family, kinds in _FAMILIES.items():
        if kind in kinds:
            return family
    return str(kind.value)


@dataclass
class CompileContext:
    """What a check needs to know about the dataset while compiling."""

    columns: Mapping[str, str]
    """Column name -> type of the checked dataset."""
    keys: list[str] = field(default_factory=list)
    """Rule-file ``keys``: shown beside the offending column in samples."""
    global_filter: exp.Expr | None = None
    ref_columns: Callable[[str, str], Mapping[str, str]] | None = None
    """Schema of another dataset, given its spec and placeholder (the engine binds it)."""
    refs: dict[str, str] = field(default_factory=dict)
    """Dataset spec -> placeholder table name, filled by :meth:`ref`."""
    location: str = "<rules>"
    """Where the check being compiled is: ``rules.yml: checks[3]`` (for messages)."""

    def ref(self, dataset: str) -> str:
        """Placeholder table name for another dataset (registered for the engine)."""
        if dataset not in self.refs:
            self.refs[dataset] = f"{REF_PREFIX}{len(self.refs)}"
        return self.refs[dataset]

    def other_columns(self, dataset: str) -> Mapping[str, str]:
        """Columns of another dataset (empty when the engine cannot tell)."""
        placeholder = self.ref(dataset)
        return self.ref_columns(dataset, placeholder) if self.ref_columns else {}

    def where(self, *conditions: exp.Expr | None) -> exp.Expr | None:
        """The global filter AND-ed with ``conditions`` (None when there is nothing)."""
        parts = [c for c in (self.global_filter, *conditions) if c is not None]
        return exp.and_(*parts) if parts else None

    def filtered_main(self, alias: str = "dataset") -> exp.Expr:
        """The checked dataset after the global filter, as a FROM item named ``alias``."""
        if self.global_filter is None:
            return exp.to_table(MAIN).as_(alias)
        inner = exp.select("*").from_(MAIN).where(self.global_filter.copy())
        return inner.subquery(alias)

    def sample_columns(self, *columns: str) -> list[str]:
        """Key columns then the offending ones, without repeats, only existing columns."""
        out: list[str] = []
        for name in [*self.keys, *columns]:
            if name and name in self.columns and name not in out:
                out.append(name)
        return out


@dataclass
class CheckSql:
    """SQL one check needs, as sqlglot trees (rendered later in the engine's dialect)."""

    metrics: dict[str, exp.Expr] = field(default_factory=dict)
    """Role -> aggregate over the checked dataset (merged into the one scan)."""
    queries: dict[str, exp.Query] = field(default_factory=dict)
    """Role -> extra query whose first row is the measured value(s)."""
    samples: exp.Query | None = None
    """Failed rows (without LIMIT); run only when the check fails."""
    sampled_queries: set[str] = field(default_factory=set)
    """Roles of ``queries`` whose rows are also the failed-row samples (fetched up to
    ``--samples`` rows; columns named ``lg_*`` are measures, dropped from samples)."""


@dataclass
class CheckInputs:
    """Values measured for one check, handed to :meth:`Check.observe`."""

    metrics: dict[str, Any]
    """Role -> value of each of the check's metrics."""
    queries: dict[str, dict[str, Any]]
    """Role -> first row (column -> value) of each extra query; {} when it had no row."""
    rows: int | None
    """Rows of the dataset after the global filter."""
    columns: Mapping[str, str]
    """Schema of the dataset (name -> type)."""
    history: list[dict[str, Any]] = field(default_factory=list)
    """Earlier runs of this dataset, oldest first (see :mod:`lakegate.quality.history`)."""
    now: datetime = field(default_factory=datetime.now)
    """Time of the run (timezone-aware, UTC)."""
    dialect: str = READ_DIALECT
    """Dialect of the engine that measured the values (for type names)."""


def as_int(value: Any) -> int:
    """A measured count as int (NULL from SUM over no rows is 0)."""
    return int(value) if value is not None else 0


class Check(Generic[M]):
    """Base of every check implementation (one per check ``type``).

    Subclasses set ``type`` and ``model`` and implement :meth:`compile` and
    :meth:`observe`. ``needs_history`` marks checks that read earlier runs.
    """

    type: ClassVar[str]
    model: ClassVar[builtins.type[CheckModel]]
    needs_history: ClassVar[bool] = False

    def compile(self, check: M, ctx: CompileContext) -> CheckSql:
        """The SQL this check needs."""
        raise NotImplementedError

    def observe(self, check: M, inputs: CheckInputs) -> Observation:
        """The observation from measured values."""
        raise NotImplementedError

    def from_statistics(self, check: M, stats: DatasetStatistics) -> dict[str, Any] | None:
        """Values of every one of the check's metrics (role -> value, the roles of
        :meth:`compile`) when the dataset's metadata statistics decide them exactly, else
        None and the scan measures them. Called only for a check without ``filter`` on a
        dataset without a rule-file ``filter``."""
        return None


def check_filter(check: CheckModel, ctx: CompileContext) -> exp.Expr | None:
    """The check's own ``filter`` as a tree (None when absent)."""
    if not check.filter:
        return None
    return parse_fragment(check.filter, f"{ctx.location}.filter")


def count_where(condition: exp.Expr | None) -> exp.Expr:
    """``COUNT_IF(condition)``, or ``COUNT(*)`` without a condition.

    COUNT_IF renders as ``SUM(CASE WHEN ... THEN 1 ELSE 0 END)`` where a dialect lacks
    it; never ``FILTER (WHERE ...)``, which DuckDB runs much slower.
    """
    if condition is None:
        return exp.Count(this=exp.Star())
    return exp.CountIf(this=condition.copy())


class RowCheck(Check[M]):
    """A check that judges each row: failed rows are counted in the one scan.

    Subclasses implement :meth:`failing` (a condition true for a failed row; NULL-safe
    by construction: a NULL value must not make it true unless the check is about
    NULLs) and may override :meth:`sample_of`.
    """

    def failing(self, check: M, ctx: CompileContext) -> exp.Expr:
        """Condition true for a row that fails the check."""
        raise NotImplementedError

    def sample_of(self, check: M) -> list[str]:
        """Offending columns shown in samples (beside the rule file's keys)."""
        return check.columns_used()

    def failed_from_statistics(self, check: M, stats: DatasetStatistics) -> int | None:
        """Failed rows when metadata statistics decide them exactly, else None."""
        return None

    def from_statistics(self, check: M, stats: DatasetStatistics) -> dict[str, Any] | None:
        """``failed`` from :meth:`failed_from_statistics`; ``checked`` is every row."""
        failed = self.failed_from_statistics(check, stats)
        return None if failed is None else {"failed": failed, "checked": stats.rows}

    def compile(self, check: M, ctx: CompileContext) -> CheckSql:
        """failed = COUNT_IF(filter AND failing), checked = COUNT_IF(filter)."""
        own = check_filter(check, ctx)
        failing = self.failing(check, ctx)
        failed_condition = exp.and_(own.copy(), failing.copy()) if own is not None else failing
        columns = ctx.sample_columns(*self.sample_of(check)) or list(ctx.columns)[:5]
        samples = (
            exp.select(*(col(c) for c in columns)).from_(MAIN).where(ctx.where(own, failing.copy()))
        )
        return CheckSql(
            metrics={"failed": count_where(failed_condition), "checked": count_where(own)},
            samples=samples,
        )

    def observe(self, check: M, inputs: CheckInputs) -> Observation:
        """Failed and checked row counts; ``mostly`` is applied by evaluate."""
        failed = as_int(inputs.metrics["failed"])
        return Observation(
            failed_rows=failed,
            checked_rows=as_int(inputs.metrics["checked"]),
            observed_value=failed,
        )


def not_null(expression: exp.Expr) -> exp.Expr:
    """``expression IS NOT NULL``."""
    return exp.Not(this=exp.Is(this=expression.copy(), expression=exp.Null()))
