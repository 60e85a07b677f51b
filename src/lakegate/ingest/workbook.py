"""The workbook side of the job configuration: columns, reading rows, writing a workbook.

:func:`read_workbook` turns the sheet ``jobs`` into raw records (column -> cell value)
with their places (``row 7``) and the header's problems; validation is
:mod:`lakegate.ingest.config`'s, shared with the YAML twin. Column order, header case and
surrounding spaces do not matter; empty rows are skipped but keep their row numbers.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakegate.errors import MultipleConfigError

SHEET = "jobs"
"""Name of the worksheet that holds the jobs."""

REQUIRED_COLUMNS: tuple[str, ...] = (
    "job_id",
    "enabled",
    "source_type",
    "source_name",
    "schema_name",
    "table_name",
    "load_type",
    "watermark_column",
    "primary_key",
)
"""Columns every workbook must have (their cells may be empty where the field is optional)."""

OPTIONAL_COLUMNS: tuple[str, ...] = (
    "target_table",
    "chunk_size",
    "columns",
    "rules_file",
    "owner",
    "description",
    "backend",
    "partitions",
    "lag",
    "schema_contract",
    "endpoint_config",
)
"""Columns a workbook may have, in the order the example workbook writes them."""

ALL_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

Where = Callable[[str | None], str]
"""Prefix of a problem line for a field (or for the whole row when ``None``)."""


@dataclass
class SheetRecords:
    """What :func:`read_workbook` found: one record per non-empty row, header problems."""

    records: list[tuple[dict[str, Any], Where, str]] = field(default_factory=list)
    """(column -> cell value, line prefix for a field, ``row N``)."""
    problems: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    """Known columns present, in sheet order."""


def normalize_header(value: object) -> str:
    """Header cell -> column key: case, surrounding spaces and inner spaces don't matter."""
    return "_".join(str(value).strip().lower().replace("-", " ").split())


def read_workbook(path: Path) -> SheetRecords:
    """Records of the sheet ``jobs`` of ``path``; file-level problems raise at once."""
    from openpyxl import load_workbook

    name = path.name
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile/openpyxl raise many kinds for a corrupt file
        raise MultipleConfigError(
            [f"{name}: not a valid .xlsx workbook ({type(exc).__name__})"]
        ) from None
    try:
        sheets = {normalize_header(s): s for s in book.sheetnames}
        if SHEET not in sheets:
            raise MultipleConfigError(
                [f"{name}: no sheet named {SHEET!r} (sheets: {', '.join(book.sheetnames)})"]
            )
        rows = list(book[sheets[SHEET]].iter_rows(values_only=True))
    finally:
        book.close()
    return _parse_rows(name, rows)


def _parse_rows(name: str, rows: Sequence[Sequence[object]]) -> SheetRecords:
    from openpyxl.utils import get_column_letter

    sheet = f"{name}: sheet {SHEET}"
    header_idx = next((i for i, row in enumerate(rows) if any(not is_empty(c) for c in row)), None)
    if header_idx is None:
        raise MultipleConfigError([f"{sheet}: the sheet is empty (no header row)"])
    header_row = header_idx + 1
    problems: list[str] = []
    columns: dict[int, str] = {}
    seen: dict[str, int] = {}
    for idx, cell in enumerate(rows[header_idx]):
        if is_empty(cell):
            continue
        key = normalize_header(cell)
        at = f"{sheet}, row {header_row}, column {get_column_letter(idx + 1)}"
        if key in seen:
            first = get_column_letter(seen[key] + 1)
            problems.append(f"{at}: column {key} appears twice (also column {first})")
            continue
        if key not in ALL_COLUMNS:
            close = difflib.get_close_matches(key, ALL_COLUMNS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(f"{at}: unknown column {str(cell).strip()!r}{hint}")
            continue
        seen[key] = idx
        columns[idx] = key
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    problems.extend(f"{sheet}: missing required column {c}" for c in missing)

    records: list[tuple[dict[str, Any], Where, str]] = []
    for offset, row in enumerate(rows[header_idx + 1 :]):
        if all(is_empty(c) for c in row):
            continue  # empty rows are ignored
        row_no = header_row + 1 + offset
        values: dict[str, Any] = {
            key: row[idx] if idx < len(row) else None for idx, key in columns.items()
        }

        def where(field: str | None, row_no: int = row_no) -> str:
            return f"{sheet}, row {row_no}" + (f", column {field}" if field else "")

        records.append((values, where, f"row {row_no}"))
    return SheetRecords(records=records, problems=problems, columns=list(seen))


def is_empty(value: object) -> bool:
    """An empty cell: nothing, or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def write_workbook(
    rows: Sequence[Mapping[str, Any]], path: str | Path, columns: Sequence[str] | None = None
) -> Path:
    """Write job rows (``column: value`` mappings, e.g. a YAML ``jobs:`` list) as a workbook.

    Sheet ``jobs``, header row first; ``columns`` defaults to every required column plus
    the optional ones some row uses. Lists become comma-separated cells and booleans
    ``Y``/``N``. Used to build the example workbook from its YAML twin.
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    if columns is None:
        columns = [c for c in ALL_COLUMNS if c in REQUIRED_COLUMNS or any(c in r for r in rows)]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append(list(columns))
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    for line in cells:
        sheet.append(line)
    for index, column in enumerate(columns, start=1):
        width = max([len(column), *(len(str(line[index - 1] or "")) for line in cells)])
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, 60)
    sheet.freeze_panes = "A2"
    path = Path(path)
    book.save(path)
    return path


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or None
    return value
