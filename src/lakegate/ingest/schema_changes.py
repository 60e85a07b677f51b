"""Schema changes of a table between the previous load and this one.

The previous columns are read from the footer of the table's newest Parquet file in
the lake (the lake is the truth: dlt's stored schema keeps removed columns forever);
the current ones from the source's reflected table (SQL) or, for REST sources that
cannot be reflected, from dlt's schema after this load (so REST detects added columns,
not removed ones: its files carry every column dlt has ever seen).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DLT_COLUMN_PREFIX = "_dlt_"


@dataclass(frozen=True)
class SchemaDiff:
    """Columns added and removed at the source since the previous load."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when any column was added or removed."""
        return bool(self.added or self.removed)

    def describe(self) -> list[str]:
        """Human-readable lines, e.g. ``added column discount``."""
        return [f"added column {c}" for c in self.added] + [
            f"removed column {c}" for c in self.removed
        ]


def file_columns(fs: Any, path: str) -> list[str]:
    """Data columns in the footer of one Parquet file (no data read)."""
    import pyarrow.parquet as pq

    with fs.open(path, "rb") as handle:
        names = pq.read_schema(handle).names
    return [n for n in names if not n.startswith(DLT_COLUMN_PREFIX)]


def stored_columns(schema: Any, table_name: str) -> list[str] | None:
    """Data columns of ``table_name`` in a dlt schema, or None when the table is new."""
    if schema is None or table_name not in schema.tables:
        return None
    columns = schema.tables[table_name].get("columns", {})
    names = [n for n in columns if not n.startswith(DLT_COLUMN_PREFIX)]
    return names or None


def diff_columns(previous: Iterable[str] | None, current: Iterable[str]) -> SchemaDiff:
    """Compare column lists (already normalised the same way); a first load is no change."""
    if previous is None:
        return SchemaDiff()
    before = list(previous)
    now = list(current)
    before_set, now_set = set(before), set(now)
    return SchemaDiff(
        added=[c for c in now if c not in before_set],
        removed=[c for c in before if c not in now_set],
    )
