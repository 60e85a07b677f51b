"""Build and read the DuckDB query that gives
:class:`~lakegate.quality.statistics.DatasetStatistics` from Parquet footers
(``parquet_metadata``): one query over the footers of every file, however many columns
are asked for, and no data page read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlglot import exp

from lakegate.quality.checks.base import col, type_family
from lakegate.quality.statistics import ColumnStatistics, DatasetStatistics

_ORDERED_FAMILIES = {"integer", "float", "date", "timestamp"}
"""Types whose footer min/max are read (strings may be truncated, booleans say little)."""
_FLOATING = {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}
"""Types that can hold NaN, which no min/max records: bounded only with a NaN count of 0."""

PATH = col("path_in_schema")


def _of(name: str, condition: exp.Expr | None = None) -> exp.Expr:
    """``path_in_schema = name [AND condition]``: the rows of one column's chunks."""
    own = exp.EQ(this=PATH.copy(), expression=exp.Literal.string(name))
    return exp.and_(own, condition) if condition is not None else own


def _filtered(aggregate: exp.Expr, condition: exp.Expr) -> exp.Expr:
    # FILTER is fine here: this query reads one row per row group and column, not data.
    return exp.Filter(this=aggregate, expression=exp.Where(this=condition))


def _typed(field: str, type_name: str) -> exp.Expr:
    return exp.TryCast(this=col(field), to=exp.DataType.build(type_name, dialect="duckdb"))


def _exact(type_name: str) -> exp.Expr:
    """True for a chunk whose min and max are present, readable as the column's type and
    exact (not truncated), and for floating point whose NaN count is recorded as 0."""
    parts: list[exp.Expr] = [
        exp.not_(exp.Is(this=_typed("stats_min_value", type_name), expression=exp.Null())),
        exp.not_(exp.Is(this=_typed("stats_max_value", type_name), expression=exp.Null())),
        exp.func("coalesce", col("min_is_exact"), exp.true()),
        exp.func("coalesce", col("max_is_exact"), exp.true()),
    ]
    if exp.DataType.build(type_name, dialect="duckdb").this in _FLOATING:
        parts.append(exp.EQ(this=col("stats_nan_count"), expression=exp.Literal.number(0)))
    return exp.func("coalesce", exp.and_(*parts), exp.false())


def statistics_query(source: str, columns: Mapping[str, str]) -> exp.Select:
    """The one-row query over ``parquet_metadata(source)`` for ``columns`` (name -> type)."""
    first_column = exp.EQ(this=col("column_id"), expression=exp.Literal.number(0))
    rows = col("row_group_num_rows")
    nulls = col("stats_null_count")
    selects: list[exp.Expr] = [
        exp.alias_(_filtered(exp.Count(this=exp.Star()), first_column), "row_groups"),
        exp.alias_(_filtered(exp.Sum(this=rows.copy()), first_column.copy()), "rows"),
    ]
    for i, (name, type_name) in enumerate(columns.items()):
        selects += [
            exp.alias_(_filtered(exp.Count(this=exp.Star()), _of(name)), f"c{i}_chunks"),
            exp.alias_(_filtered(exp.Count(this=nulls.copy()), _of(name)), f"c{i}_counted"),
            exp.alias_(_filtered(exp.Sum(this=nulls.copy()), _of(name)), f"c{i}_nulls"),
        ]
        if type_family(type_name) not in _ORDERED_FAMILIES:
            continue
        has_values = exp.GT(
            this=rows.copy(), expression=exp.func("coalesce", nulls.copy(), exp.Literal.number(0))
        )
        unbounded = _of(name, exp.and_(has_values, exp.not_(_exact(type_name))))
        selects += [
            exp.alias_(
                _filtered(exp.Min(this=_typed("stats_min_value", type_name)), _of(name)),
                f"c{i}_min",
            ),
            exp.alias_(
                _filtered(exp.Max(this=_typed("stats_max_value", type_name)), _of(name)),
                f"c{i}_max",
            ),
            exp.alias_(_filtered(exp.Count(this=exp.Star()), unbounded), f"c{i}_unbounded"),
        ]
    metadata = exp.Table(
        this=exp.Anonymous(this="parquet_metadata", expressions=[exp.Literal.string(source)])
    )
    return exp.select(*selects).from_(metadata)


def parse_statistics(row: Mapping[str, Any], columns: Mapping[str, str]) -> DatasetStatistics:
    """The :func:`statistics_query` row as statistics: columns whose statistics are
    incomplete are left out."""
    row_groups = int(row["row_groups"] or 0)
    complete: dict[str, ColumnStatistics] = {}
    for i, name in enumerate(columns):
        chunks, counted = row[f"c{i}_chunks"], row[f"c{i}_counted"]
        # Present with a NULL count in every row group of every file (a file of a
        # union_by_name set without the column reads as NULLs, which no footer counts).
        if not row_groups or chunks != row_groups or counted != row_groups:
            continue
        bounded = f"c{i}_unbounded" in row and row[f"c{i}_unbounded"] == 0
        complete[name] = ColumnStatistics(
            null_count=int(row[f"c{i}_nulls"] or 0),
            minimum=row.get(f"c{i}_min") if bounded else None,
            maximum=row.get(f"c{i}_max") if bounded else None,
            bounded=bounded,
        )
    return DatasetStatistics(rows=int(row["rows"] or 0), columns=complete)
