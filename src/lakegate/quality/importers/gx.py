"""Import a Great Expectations expectation suite (JSON) as a Lakegate rule file.

Reads GX 1.x suites (``name``, expectations with ``type``) and 0.x suites
(``expectation_suite_name``, ``expectation_type``). The dataset is the suite's name unless
one is given. ``mostly`` is kept; ``severity`` ``critical`` -> ``error``, ``warning`` and
``info`` -> ``warn``; a ``row_condition`` is converted only when its parser is ``spark``
(SQL). Every other expectation, and any argument we do not understand, is reported as not
converted. NULL semantics are the same as GX's for these expectations: map expectations
ignore NULLs except ``not_null``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lakegate.errors import ConfigError
from lakegate.quality.importers import (
    Arguments,
    ImportResult,
    NotConverted,
    Unsupported,
    build_rule_sets,
    default_name,
    read_text,
    unique_name,
)

__all__ = ["convert_gx", "import_gx"]

Draft = dict[str, Any]
Converter = Callable[[Arguments], Draft]

# Keyword arguments that only shape GX's output, never which rows fail.
_IGNORED = frozenset({"result_format", "include_config", "catch_exceptions", "meta", "batch_id"})
_SEVERITY = {
    "critical": "error",
    "error": "error",
    "warning": "warn",
    "warn": "warn",
    "info": "warn",
}


def _bounds(args: Arguments, draft: Draft, *, exclusive_ok: bool = False) -> Draft:
    """Copy ``min_value``/``max_value`` into ``min``/``max``; refuse strict bounds."""
    for ours, theirs, strict in (
        ("min", "min_value", "strict_min"),
        ("max", "max_value", "strict_max"),
    ):
        value = args.take(theirs)
        if args.take(strict, False) and not exclusive_ok:
            raise Unsupported(f"'{strict}' is not converted")
        if value is not None:
            draft[ours] = value
    return draft


def _not_null(args: Arguments) -> Draft:
    return {"type": "not_null", "column": args.require("column")}


def _unique(args: Arguments) -> Draft:
    return {"type": "unique", "columns": [args.require("column")]}


def _compound_unique(args: Arguments) -> Draft:
    columns = args.require("column_list")
    mode = args.take("ignore_row_if", "all_values_are_missing")
    if mode not in ("all_values_are_missing", "any_value_is_missing"):
        raise Unsupported(f"ignore_row_if {mode!r} is not converted")
    return {"type": "unique", "columns": [str(c) for c in columns]}


def _between(args: Arguments) -> Draft:
    column = args.require("column")
    low, high = args.take("min_value"), args.take("max_value")
    strict_min, strict_max = (
        bool(args.take("strict_min", False)),
        bool(args.take("strict_max", False)),
    )
    if args.take("parse_strings_as_datetimes", False):
        raise Unsupported("'parse_strings_as_datetimes' is not converted")
    if low is None and high is None:
        raise Unsupported("needs min_value or max_value")
    if not (strict_min or strict_max):
        draft: Draft = {"type": "between", "column": column}
        if low is not None:
            draft["min"] = low
        if high is not None:
            draft["max"] = high
        return draft
    parts = []
    for op, bound, strict in ((">", low, strict_min), ("<", high, strict_max)):
        if bound is None:
            continue
        if not isinstance(bound, int | float):
            raise Unsupported("exclusive bounds are converted only when numeric")
        parts.append(f'"{column}" {op if strict else op + "="} {bound!r}')
    return {"type": "expression", "column": column, "expression": " AND ".join(parts)}


def _in_set(args: Arguments) -> Draft:
    if args.take("parse_strings_as_datetimes", False):
        raise Unsupported("'parse_strings_as_datetimes' is not converted")
    return {
        "type": "accepted_values",
        "column": args.require("column"),
        "values": list(args.require("value_set")),
    }


def _not_in_set(args: Arguments) -> Draft:
    return {
        "type": "forbidden_values",
        "column": args.require("column"),
        "values": list(args.require("value_set")),
    }


def _regex(args: Arguments) -> Draft:
    return {
        "type": "regex",
        "column": args.require("column"),
        "pattern": str(args.require("regex")),
    }


def _lengths(args: Arguments) -> Draft:
    return _bounds(args, {"type": "length", "column": args.require("column")})


def _length_equal(args: Arguments) -> Draft:
    return {"type": "length", "column": args.require("column"), "equals": args.require("value")}


def _row_count(args: Arguments) -> Draft:
    return _bounds(args, {"type": "row_count"})


def _row_count_equal(args: Arguments) -> Draft:
    return {"type": "row_count", "equals": args.require("value")}


def _aggregate(metric: str) -> Converter:
    def convert(args: Arguments) -> Draft:
        return _bounds(
            args, {"type": "aggregate", "column": args.require("column"), "metric": metric}
        )

    return convert


def _column_exists(args: Arguments) -> Draft:
    if args.take("column_index") is not None:
        raise Unsupported("'column_index' is not converted")
    return {"type": "schema", "columns": [args.require("column")]}


def _columns_match_set(args: Arguments) -> Draft:
    exact = args.take("exact_match", True)
    return {"type": "schema", "columns": list(args.require("column_set")), "strict": bool(exact)}


def _columns_match_list(args: Arguments) -> Draft:
    # Order is not checked by our schema check; membership and "no others" are.
    raise Unsupported("column order is not checked by Lakegate (use schema with strict)")


def _of_type(args: Arguments) -> Draft:
    column = args.require("column")
    return {"type": "schema", "columns": [column], "types": {column: str(args.require("type_"))}}


def _pair_greater(args: Arguments) -> Draft:
    a, b = args.require("column_A"), args.require("column_B")
    or_equal = bool(args.take("or_equal", False))
    if args.take("ignore_row_if", "both_values_are_missing") != "both_values_are_missing":
        raise Unsupported("ignore_row_if other than both_values_are_missing is not converted")
    op = ">=" if or_equal else ">"
    return {"type": "expression", "column": a, "expression": f'"{a}" {op} "{b}"'}


CONVERTERS: dict[str, Converter] = {
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_be_unique": _unique,
    "expect_compound_columns_to_be_unique": _compound_unique,
    "expect_column_values_to_be_between": _between,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_not_be_in_set": _not_in_set,
    "expect_column_values_to_match_regex": _regex,
    "expect_column_value_lengths_to_be_between": _lengths,
    "expect_column_value_lengths_to_equal": _length_equal,
    "expect_table_row_count_to_be_between": _row_count,
    "expect_table_row_count_to_equal": _row_count_equal,
    "expect_column_min_to_be_between": _aggregate("min"),
    "expect_column_max_to_be_between": _aggregate("max"),
    "expect_column_mean_to_be_between": _aggregate("mean"),
    "expect_column_sum_to_be_between": _aggregate("sum"),
    "expect_column_stdev_to_be_between": _aggregate("stddev"),
    "expect_column_unique_value_count_to_be_between": _aggregate("distinct_count"),
    "expect_column_to_exist": _column_exists,
    "expect_table_columns_to_match_set": _columns_match_set,
    "expect_table_columns_to_match_ordered_list": _columns_match_list,
    "expect_column_values_to_be_of_type": _of_type,
    "expect_column_pair_values_a_to_be_greater_than_b": _pair_greater,
}
"""GX expectation type (lower case) -> converter."""


def _convert(expectation: dict[str, Any], taken: set[str]) -> Draft:
    kind = str(expectation.get("type") or expectation.get("expectation_type") or "")
    converter = CONVERTERS.get(kind.lower())
    if converter is None:
        raise Unsupported("no Lakegate equivalent")
    kwargs = expectation.get("kwargs") or {}
    if not isinstance(kwargs, dict):
        raise Unsupported("'kwargs' must be a mapping")
    args = Arguments(dict(kwargs), ignored=_IGNORED)
    mostly = args.take("mostly")
    row_condition = args.take("row_condition")
    parser = args.take("condition_parser")
    if row_condition and parser != "spark":
        raise Unsupported(
            f"row_condition with condition_parser {parser!r} is not converted (only 'spark' SQL)"
        )
    draft = converter(args)
    args.finish()
    if mostly is not None and float(mostly) < 1.0:
        draft["mostly"] = float(mostly)
    if row_condition:
        draft["filter"] = str(row_condition)
    severity = str(
        expectation.get("severity") or (expectation.get("meta") or {}).get("severity") or "critical"
    )
    if severity.lower() not in _SEVERITY:
        raise Unsupported(f"severity {severity!r} is not converted")
    if _SEVERITY[severity.lower()] == "warn":
        draft["severity"] = "warn"
    return {"name": unique_name(default_name(draft), taken), **draft}


def convert_gx(
    data: Any, *, source: str = "suite.json", dataset: str | None = None
) -> ImportResult:
    """Convert a parsed GX suite into one rule set (see the module docstring)."""
    if not isinstance(data, dict) or not isinstance(data.get("expectations"), list):
        raise ConfigError(f"{source}: not a Great Expectations suite (no 'expectations' list)")
    name = dataset or data.get("name") or data.get("expectation_suite_name")
    if not name:
        raise ConfigError(f"{source}: the suite has no name; pass --dataset")
    name = str(name)
    result = ImportResult()
    taken: set[str] = set()
    checks: list[Draft] = []
    for index, expectation in enumerate(data["expectations"]):
        if not isinstance(expectation, dict):
            raise ConfigError(f"{source}: expectations[{index}]: not a mapping")
        kind = str(expectation.get("type") or expectation.get("expectation_type") or "?")
        try:
            checks.append(_convert(expectation, taken))
        except Unsupported as exc:
            kwargs = expectation.get("kwargs") or {}
            column = kwargs.get("column") if isinstance(kwargs, dict) else None
            result.not_converted.append(NotConverted(name, kind, column, exc.reason))
    build_rule_sets({name: checks}, source=source, result=result)
    return result


def import_gx(path: str | Path, *, dataset: str | None = None) -> ImportResult:
    """Read a GX suite JSON file and convert it (:class:`ConfigError` on bad input)."""
    text = read_text(path, "Great Expectations suite")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    return convert_gx(data, source=str(path), dataset=dataset)
