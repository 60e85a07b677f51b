"""Check registry: built-ins listed once, duplicates refused, plugins by entry point."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

import pytest

from lakegate.errors import ConfigError
from lakegate.quality import registry as registry_module
from lakegate.quality.checks.validity import AcceptedValues
from lakegate.quality.models import BUILTIN_CHECK_MODELS
from lakegate.quality.registry import BUILTIN_CHECKS, CheckRegistry, load_plugins

REQUIRED = {
    "row_count",
    "not_null",
    "unique",
    "accepted_values",
    "forbidden_values",
    "between",
    "regex",
    "length",
    "schema",
    "schema_change",
    "freshness",
    "aggregate",
    "expression",
    "custom_sql",
    "referential",
    "reconcile",
    "anomaly",
}


def test_builtins_cover_every_required_type_once() -> None:
    names = [check.type for check in BUILTIN_CHECKS]
    assert len(names) == len(set(names))
    assert set(names) == REQUIRED
    assert {check.model for check in BUILTIN_CHECKS} == set(BUILTIN_CHECK_MODELS)
    for check in BUILTIN_CHECKS:
        assert check.model.model_fields["type"].default == check.type


def test_duplicate_type_is_refused() -> None:
    registry = CheckRegistry([AcceptedValues()])
    with pytest.raises(ConfigError, match="'accepted_values' is registered twice"):
        registry.register(AcceptedValues)


def test_unknown_type_lists_known() -> None:
    with pytest.raises(ConfigError, match=r"unknown check type 'x' \(known: accepted_values\)"):
        CheckRegistry([AcceptedValues()]).get("x")


class _Plugin(AcceptedValues):
    type = "plugin_values"


def test_plugins_load_from_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = EntryPoint(name="plugin", value=f"{__name__}:_Plugin", group="lakegate.checks")

    def fake_entry_points(group: str) -> list[Any]:
        return [entry] if group == "lakegate.checks" else []

    monkeypatch.setattr(registry_module, "entry_points", fake_entry_points)
    registry = CheckRegistry()
    load_plugins(registry)
    assert registry.names() == ["plugin_values"]


def test_a_broken_plugin_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = EntryPoint(name="broken", value="no_such_module_xyz:Check", group="lakegate.checks")
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [entry])
    with pytest.raises(ConfigError, match=r"check plugin 'broken' .* failed to load"):
        load_plugins(CheckRegistry())
