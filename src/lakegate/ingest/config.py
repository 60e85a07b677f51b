"""Load and validate ingestion jobs from a workbook (``.xlsx``) or its YAML twin.

The whole file is validated before anything runs. Every problem is collected and
reported at once as one line that names the file and the place::

    ingestion_config.xlsx: sheet jobs, row 7, column load_type: 'INCREMANTAL' is not FULL or
    INCREMENTAL (one line)
    config.yml: jobs[3].load_type: 'INCREMANTAL' is not FULL or INCREMENTAL

and :class:`~lakegate.errors.MultipleConfigError` (exit code 2) carries them all.
Rows are validated by the :class:`~lakegate.ingest.models.IngestJob` pydantic model;
its errors are mapped onto these lines by :func:`_pydantic_problems`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from lakegate.errors import ConfigError, MultipleConfigError
from lakegate.ingest.models import IngestJob, LoadType, SourceType

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

REQUIRED_VALUES = frozenset(
    {"job_id", "enabled", "source_type", "source_name", "table_name", "load_type"}
)
"""Fields whose cell must not be empty."""

_LIST_FIELDS = frozenset({"primary_key", "columns"})
_INT_FIELDS = frozenset({"chunk_size", "partitions"})
_FILE_FIELDS = ("rules_file", "endpoint_config")
_UPPER_FIELDS = frozenset({"load_type"})
_LOWER_FIELDS = frozenset({"source_type", "backend", "schema_contract"})
_TRUE = frozenset({"y", "yes", "true", "1"})
_FALSE = frozenset({"n", "no", "false", "0"})

Where = Callable[[str | None], str]
"""Prefix of a problem line for a field (or for the whole row when ``None``)."""


@dataclass(frozen=True)
class _Problem:
    field: str | None
    message: str


def load_jobs(path: str | Path) -> list[IngestJob]:
    """Read every job of a workbook (``.xlsx``) or YAML file (``.yml``/``.yaml``).

    Relative ``rules_file`` and ``endpoint_config`` paths are resolved against the
    folder of the configuration file and must exist. Raises
    :class:`~lakegate.errors.MultipleConfigError` listing every problem found.
    """
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "file not found"
        raise MultipleConfigError([f"{path}: {what}"])
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return _load_workbook(path)
    if suffix in {".yml", ".yaml"}:
        return _load_yaml(path)
    hint = " (save it as .xlsx)" if suffix == ".xls" else ""
    raise MultipleConfigError([f"{path.name}: not an .xlsx workbook or a .yml/.yaml file{hint}"])


def select_jobs(
    jobs: Sequence[IngestJob],
    *,
    job_ids: Iterable[str] = (),
    source: str | None = None,
    config_name: str = "configuration",
) -> list[IngestJob]:
    """The jobs to run: the named ones (even if disabled), else every enabled one.

    ``source`` keeps only jobs of that ``source_name``. Unknown job ids or a source with
    no job raise :class:`~lakegate.errors.ConfigError` (exit 2); so does an empty
    selection, because a run that loads nothing is almost always a mistake.
    """
    wanted = list(dict.fromkeys(job_ids))
    by_id = {job.job_id: job for job in jobs}
    unknown = [j for j in wanted if j not in by_id]
    if unknown:
        raise ConfigError(
            f"{config_name}: unknown job {', '.join(map(repr, unknown))} "
            f"(jobs: {', '.join(by_id) or 'none'})"
        )
    selected = [by_id[j] for j in wanted] if wanted else [j for j in jobs if j.enabled]
    if source is not None:
        sources = sorted({job.source_name for job in jobs})
        if source not in sources:
            raise ConfigError(
                f"{config_name}: no job reads source {source!r} "
                f"(sources: {', '.join(sources) or 'none'})"
            )
        selected = [job for job in selected if job.source_name == source]
    if not selected:
        what = f" of source {source!r}" if source else ""
        raise ConfigError(f"{config_name}: no enabled job{what} to run")
    return selected


# --- workbook -------------------------------------------------------------------------


def normalize_header(value: object) -> str:
    """Header cell -> column key: case, surrounding spaces and inner spaces don't matter."""
    return "_".join(str(value).strip().lower().replace("-", " ").split())


def _load_workbook(path: Path) -> list[IngestJob]:
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
    return _parse_rows(name, path.parent, rows)


def _parse_rows(name: str, base: Path, rows: Sequence[Sequence[object]]) -> list[IngestJob]:
    from openpyxl.utils import get_column_letter

    sheet = f"{name}: sheet {SHEET}"
    header_idx = next((i for i, row in enumerate(rows) if any(not _is_empty(c) for c in row)), None)
    if header_idx is None:
        raise MultipleConfigError([f"{sheet}: the sheet is empty (no header row)"])
    header_row = header_idx + 1
    problems: list[str] = []
    columns: dict[int, str] = {}
    seen: dict[str, int] = {}
    for idx, cell in enumerate(rows[header_idx]):
        if _is_empty(cell):
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
        if all(_is_empty(c) for c in row):
            continue  # empty rows are ignored
        row_no = header_row + 1 + offset
        values: dict[str, Any] = {
            key: row[idx] if idx < len(row) else None for idx, key in columns.items()
        }

        def where(field: str | None, row_no: int = row_no) -> str:
            return f"{sheet}, row {row_no}" + (f", column {field}" if field else "")

        records.append((values, where, f"row {row_no}"))
    return _validate_records(records, base, problems, present=set(seen), order=list(seen))


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- YAML -----------------------------------------------------------------------------


def _load_yaml(path: Path) -> list[IngestJob]:
    name = path.name
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise MultipleConfigError([f"{name}: {at}invalid YAML ({exc.problem})"]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MultipleConfigError([f"{name}: invalid YAML ({type(exc).__name__})"]) from None
    if not isinstance(document, Mapping) or not isinstance(document.get("jobs"), list):
        raise MultipleConfigError([f"{name}: expected a 'jobs:' list at the top level"])
    problems: list[str] = []
    records: list[tuple[dict[str, Any], Where, str]] = []
    for index, item in enumerate(document["jobs"]):

        def where(field: str | None, index: int = index) -> str:
            return f"{name}: jobs[{index}]" + (f".{field}" if field else "")

        if not isinstance(item, Mapping):
            problems.append(f"{where(None)}: expected a mapping of column: value")
            continue
        values: dict[str, Any] = {}
        for raw_key, value in item.items():
            key = normalize_header(raw_key)
            if key not in ALL_COLUMNS:
                close = difflib.get_close_matches(key, ALL_COLUMNS, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                problems.append(f"{where(key)}: unknown key{hint}")
                continue
            values[key] = value
        records.append((values, where, f"jobs[{index}]"))
    return _validate_records(records, path.parent, problems, present=set(ALL_COLUMNS))


# --- shared validation ----------------------------------------------------------------


def _validate_records(
    records: Iterable[tuple[dict[str, Any], Where, str]],
    base: Path,
    problems: list[str],
    *,
    present: set[str],
    order: Sequence[str] = ALL_COLUMNS,
) -> list[IngestJob]:
    """Validate each record, then the cross-record rules; raise if anything is wrong."""
    jobs: list[IngestJob] = []
    first_job: dict[str, str] = {}
    first_target: dict[str, tuple[str, str]] = {}
    rank = {field: i for i, field in enumerate(order)}
    for values, where, place in records:
        job, found, data = _validate_record(values, base, present)
        job_id = data.get("job_id")
        if isinstance(job_id, str) and job_id in first_job:
            found.append(
                _Problem("job_id", f"duplicate job_id {job_id!r} (first at {first_job[job_id]})")
            )
        elif isinstance(job_id, str):
            first_job[job_id] = place
        target_field = "target_table" if data.get("target_table") else "table_name"
        target = data.get(target_field)
        if isinstance(target, str) and target.lower() in first_target:
            other, at = first_target[target.lower()]
            found.append(
                _Problem(
                    target_field,
                    f"lake table {target!r} is already loaded by job {other!r} ({at}); "
                    "give one of them another target_table",
                )
            )
        elif isinstance(target, str):
            first_target[target.lower()] = (str(job_id), place)
        found.sort(key=lambda p: rank.get(p.field or "", -1))
        problems.extend(f"{where(p.field)}: {p.message}" for p in found)
        if job is not None and not found:
            jobs.append(job)
    if problems:
        raise MultipleConfigError(problems)
    return jobs


def _validate_record(
    values: Mapping[str, Any], base: Path, present: set[str]
) -> tuple[IngestJob | None, list[_Problem], dict[str, Any]]:
    """One record -> (job or None, its problems, the coerced values)."""
    problems: list[_Problem] = []
    data: dict[str, Any] = {}
    for field, raw in values.items():
        try:
            value = _coerce(field, raw)
        except ValueError as exc:
            problems.append(_Problem(field, str(exc)))
            continue
        if value is not None:
            data[field] = value
    bad = {p.field for p in problems}
    for field in sorted(REQUIRED_VALUES & present):
        if field not in data and field not in bad:
            problems.append(_Problem(field, "a value is required"))
            bad.add(field)
    load_type = str(data.get("load_type", ""))
    if load_type == LoadType.INCREMENTAL and "watermark_column" not in data:
        problems.append(_Problem("watermark_column", "required when load_type is INCREMENTAL"))
    if (
        data.get("source_type") == SourceType.rest_api
        and "endpoint_config" not in data
        and "endpoint_config" not in bad
    ):
        problems.append(
            _Problem("endpoint_config", "required for source_type rest_api (a YAML file)")
        )
    for field in _FILE_FIELDS:
        if field in data:
            resolved = (base / Path(data[field]).expanduser()).resolve()
            if not resolved.is_file():
                problems.append(_Problem(field, f"file {data[field]!r} does not exist"))
            else:
                data[field] = str(resolved)
    try:
        job = IngestJob.model_validate(data)
    except ValidationError as exc:
        taken = {p.field for p in problems}
        for problem in _pydantic_problems(exc, data):
            # A field already reported (or whose column is absent) is not reported twice.
            if problem.field not in taken and (problem.field is None or problem.field in present):
                problems.append(problem)
                taken.add(problem.field)
        return None, problems, data
    return (job if not problems else None), problems, data


def _coerce(field: str, raw: object) -> Any:
    """Workbook cell or YAML value -> what :class:`IngestJob` expects (``None`` = empty)."""
    if _is_empty(raw):
        return None
    if field == "enabled":
        if isinstance(raw, bool):
            return raw
        text = _text(raw).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{_shown(raw)!r} is not Y or N")
    if field in _LIST_FIELDS:
        items = raw if isinstance(raw, list) else _text(raw).split(",")
        parts = [_text(item) for item in items if not _is_empty(item)]
        return parts or None
    if field in _INT_FIELDS:
        if isinstance(raw, bool):
            raise ValueError(f"{raw!r} is not a whole number")
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        if isinstance(raw, int):
            return raw
        text = _text(raw)
        if not text.lstrip("-").isdigit():
            raise ValueError(f"{text!r} is not a whole number")
        return int(text)
    text = _text(raw)
    if field in _UPPER_FIELDS:
        return text.upper() if text.upper() in set(LoadType) else text
    if field in _LOWER_FIELDS:
        return text.lower()
    return text


def _text(value: object) -> str:
    """A cell as text: ``12.0`` (how Excel stores 12) becomes ``'12'``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _shown(value: object) -> str:
    return _text(value)


def _pydantic_problems(exc: ValidationError, data: Mapping[str, Any]) -> list[_Problem]:
    """Map pydantic's errors onto one short message per field."""
    out: list[_Problem] = []
    for error in exc.errors(include_url=False):
        loc = error.get("loc") or ()
        field = str(loc[0]) if loc else None
        value = data.get(field) if field else None
        kind = error.get("type", "")
        ctx = error.get("ctx") or {}
        if field == "load_type" and kind == "enum":
            message = f"{value!r} is not FULL or INCREMENTAL"
        elif field == "source_type" and kind == "enum":
            message = f"{value!r} is not one of {', '.join(SourceType)}"
        elif kind in {"enum", "literal_error"}:
            expected = str(ctx.get("expected", "")).replace("'", "")
            message = f"{value!r} is not one of {expected.replace(' or ', ', ')}"
        elif kind == "missing":
            message = "a value is required"
        elif kind == "extra_forbidden":
            message = "unknown column"
        elif kind in {"greater_than", "greater_than_equal", "less_than_equal", "less_than"}:
            message = f"{value!r} {error['msg'].lower().replace('input ', '')}"
        elif kind in {"int_parsing", "int_from_float", "int_type"}:
            message = f"{value!r} is not a whole number"
        elif kind == "string_too_short":
            message = "a value is required"
        else:
            message = str(error.get("msg", "invalid value"))
        out.append(_Problem(field, message))
    return out


# --- writing (example workbook, tests) --------------------------------------------------


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
