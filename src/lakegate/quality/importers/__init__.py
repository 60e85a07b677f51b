"""Turn other tools' test definitions into Lakegate rule files.

Each importer reads one foreign file (a dbt ``schema.yml``, a Great Expectations suite)
and returns an :class:`ImportResult`: one validated :class:`~lakegate.quality.models.RuleSet`
per dataset, plus every test it did not convert with the reason. Nothing is dropped
silently: a test is either a check in a rule set or a :class:`NotConverted` entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lakegate.errors import ConfigError
from lakegate.quality.models import RuleSet, parse_rules

__all__ = [
    "Arguments",
    "ImportResult",
    "NotConverted",
    "Unsupported",
    "build_rule_sets",
    "default_name",
    "dump_rules",
    "unique_name",
]


class Unsupported(Exception):  # noqa: N818 - a control-flow signal, not an error to the user
    """Raised by a converter: this foreign test cannot be expressed as our check."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Arguments:
    """A foreign test's arguments, consumed key by key.

    Converters ``take`` what they understand; :meth:`finish` refuses anything left over,
    so an argument that changes a test's meaning is never ignored by accident.
    """

    def __init__(self, values: dict[str, Any], *, ignored: frozenset[str] = frozenset()) -> None:
        self._values = {k: v for k, v in values.items() if k not in ignored}

    def take(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` (``default`` when absent), marked as used."""
        return self._values.pop(key, default)

    def require(self, key: str) -> Any:
        """The value of ``key``; :class:`Unsupported` when it is missing."""
        if key not in self._values or self._values[key] is None:
            raise Unsupported(f"argument {key!r} is required")
        return self._values.pop(key)

    def finish(self) -> None:
        """Raise :class:`Unsupported` naming every argument nobody took."""
        if self._values:
            raise Unsupported(f"unsupported argument(s): {', '.join(sorted(self._values))}")


@dataclass(frozen=True)
class NotConverted:
    """A foreign test that has no Lakegate equivalent (yet)."""

    dataset: str
    test: str
    """The foreign test's name (``dbt_utils.recency``, ``expect_column_kl_divergence...``)."""
    column: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of the ``not_converted`` list."""
        return {
            "dataset": self.dataset,
            "test": self.test,
            "column": self.column,
            "reason": self.reason,
        }

    def __str__(self) -> str:
        where = f"{self.dataset}.{self.column}" if self.column else self.dataset
        return f"{where}: {self.test}: {self.reason}"


@dataclass
class ImportResult:
    """Rule sets keyed by dataset name, and what could not be converted."""

    rule_sets: dict[str, RuleSet] = field(default_factory=dict)
    not_converted: list[NotConverted] = field(default_factory=list)

    @property
    def converted_count(self) -> int:
        """Number of checks written."""
        return sum(len(rules.checks) for rules in self.rule_sets.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of ``lakegate rules import ... --output json`` (without file paths)."""
        return {
            "rule_sets": {name: rules.to_dict() for name, rules in self.rule_sets.items()},
            "converted": self.converted_count,
            "not_converted": [item.to_dict() for item in self.not_converted],
        }


def default_name(draft: dict[str, Any]) -> str:
    """``<type>_<column>`` (``<metric>_<column>`` for aggregates), like hand-written rules."""
    kind = str(draft.get("metric") if draft["type"] == "aggregate" else draft["type"])
    if draft["type"] == "schema":
        return kind
    column = draft.get("column") or "_".join(str(c) for c in draft.get("columns") or [])
    return f"{kind}_{column}" if column else kind


def unique_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... whichever is not in ``taken`` (then taken)."""
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def build_rule_sets(
    drafts: dict[str, list[dict[str, Any]]],
    *,
    source: str,
    result: ImportResult,
    filters: dict[str, str] | None = None,
) -> None:
    """Validate each dataset's draft checks through the rule models into ``result``.

    A draft check the models refuse becomes a :class:`NotConverted` entry (the importer
    produced something our engine would not run), never an invalid rule file.
    """
    for dataset, checks in drafts.items():
        valid: list[dict[str, Any]] = []
        for check in checks:
            try:
                parse_rules({"dataset": dataset, "checks": [check]}, source=source)
            except ConfigError as exc:
                result.not_converted.append(
                    NotConverted(
                        dataset,
                        str(check.get("name") or check.get("type")),
                        check.get("column"),
                        f"rejected by the rule models: {exc.message.splitlines()[0]}",
                    )
                )
                continue
            valid.append(check)
        if not valid:
            continue
        data: dict[str, Any] = {"dataset": dataset, "checks": valid}
        if filters and filters.get(dataset):
            data["filter"] = filters[dataset]
        result.rule_sets[dataset] = parse_rules(data, source=f"{source} ({dataset})")


_FIRST_KEYS = ("name", "type", "column", "columns", "severity", "mostly", "filter")


def dump_rules(rules: RuleSet) -> str:
    """The rule set as YAML, keys in the order people write them (name, type, column...)."""
    data = rules.to_dict()
    data["checks"] = [
        {
            **{key: check[key] for key in _FIRST_KEYS if key in check},
            **{key: value for key, value in check.items() if key not in _FIRST_KEYS},
        }
        for check in data["checks"]
    ]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def read_text(path: str | Path, kind: str) -> str:
    """Read an input file or raise a one-line :class:`ConfigError`."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"{path}: cannot read {kind} ({reason})") from exc
