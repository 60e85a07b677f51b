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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from lakegate.errors import ConfigError, MultipleConfigError
from lakegate.ingest.models import IngestJob, LoadType, SourceType
from lakegate.ingest.workbook import (
    ALL_COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    SHEET,
    Where,
    is_empty,
    normalize_header,
    read_workbook,
    write_workbook,
)

__all__ = [
    "ALL_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "REQUIRED_VALUES",
    "SHEET",
    "load_jobs",
    "normalize_header",
    "select_jobs",
    "write_workbook",
]

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
        sheet = read_workbook(path)
        return _validate_records(
            sheet.records,
            path.parent,
            sheet.problems,
            present=set(sheet.columns),
            order=sheet.columns,
        )
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
    included = {str(c).lower() for c in data.get("columns") or []}
    if included:
        needed = [*data.get("primary_key", [])]
        if load_type == LoadType.INCREMENTAL and data.get("watermark_column"):
            needed.append(str(data["watermark_column"]))
        left_out = [c for c in dict.fromkeys(needed) if c.lower() not in included]
        if left_out:
            problems.append(
                _Problem(
                    "columns", f"must include the key/watermark column(s) {', '.join(left_out)}"
                )
            )
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
                continue
            if field == "rules_file":
                problems.extend(_rules_problems(resolved, shown=str(data[field])))
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
    if problems:
        return None, problems, data
    problems.extend(_source_problems(job))
    return (job if not problems else None), problems, data


def _source_problems(job: IngestJob) -> list[_Problem]:
    """What the source modules would refuse at run time, found before anything runs.

    Asks the pipeline's own parsers (lag, backend, REST endpoint set) so the rules live
    in one place; imported lazily because they pull in dlt.
    """
    from lakegate.errors import ConfigError
    from lakegate.ingest.rest_source import load_endpoint_config
    from lakegate.ingest.sql_source import choose_backend, parse_lag

    found: list[_Problem] = []
    if job.source_type is SourceType.rest_api:
        if job.endpoint_config:
            try:
                config = load_endpoint_config(job.endpoint_config)
            except ConfigError as exc:
                found.append(_Problem("endpoint_config", _after(str(exc), ": ")))
            else:
                names = [
                    str(r.get("name")) if isinstance(r, Mapping) else str(r)
                    for r in config["resources"]
                ]
                if job.table_name not in names:
                    found.append(
                        _Problem(
                            "table_name",
                            f"no resource {job.table_name!r} in the endpoint_config "
                            f"(resources: {', '.join(names)})",
                        )
                    )
        return found
    if job.lag:
        try:
            parse_lag(job.lag, "timestamp")
        except ConfigError as exc:
            found.append(_Problem("lag", _after(str(exc), "lag ")))
    try:
        choose_backend(job)
    except ConfigError as exc:
        found.append(_Problem("backend", _after(str(exc), ": ")))
    return found


def _rules_problems(path: Path, *, shown: str) -> list[_Problem]:
    """The rule file's own problems (the quality engine's parser), named as in the cell."""
    from lakegate.quality.models import load_rules

    try:
        load_rules(path)
    except MultipleConfigError as exc:
        lines = exc.problems
    except ConfigError as exc:
        lines = str(exc).splitlines()
    else:
        return []
    return [_Problem("rules_file", line.replace(str(path), shown)) for line in lines]


def _after(text: str, prefix_end: str) -> str:
    """``text`` without its leading context (``job x: ``, ``lag ``), already in our line."""
    head, sep, tail = text.partition(prefix_end)
    return tail if sep and len(head) < 200 and tail else text


def _coerce(field: str, raw: object) -> Any:
    """Workbook cell or YAML value -> what :class:`IngestJob` expects (``None`` = empty)."""
    if is_empty(raw):
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
        parts = [_text(item) for item in items if not is_empty(item)]
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
