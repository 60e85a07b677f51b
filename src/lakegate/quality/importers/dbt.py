"""Import the data tests of a dbt ``schema.yml`` as Lakegate rule files.

One rule set per model, seed, snapshot or source table (dataset = the table's name, or its
``identifier`` for sources). Converted: ``not_null``, ``unique``, ``accepted_values``,
``relationships``; ``dbt_utils`` ``expression_is_true``, ``accepted_range``,
``not_null_proportion``, ``unique_combination_of_columns``, ``not_accepted_values``,
``recency``, ``equal_rowcount``, ``not_constant``; the common ``dbt_expectations``
tests; and source ``freshness`` (``warn_after`` / ``error_after`` on ``loaded_at_field``).
``config: {severity, where}`` become ``severity`` and ``filter``. Every other test, and any
test with an argument we do not understand, is reported as not converted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

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

__all__ = ["convert_dbt", "import_dbt"]

Draft = dict[str, Any]
Converter = Callable[[str | None, Arguments], Draft]

# Arguments dbt accepts on every test that do not change which rows fail.
_IGNORED = frozenset({"quote", "tags", "meta", "description", "limit", "store_failures"})
_CONFIG_IGNORED = frozenset(
    {"tags", "meta", "limit", "store_failures", "store_failures_as", "schema", "alias",
     "database", "fail_calc", "enabled", "severity", "where", "error_if", "warn_if"}
)  # fmt: skip
_REF = re.compile(r"""^\s*ref\(\s*['"]([^'"]+)['"](?:\s*,\s*['"]([^'"]+)['"])?\s*\)\s*$""")
_SOURCE = re.compile(r"""^\s*source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*$""")
_RECENCY_UNITS = {"second": "s", "minute": "m", "hour": "h", "day": "d", "week": "w"}


def _column(column: str | None) -> str:
    if not column:
        raise Unsupported("is a column test but is declared on the model")
    return column


def _no_column(column: str | None) -> None:
    if column:
        raise Unsupported("is a model test but is declared on a column")


def _dataset_of(target: Any) -> str:
    """``ref('customers')`` -> ``customers``; ``source('erp', 'customers')`` -> ``customers``."""
    text = str(target)
    ref = _REF.match(text)
    if ref:  # ref('model') or ref('package', 'model')
        return ref.group(2) or ref.group(1)
    src = _SOURCE.match(text)
    if src:
        return src.group(2)
    raise Unsupported(f"cannot resolve relationship target {text!r}")


def _range(column: str, low: Any, high: Any, strict: bool) -> Draft:
    """A ``between`` check, or an ``expression`` when the bounds are exclusive."""
    if low is None and high is None:
        raise Unsupported("needs min_value or max_value")
    if not strict:
        draft: Draft = {"type": "between", "column": column}
        if low is not None:
            draft["min"] = low
        if high is not None:
            draft["max"] = high
        return draft
    parts = []
    for op, bound in ((">", low), ("<", high)):
        if bound is not None:
            if not isinstance(bound, int | float):
                raise Unsupported("exclusive bounds are converted only when numeric")
            parts.append(f'"{column}" {op} {bound!r}')
    return {"type": "expression", "column": column, "expression": " AND ".join(parts)}


def _not_null(column: str | None, args: Arguments) -> Draft:
    return {"type": "not_null", "column": _column(column)}


def _unique(column: str | None, args: Arguments) -> Draft:
    return {"type": "unique", "columns": [_column(column)]}


def _accepted_values(column: str | None, args: Arguments) -> Draft:
    return {"type": "accepted_values", "column": _column(column), "values": args.require("values")}


def _not_accepted_values(column: str | None, args: Arguments) -> Draft:
    return {"type": "forbidden_values", "column": _column(column), "values": args.require("values")}


def _relationships(column: str | None, args: Arguments) -> Draft:
    return {
        "type": "referential",
        "column": _column(column),
        "ref_dataset": _dataset_of(args.require("to")),
        "ref_column": str(args.require("field")),
    }


def _expression_is_true(column: str | None, args: Arguments) -> Draft:
    expression = str(args.require("expression"))
    condition = args.take("condition")
    if condition:
        raise Unsupported("'condition' is not converted (use config.where)")
    # dbt_utils renders a column-level test as "<column> <expression>".
    draft: Draft = {
        "type": "expression",
        "expression": f'"{column}" {expression}' if column else expression,
    }
    if column:
        draft["column"] = column
    return draft


def _accepted_range(column: str | None, args: Arguments) -> Draft:
    inclusive = args.take("inclusive", True)
    return _range(_column(column), args.take("min_value"), args.take("max_value"), not inclusive)


def _not_null_proportion(column: str | None, args: Arguments) -> Draft:
    at_most = args.take("at_most", 1.0)
    if float(at_most) != 1.0:
        raise Unsupported("'at_most' below 1 has no equivalent")
    return {
        "type": "not_null",
        "column": _column(column),
        "mostly": float(args.require("at_least")),
    }


def _unique_combination(column: str | None, args: Arguments) -> Draft:
    _no_column(column)
    columns = args.require("combination_of_columns")
    if not isinstance(columns, list) or not columns:
        raise Unsupported("'combination_of_columns' must be a non-empty list")
    return {"type": "unique", "columns": [str(c) for c in columns]}


def _recency(column: str | None, args: Arguments) -> Draft:
    field = args.take("field") or column
    datepart = str(args.require("datepart")).lower()
    interval = args.require("interval")
    if datepart not in _RECENCY_UNITS:
        raise Unsupported(f"datepart {datepart!r} has no fixed duration")
    return {
        "type": "freshness",
        "column": _column(field),
        "max_age": f"{interval}{_RECENCY_UNITS[datepart]}",
    }


def _equal_rowcount(column: str | None, args: Arguments) -> Draft:
    return {"type": "reconcile", "other_dataset": _dataset_of(args.require("compare_model"))}


def _not_constant(column: str | None, args: Arguments) -> Draft:
    return {"type": "aggregate", "column": _column(column), "metric": "distinct_count", "min": 2}


def _ex_between(column: str | None, args: Arguments) -> Draft:
    strictly = bool(args.take("strictly", False))
    return _range(_column(column), args.take("min_value"), args.take("max_value"), strictly)


def _ex_in_set(column: str | None, args: Arguments) -> Draft:
    return {
        "type": "accepted_values",
        "column": _column(column),
        "values": args.require("value_set"),
    }


def _ex_not_in_set(column: str | None, args: Arguments) -> Draft:
    return {
        "type": "forbidden_values",
        "column": _column(column),
        "values": args.require("value_set"),
    }


def _ex_regex(column: str | None, args: Arguments) -> Draft:
    args.take("is_raw")
    if args.take("flags"):
        raise Unsupported("regex 'flags' are not converted")
    return {"type": "regex", "column": _column(column), "pattern": str(args.require("regex"))}


def _ex_lengths(column: str | None, args: Arguments) -> Draft:
    if args.take("strictly", False):
        raise Unsupported("'strictly' is not converted for lengths")
    draft: Draft = {"type": "length", "column": _column(column)}
    for ours, theirs in (("min", "min_value"), ("max", "max_value")):
        value = args.take(theirs)
        if value is not None:
            draft[ours] = value
    return draft


def _ex_length_equal(column: str | None, args: Arguments) -> Draft:
    return {"type": "length", "column": _column(column), "equals": args.require("value")}


def _ex_row_count(column: str | None, args: Arguments) -> Draft:
    if args.take("strictly", False):
        raise Unsupported("'strictly' is not converted for row counts")
    args.take("group_by")  # None is the only value we accept below
    draft: Draft = {"type": "row_count"}
    for ours, theirs in (("min", "min_value"), ("max", "max_value")):
        value = args.take(theirs)
        if value is not None:
            draft[ours] = value
    return draft


def _ex_row_count_equal(column: str | None, args: Arguments) -> Draft:
    args.take("group_by")
    return {"type": "row_count", "equals": args.require("value")}


def _ex_to_exist(column: str | None, args: Arguments) -> Draft:
    return {"type": "schema", "columns": [_column(column)]}


def _ex_aggregate(metric: str) -> Converter:
    def convert(column: str | None, args: Arguments) -> Draft:
        if args.take("strictly", False):
            raise Unsupported("'strictly' is not converted for aggregates")
        args.take("group_by")
        draft: Draft = {"type": "aggregate", "column": _column(column), "metric": metric}
        for ours, theirs in (("min", "min_value"), ("max", "max_value")):
            value = args.take(theirs)
            if value is not None:
                draft[ours] = value
        return draft

    return convert


def _ex_compound_unique(column: str | None, args: Arguments) -> Draft:
    args.take("ignore_row_if")  # "all_values_are_missing" is our semantics (NULL keys skipped)
    columns = args.require("column_list")
    return {"type": "unique", "columns": [str(c) for c in columns]}


_EX = "dbt_expectations."
CONVERTERS: dict[str, Converter] = {
    "not_null": _not_null,
    "unique": _unique,
    "accepted_values": _accepted_values,
    "relationships": _relationships,
    "dbt_utils.expression_is_true": _expression_is_true,
    "dbt_utils.accepted_range": _accepted_range,
    "dbt_utils.not_null_proportion": _not_null_proportion,
    "dbt_utils.unique_combination_of_columns": _unique_combination,
    "dbt_utils.not_accepted_values": _not_accepted_values,
    "dbt_utils.recency": _recency,
    "dbt_utils.equal_rowcount": _equal_rowcount,
    "dbt_utils.not_constant": _not_constant,
    _EX + "expect_column_to_exist": _ex_to_exist,
    _EX + "expect_column_values_to_not_be_null": _not_null,
    _EX + "expect_column_values_to_be_unique": _unique,
    _EX + "expect_column_values_to_be_between": _ex_between,
    _EX + "expect_column_values_to_be_in_set": _ex_in_set,
    _EX + "expect_column_values_to_not_be_in_set": _ex_not_in_set,
    _EX + "expect_column_values_to_match_regex": _ex_regex,
    _EX + "expect_column_value_lengths_to_be_between": _ex_lengths,
    _EX + "expect_column_value_lengths_to_equal": _ex_length_equal,
    _EX + "expect_table_row_count_to_be_between": _ex_row_count,
    _EX + "expect_table_row_count_to_equal": _ex_row_count_equal,
    _EX + "expect_column_min_to_be_between": _ex_aggregate("min"),
    _EX + "expect_column_max_to_be_between": _ex_aggregate("max"),
    _EX + "expect_column_mean_to_be_between": _ex_aggregate("mean"),
    _EX + "expect_column_sum_to_be_between": _ex_aggregate("sum"),
    _EX + "expect_column_stdev_to_be_between": _ex_aggregate("stddev"),
    _EX + "expect_column_unique_value_count_to_be_between": _ex_aggregate("distinct_count"),
    _EX + "expect_column_distinct_count_to_be_between": _ex_aggregate("distinct_count"),
    _EX + "expect_compound_columns_to_be_unique": _ex_compound_unique,
}
"""dbt test name -> converter (a draft check, or :class:`Unsupported`)."""


def _split(entry: Any) -> tuple[str, dict[str, Any]]:
    """A test entry (``"unique"`` or ``{"accepted_values": {...}}``) -> name and arguments."""
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, dict) and "test_name" in entry:
        args = {k: v for k, v in entry.items() if k != "test_name"}
        return str(entry["test_name"]), args
    if isinstance(entry, dict) and len(entry) == 1:
        name, args = next(iter(entry.items()))
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise Unsupported("test arguments must be a mapping")
        return str(name), dict(args)
    raise Unsupported("a test is a name or a one-key mapping {test_name: arguments}")


def _convert_test(entry: Any, column: str | None, taken: set[str]) -> Draft:
    name, raw = _split(entry)
    converter = CONVERTERS.get(name)
    if converter is None:
        raise Unsupported("no Lakegate equivalent")
    custom_name = raw.pop("name", None)
    config = raw.pop("config", None) or {}
    if not isinstance(config, dict):
        raise Unsupported("'config' must be a mapping")
    nested = raw.pop("arguments", None)  # dbt >= 1.10 nests arguments
    if isinstance(nested, dict):
        raw.update(nested)
    # Legacy top-level config keys (dbt < 1.9) behave like config.
    for key in ("severity", "where", "enabled", "error_if", "warn_if"):
        if key in raw:
            config.setdefault(key, raw.pop(key))
    if config.get("enabled") is False:
        raise Unsupported("disabled in dbt")
    for key in ("error_if", "warn_if"):
        if str(config.get(key, "!=0")).replace(" ", "") != "!=0":
            raise Unsupported(f"{key} {config[key]!r} is not converted (only the default '!=0')")
    unknown_config = set(config) - _CONFIG_IGNORED
    if unknown_config:
        raise Unsupported(f"unsupported config: {', '.join(sorted(unknown_config))}")
    args = Arguments(raw, ignored=_IGNORED)
    row_condition = args.take("row_condition")  # dbt_expectations: a SQL predicate
    mostly = args.take("mostly")
    draft = converter(column, args)
    args.finish()
    filters = [f for f in (config.get("where"), row_condition) if f]
    if filters:
        draft["filter"] = (
            " AND ".join(f"({f})" for f in filters) if len(filters) > 1 else filters[0]
        )
    if mostly is not None:
        draft["mostly"] = mostly
    severity = str(config.get("severity", "error")).lower()
    if severity not in ("error", "warn"):
        raise Unsupported(f"severity {severity!r} is not error or warn")
    if severity == "warn":
        draft["severity"] = "warn"
    base = str(custom_name) if custom_name else default_name(draft)
    return {"name": unique_name(base, taken), **draft}


def _tables(data: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Every (dataset, node, source defaults) of the file: models, seeds, snapshots and
    source tables (which inherit their source's ``freshness`` and ``loaded_at_field``)."""
    nodes: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for section in ("models", "seeds", "snapshots"):
        for node in data.get(section) or []:
            if not isinstance(node, dict) or not node.get("name"):
                raise ConfigError(f"{section}: every entry needs a 'name'")
            nodes.append((str(node["name"]), node, {}))
    for source in data.get("sources") or []:
        if not isinstance(source, dict):
            raise ConfigError("sources: every entry must be a mapping")
        defaults = {k: source[k] for k in ("freshness", "loaded_at_field") if k in source}
        for table in source.get("tables") or []:
            if not isinstance(table, dict) or not table.get("name"):
                raise ConfigError(
                    f"sources.{source.get('name')}.tables: every entry needs a 'name'"
                )
            name = str(table.get("identifier") or table["name"])
            nodes.append((name, table, defaults))
    return nodes


_PERIODS = {"minute": "m", "hour": "h", "day": "d"}


def _source_freshness(
    node: dict[str, Any], defaults: dict[str, Any], taken: set[str]
) -> list[Draft]:
    """dbt source freshness (``warn_after`` / ``error_after`` on ``loaded_at_field``) as
    ``freshness`` checks; a table's own ``freshness: null`` turns it off."""
    freshness = node["freshness"] if "freshness" in node else defaults.get("freshness")
    if not freshness:
        return []
    if not isinstance(freshness, dict):
        raise Unsupported("'freshness' must be a mapping")
    column = node.get("loaded_at_field") or defaults.get("loaded_at_field")
    if not column:
        raise Unsupported("source freshness needs a loaded_at_field")
    drafts = []
    for key, severity in (("warn_after", "warn"), ("error_after", "error")):
        after = freshness.get(key)
        if not after:
            continue
        period = str(after.get("period", "")).lower()
        if period not in _PERIODS or not isinstance(after.get("count"), int):
            raise Unsupported(f"{key} needs an integer count and a period (minute/hour/day)")
        draft: Draft = {
            "type": "freshness",
            "column": str(column),
            "max_age": f"{after['count']}{_PERIODS[period]}",
        }
        if severity == "warn":
            draft["severity"] = "warn"
        if freshness.get("filter"):
            draft["filter"] = str(freshness["filter"])
        base = f"freshness_{key.removesuffix('_after')}"
        drafts.append({"name": unique_name(base, taken), **draft})
    return drafts


def _label(entry: Any) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and entry:
        return str(entry.get("test_name") or next(iter(entry)))
    return repr(entry)


def _tests_of(node: dict[str, Any]) -> list[Any]:
    tests = [*(node.get("tests") or []), *(node.get("data_tests") or [])]
    return tests


def convert_dbt(data: Any, *, source: str = "schema.yml") -> ImportResult:
    """Convert a parsed dbt schema file into rule sets (see the module docstring)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: not a dbt schema file (expected a mapping with 'models')")
    if not any(data.get(key) for key in ("models", "sources", "seeds", "snapshots")):
        raise ConfigError(f"{source}: no models, sources, seeds or snapshots found")
    result = ImportResult()
    drafts: dict[str, list[Draft]] = {}
    try:
        tables = _tables(data)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc.message}") from exc
    for dataset, node, defaults in tables:
        taken: set[str] = set()
        checks = drafts.setdefault(dataset, [])
        try:
            checks.extend(_source_freshness(node, defaults, taken))
        except Unsupported as exc:
            result.not_converted.append(NotConverted(dataset, "freshness", None, exc.reason))
        entries: list[tuple[str | None, Any]] = [(None, t) for t in _tests_of(node)]
        for col in node.get("columns") or []:
            if isinstance(col, dict) and col.get("name"):
                entries.extend((str(col["name"]), t) for t in _tests_of(col))
        for column, entry in entries:
            try:
                checks.append(_convert_test(entry, column, taken))
            except Unsupported as exc:
                result.not_converted.append(
                    NotConverted(dataset, _label(entry), column, exc.reason)
                )
    build_rule_sets(drafts, source=source, result=result)
    return result


def import_dbt(path: str | Path) -> ImportResult:
    """Read a dbt ``schema.yml`` and convert its tests (:class:`ConfigError` on bad input)."""
    text = read_text(path, "dbt schema file")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{where}: not valid YAML") from exc
    return convert_dbt(data, source=str(path))
