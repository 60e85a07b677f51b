"""Rule files: the YAML a user writes, as pydantic models.

A rule file names a dataset, an optional ``filter`` applied to every check, optional
``keys`` (columns shown beside every failed-row sample) and a list of ``checks``::

    dataset: orders
    filter: "order_date >= '2026-01-01'"
    keys: [order_id]
    checks:
      - {name: id_unique, type: unique, columns: [order_id]}
      - {name: amount_range, type: between, column: amount, min: 0, max: 100000, mostly: 0.99}

Every check model derives from :class:`CheckModel` (``name``, ``severity``, ``mostly``,
``filter``) and declares ``type`` as a ``Literal``; unknown keys are refused
(``extra="forbid"``). ``checks`` is a discriminated union on ``type`` built from the check
registry (:mod:`lakegate.quality.registry`), so third-party check types registered through
the ``lakegate.checks`` entry point group validate exactly like built-ins.

Use :func:`load_rules` (a file) or :func:`parse_rules` (a mapping, e.g. produced by an
importer); both raise :class:`~lakegate.errors.ConfigError` with one line per problem naming
the file, the check index and the key: ``rules/orders.yml: checks[2].colum: unknown key``.
SQL fragments (``filter``, ``expression``, ``custom_sql``) are written in DuckDB's dialect
and translated by sqlglot to the engine's dialect.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lakegate.errors import ConfigError, MultipleConfigError
from lakegate.quality.rule_errors import validation_problems

Severity = Literal["warn", "error"]
Scalar = str | int | float | bool
Number = int | float
SchemaChangeKind = Literal["added", "removed", "type_changed"]
SCHEMA_CHANGE_KINDS: tuple[SchemaChangeKind, ...] = ("added", "removed", "type_changed")
AggregateMetric = Literal["min", "max", "mean", "sum", "stddev", "distinct_count"]

REGEX_PRESETS: dict[str, str] = {
    "email": r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "iso_date": r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$",
}
"""Named patterns usable as ``preset:`` in a ``regex`` check."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``30s``, ``15m``, ``6h``, ``2d``, ``1w`` -> timedelta (ValueError otherwise)."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30m, 6h, 2d or 1w")
    return timedelta(**{_DURATION_UNITS[match.group(2)]: float(match.group(1))})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckModel(_Strict):
    """Keys every check accepts.

    Subclasses add ``type: Literal["<type>"]`` and their own keys. ``column`` is the
    column a check is about (``None`` for dataset-level checks); :meth:`columns_used`
    lists every column a check reads so the compiler can refuse a missing one.
    """

    type: str
    name: str | None = None
    """Unique within the rule file; defaults to ``<type>`` or ``<type>_<column>``."""
    severity: Severity = "error"
    """``error`` fails the run (exit 1); ``warn`` only reports."""
    mostly: float | None = Field(default=None, ge=0.0, le=1.0)
    """Row-level checks: fraction of rows that must pass (default 1.0, every row)."""
    filter: str | None = None
    """SQL boolean (DuckDB dialect): the check only looks at rows where it is true."""

    @property
    def display_column(self) -> str | None:
        """The column shown in results (``a, b`` for compound keys)."""
        column = getattr(self, "column", None)
        return column if isinstance(column, str) else None

    @property
    def check_name(self) -> str:
        """``name`` or a default derived from type and column."""
        if self.name:
            return self.name
        column = self.display_column
        return f"{self.type}_{column.replace(', ', '_')}" if column else self.type

    def columns_used(self) -> list[str]:
        """Columns of the checked dataset that this check reads."""
        column = getattr(self, "column", None)
        return [column] if isinstance(column, str) else []


class _ColumnCheck(CheckModel):
    column: str


class RowCountCheck(CheckModel):
    """Number of rows (after filters) within ``min``/``max`` or equal to ``equals``."""

    type: Literal["row_count"] = "row_count"
    min: int | None = None
    max: int | None = None
    equals: int | None = None

    @model_validator(mode="after")
    def _needs_bound(self) -> RowCountCheck:
        if self.min is None and self.max is None and self.equals is None:
            raise ValueError("row_count needs min, max or equals")
        return self


class NotNullCheck(_ColumnCheck):
    """No NULL in ``column``; ``missing_values`` (``''``, ``'N/A'``...) count as missing too."""

    type: Literal["not_null"] = "not_null"
    missing_values: list[Scalar] = Field(default_factory=list)


class UniqueCheck(CheckModel):
    """No two rows share the key ``columns`` (or ``column``).

    ``failed_rows`` counts every row whose key occurs more than once (a key seen three
    times is three failed rows). Rows with a NULL in any key column are not compared.
    """

    type: Literal["unique"] = "unique"
    columns: list[str] = Field(default_factory=list)
    column: str | None = None

    @model_validator(mode="after")
    def _one_key(self) -> UniqueCheck:
        if bool(self.columns) == bool(self.column):
            raise ValueError("unique needs exactly one of column or columns")
        return self

    @property
    def key(self) -> list[str]:
        """The key columns."""
        return list(self.columns) if self.columns else [str(self.column)]

    @property
    def display_column(self) -> str | None:
        """Key columns joined with ``, ``."""
        return ", ".join(self.key)

    def columns_used(self) -> list[str]:
        """The key columns."""
        return self.key


class AcceptedValuesCheck(_ColumnCheck):
    """Every non-NULL value of ``column`` is one of ``values``."""

    type: Literal["accepted_values"] = "accepted_values"
    values: list[Scalar] = Field(min_length=1)


class ForbiddenValuesCheck(_ColumnCheck):
    """No value of ``column`` is one of ``values``."""

    type: Literal["forbidden_values"] = "forbidden_values"
    values: list[Scalar] = Field(min_length=1)


class BetweenCheck(_ColumnCheck):
    """Every non-NULL value of ``column`` is within ``min``..``max`` (inclusive).

    Bounds may be numbers or ISO dates/timestamps as strings.
    """

    type: Literal["between"] = "between"
    min: Number | str | None = None
    max: Number | str | None = None

    @model_validator(mode="after")
    def _needs_bound(self) -> BetweenCheck:
        if self.min is None and self.max is None:
            raise ValueError("between needs min or max")
        return self


class RegexCheck(_ColumnCheck):
    """Every non-NULL value of ``column`` matches ``pattern`` or a ``preset``."""

    type: Literal["regex"] = "regex"
    pattern: str | None = None
    preset: Literal["email", "uuid", "iso_date"] | None = None

    @model_validator(mode="after")
    def _one_pattern(self) -> RegexCheck:
        if (self.pattern is None) == (self.preset is None):
            raise ValueError("regex needs exactly one of pattern or preset")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from exc
        return self

    @property
    def regex(self) -> str:
        """The pattern to match (the preset's when a preset is named)."""
        return self.pattern if self.pattern is not None else REGEX_PRESETS[str(self.preset)]


class LengthCheck(_ColumnCheck):
    """The length of every non-NULL value of ``column`` is within bounds or equal."""

    type: Literal["length"] = "length"
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)
    equals: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _needs_bound(self) -> LengthCheck:
        if self.min is None and self.max is None and self.equals is None:
            raise ValueError("length needs min, max or equals")
        return self


class SchemaCheck(CheckModel):
    """Required ``columns`` are present, with ``types`` where given; ``strict``: no others.

    Types compare by family (``integer`` matches INT and BIGINT, ``string`` matches
    VARCHAR/TEXT, ``float`` matches DOUBLE/REAL/DECIMAL, ``timestamp`` any timestamp).
    """

    type: Literal["schema"] = "schema"
    columns: list[str] = Field(default_factory=list)
    types: dict[str, str] = Field(default_factory=dict)
    strict: bool = False

    def columns_used(self) -> list[str]:
        """None: a missing column is this check's finding, not a rule error."""
        return []


class SchemaChangeCheck(CheckModel):
    """The columns (names and types) are the same as at the last recorded run."""

    type: Literal["schema_change"] = "schema_change"
    fail_on: list[SchemaChangeKind] = Field(default_factory=lambda: list(SCHEMA_CHANGE_KINDS))


class FreshnessCheck(_ColumnCheck):
    """The newest value of ``column`` (a date/timestamp) is at most ``max_age`` old."""

    type: Literal["freshness"] = "freshness"
    max_age: str

    @field_validator("max_age")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def max_age_delta(self) -> timedelta:
        """``max_age`` as a timedelta."""
        return parse_duration(self.max_age)


class AggregateCheck(_ColumnCheck):
    """An aggregate (``metric``) of ``column`` is within ``min``..``max``."""

    type: Literal["aggregate"] = "aggregate"
    metric: AggregateMetric
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _needs_bound(self) -> AggregateCheck:
        if self.min is None and self.max is None:
            raise ValueError("aggregate needs min or max")
        return self


class ExpressionCheck(CheckModel):
    """A row-level SQL boolean; rows where it is false fail (NULL passes).

    ``column`` is optional and only names the column shown in results and samples.
    """

    type: Literal["expression"] = "expression"
    expression: str
    column: str | None = None


class CustomSqlCheck(CheckModel):
    """A SQL query over the table ``dataset``.

    ``query``: every row it returns is a failed row. ``metric_query``: returns one value,
    which must be within ``min``..``max``.
    """

    type: Literal["custom_sql"] = "custom_sql"
    query: str | None = None
    metric_query: str | None = None
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _one_query(self) -> CustomSqlCheck:
        if (self.query is None) == (self.metric_query is None):
            raise ValueError("custom_sql needs exactly one of query or metric_query")
        if self.metric_query is not None and self.min is None and self.max is None:
            raise ValueError("custom_sql metric_query needs min or max")
        return self


class ReferentialCheck(_ColumnCheck):
    """Every non-NULL value of ``column`` exists in ``ref_column`` of ``ref_dataset``.

    ``ref_dataset`` is resolved like the checked dataset (lake table, Parquet path, or a
    table of the same database for pushdown).
    """

    type: Literal["referential"] = "referential"
    ref_dataset: str
    ref_column: str


class ReconcileCheck(CheckModel):
    """A metric equals the same metric of ``other_dataset`` within a tolerance.

    ``metric``: ``row_count`` or an aggregate of ``column`` (``other_column`` on the other
    side, default the same name). ``tolerance`` is absolute; ``tolerance_percent`` is
    relative to the other dataset's value.
    """

    type: Literal["reconcile"] = "reconcile"
    other_dataset: str
    metric: Literal["row_count", "min", "max", "mean", "sum", "distinct_count"] = "row_count"
    column: str | None = None
    other_column: str | None = None
    tolerance: float = Field(default=0.0, ge=0)
    tolerance_percent: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _column_for_aggregate(self) -> ReconcileCheck:
        if self.metric != "row_count" and not self.column:
            raise ValueError(f"reconcile metric {self.metric} needs column")
        return self


class AnomalyCheck(CheckModel):
    """A metric's z-score against its own history stays within ``max_z``.

    ``metric``: ``row_count``, ``missing_percent`` (needs ``column``) or an aggregate of
    ``column``. Passes (observed z = null) until ``min_history`` runs are recorded.
    """

    type: Literal["anomaly"] = "anomaly"
    metric: Literal[
        "row_count", "missing_percent", "min", "max", "mean", "sum", "stddev", "distinct_count"
    ] = "row_count"
    column: str | None = None
    max_z: float = Field(default=3.0, gt=0)
    min_history: int = Field(default=3, ge=2)
    window: int = Field(default=30, ge=2)
    """Number of most recent runs the mean and standard deviation are taken over."""

    @model_validator(mode="after")
    def _column_for_metric(self) -> AnomalyCheck:
        if self.metric != "row_count" and not self.column:
            raise ValueError(f"anomaly metric {self.metric} needs column")
        return self


BUILTIN_CHECK_MODELS: tuple[type[CheckModel], ...] = (
    RowCountCheck,
    NotNullCheck,
    UniqueCheck,
    AcceptedValuesCheck,
    ForbiddenValuesCheck,
    BetweenCheck,
    RegexCheck,
    LengthCheck,
    SchemaCheck,
    SchemaChangeCheck,
    FreshnessCheck,
    AggregateCheck,
    ExpressionCheck,
    CustomSqlCheck,
    ReferentialCheck,
    ReconcileCheck,
    AnomalyCheck,
)
"""Models of the built-in check types (the registry lists their implementations)."""


class RuleSet(_Strict):
    """A parsed rule file."""

    dataset: str | None = None
    """Name of the dataset the rules are written for (used in results and history)."""
    filter: str | None = None
    """SQL boolean applied to every check."""
    keys: list[str] = Field(default_factory=list)
    """Columns shown beside the offending column in failed-row samples."""
    checks: list[CheckModel] = Field(min_length=1)
    source: str | None = Field(default=None, exclude=True)
    """Where the rules came from (file path), for messages."""

    def to_dict(self) -> dict[str, Any]:
        """The rule file as a plain mapping (what ``yaml.safe_dump`` writes back).

        Keys left at their default are omitted, so the output reads like hand-written YAML.
        """
        out: dict[str, Any] = {}
        for key in ("dataset", "filter", "keys"):
            value = getattr(self, key)
            if value:
                out[key] = value
        out["checks"] = [
            {"type": check.type, **check.model_dump(exclude_defaults=True, exclude={"type"})}
            for check in self.checks
        ]
        return out


def parse_rules(data: Any, *, source: str = "<rules>") -> RuleSet:
    """Validate a rule mapping (from YAML or an importer) into a :class:`RuleSet`.

    Every check is validated by the model its ``type`` names in the check registry.
    Raises :class:`ConfigError` naming ``source``, the check index and the key.
    """
    from lakegate.quality.registry import default_registry

    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a rule file is a mapping with a 'checks' list")
    registry = default_registry()
    problems: list[str] = []
    raw_checks = data.get("checks")
    if not isinstance(raw_checks, list) or not raw_checks:
        problems.append(f"{source}: checks: a non-empty list of checks is required")
        raw_checks = []
    checks: list[CheckModel] = []
    for index, raw in enumerate(raw_checks):
        where = f"checks[{index}]"
        if not isinstance(raw, dict):
            problems.append(f"{source}: {where}: a check is a mapping with a 'type'")
            continue
        type_name = raw.get("type")
        if not isinstance(type_name, str) or not type_name:
            problems.append(f"{source}: {where}.type: required key missing")
            continue
        if type_name not in registry:
            known = ", ".join(sorted(registry.names()))
            problems.append(f"{source}: {where}.type: unknown check type {type_name!r} ({known})")
            continue
        try:
            model: type[CheckModel] = registry.get(type_name).model
            checks.append(model.model_validate(raw))
        except ValidationError as exc:
            problems.extend(validation_problems(source, where, exc, list(model.model_fields)))
    top = {key: value for key, value in data.items() if key != "checks"}
    try:
        rules = RuleSet.model_validate({**top, "checks": checks or [RowCountCheck(min=0)]})
    except ValidationError as exc:
        problems.extend(validation_problems(source, "", exc))
        rules = None
    names = [check.check_name for check in checks]
    for index, name in enumerate(names):
        if name in names[:index]:
            problems.append(
                f"{source}: checks[{index}].name: duplicate check name {name!r} "
                "(give each check a distinct name)"
            )
    if problems:
        raise MultipleConfigError(problems) if len(problems) > 1 else ConfigError(problems[0])
    assert rules is not None
    return rules.model_copy(update={"checks": checks, "source": source})


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a YAML rule file (ConfigError on any problem, naming the file)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read rule file ({exc.strerror or exc})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}:{where}: not valid YAML") from exc
    return parse_rules(data, source=source)
