"""Column statistics from Parquet footers, as the checks read them.

A Parquet writer records, per row group and column, the number of NULLs and the
smallest and largest value. When those numbers decide a check (``not_null`` is the NULL
count; ``between`` passes when every row group's min and max are inside the bounds;
``freshness`` is the largest max), the check is answered without reading the column,
and a column no other check needs is not read at all.

Only statistics that are complete are kept: a column appears in
:attr:`DatasetStatistics.columns` when every row group of every file has it with a NULL
count, and :attr:`ColumnStatistics.bounded` is true only when every row group that holds
a value also has an exact, readable min and max (and, for floating-point columns, a
recorded NaN count of zero: NaN is outside every range but never in the min/max).
Anything less and the check is measured by the scan, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class ColumnStatistics:
    """What the footers of every file say about one column."""

    null_count: int
    """NULLs in the column, over every row group of every file."""
    minimum: Any = None
    """Smallest value (typed like the column), None when unknown or the column is all NULL."""
    maximum: Any = None
    """Largest value, likewise."""
    bounded: bool = False
    """True when :attr:`minimum` and :attr:`maximum` are exact for the whole dataset."""


@dataclass(frozen=True)
class DatasetStatistics:
    """Row count and per-column statistics of a dataset, from metadata only."""

    rows: int
    columns: Mapping[str, ColumnStatistics] = field(default_factory=dict)

    def column(self, name: str) -> ColumnStatistics | None:
        """Complete statistics of ``name``, or None when they cannot be trusted."""
        return self.columns.get(name)


Orderable = int | float | Decimal | date | datetime


def as_bound(value: Any, like: Orderable) -> Orderable | None:
    """A rule bound (YAML number or ISO string) as a value comparable with ``like``, the
    way the SQL comparison would read it; None when that is not certain (the check is
    then measured by the scan)."""
    if isinstance(like, bool) or isinstance(value, bool):
        return None
    if isinstance(like, int | float | Decimal):
        return value if isinstance(value, int | float | Decimal) else None
    if not isinstance(value, str):
        return None
    try:
        if isinstance(like, datetime):
            # An aware column compares in the session's time zone: leave it to the scan.
            parsed = datetime.fromisoformat(value)
            return parsed if like.tzinfo is None and parsed.tzinfo is None else None
        return date.fromisoformat(value)
    except ValueError:
        return None


def proves_within(stats: ColumnStatistics, low: Any, high: Any) -> bool:
    """True when the statistics prove every value of the column is within
    ``low``..``high`` (either may be None); False when they cannot (some value is outside,
    or the bounds and values do not compare with certainty)."""
    if not stats.bounded:
        return False
    if stats.minimum is None or stats.maximum is None:
        return True  # no value at all: nothing outside the range
    for bound, value, is_low in ((low, stats.minimum, True), (high, stats.maximum, False)):
        if bound is None:
            continue
        typed = as_bound(bound, value)
        if typed is None:
            return False
        try:
            outside = value < typed if is_low else value > typed
        except TypeError:
            return False
        if outside:
            return False
    return True
