"""Rule file models: parsing, defaults and one-line errors naming file, check index and key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from lakegate.errors import ConfigError, ExitCode
from lakegate.quality.models import (
    REGEX_PRESETS,
    BetweenCheck,
    NotNullCheck,
    UniqueCheck,
    load_rules,
    parse_duration,
    parse_rules,
)


def test_rule_file_parses_into_typed_checks(tmp_path: Path) -> None:
    path = tmp_path / "orders.yml"
    path.write_text(
        "dataset: orders\n"
        "filter: \"order_date >= '2026-01-01'\"\n"
        "checks:\n"
        "  - {name: id_unique, type: unique, columns: [order_id]}\n"
        "  - {name: amount_range, type: between, column: amount, min: 0, max: 100000,"
        " mostly: 0.99, severity: warn}\n"
        "  - {type: not_null, column: email}\n"
    )
    rules = load_rules(path)
    assert rules.dataset == "orders"
    assert rules.filter == "order_date >= '2026-01-01'"
    assert rules.source == str(path)
    unique, between, not_null = rules.checks
    assert isinstance(unique, UniqueCheck) and unique.key == ["order_id"]
    assert isinstance(between, BetweenCheck)
    assert (between.min, between.max, between.mostly, between.severity) == (0, 100000, 0.99, "warn")
    assert isinstance(not_null, NotNullCheck)
    assert not_null.severity == "error"
    assert not_null.check_name == "not_null_email"


def test_unknown_key_names_file_index_and_key() -> None:
    data = {
        "checks": [
            {"type": "row_count", "min": 1},
            {"type": "unique", "column": "a"},
            {"type": "not_null", "column": "a", "colum": "b"},
        ]
    }
    with pytest.raises(ConfigError) as info:
        parse_rules(data, source="rules/orders.yml")
    assert (
        str(info.value) == "rules/orders.yml: checks[2].colum: unknown key (did you mean 'column'?)"
    )
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_unknown_type_lists_known_types() -> None:
    with pytest.raises(ConfigError) as info:
        parse_rules({"checks": [{"type": "not_nul", "column": "a"}]}, source="r.yml")
    message = str(info.value)
    assert message.startswith("r.yml: checks[0].type: unknown check type 'not_nul'")
    assert "not_null" in message


def test_every_problem_is_reported_on_its_own_line() -> None:
    data = {"checks": [{"type": "between", "column": "a"}, {"column": "x"}, "nonsense"]}
    with pytest.raises(ConfigError) as info:
        parse_rules(data, source="r.yml")
    lines = str(info.value).splitlines()
    assert lines == [
        "r.yml: checks[0]: between needs min or max",
        "r.yml: checks[1].type: required key missing",
        "r.yml: checks[2]: a check is a mapping with a 'type'",
    ]


def test_unknown_top_level_key_and_empty_checks() -> None:
    with pytest.raises(ConfigError, match=r"r.yml: checkz: unknown key"):
        parse_rules({"checkz": [], "checks": [{"type": "row_count", "min": 1}]}, source="r.yml")
    with pytest.raises(ConfigError, match="non-empty list of checks"):
        parse_rules({"checks": []}, source="r.yml")


def test_duplicate_check_names_are_refused() -> None:
    data = {"checks": [{"type": "not_null", "column": "a"}, {"type": "not_null", "column": "a"}]}
    with pytest.raises(ConfigError, match=r"checks\[1\].name: duplicate check name 'not_null_a'"):
        parse_rules(data, source="r.yml")


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ({"type": "unique"}, "unique needs exactly one of column or columns"),
        ({"type": "regex", "column": "a"}, "regex needs exactly one of pattern or preset"),
        ({"type": "regex", "column": "a", "pattern": "("}, "not a valid regular expression"),
        ({"type": "regex", "column": "a", "preset": "phone"}, "checks[0].preset"),
        ({"type": "freshness", "column": "a", "max_age": "2 days"}, "is not a duration"),
        ({"type": "row_count"}, "row_count needs min, max or equals"),
        ({"type": "not_null", "column": "a", "severity": "fatal"}, "checks[0].severity"),
        ({"type": "not_null", "column": "a", "mostly": 1.5}, "checks[0].mostly"),
        ({"type": "custom_sql", "metric_query": "select 1"}, "metric_query needs min or max"),
        ({"type": "anomaly", "metric": "mean"}, "anomaly metric mean needs column"),
        ({"type": "reconcile", "other_dataset": "x", "metric": "sum"}, "needs column"),
    ],
)
def test_invalid_check_values(check: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_rules({"checks": [check]}, source="r.yml")
    assert message in str(info.value)
    assert str(info.value).startswith("r.yml: checks[0]")


def test_unreadable_and_invalid_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing.yml: cannot read rule file"):
        load_rules(tmp_path / "missing.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("checks:\n  - {type: unique\n")
    with pytest.raises(ConfigError, match=r"broken.yml: line \d+: not valid YAML"):
        load_rules(broken)
    listed = tmp_path / "list.yml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="a rule file is a mapping"):
        load_rules(listed)


def test_durations_and_presets() -> None:
    assert parse_duration("2d") == timedelta(days=2)
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("1.5h") == timedelta(hours=1.5)
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")
    assert set(REGEX_PRESETS) == {"email", "uuid", "iso_date"}


def test_to_dict_round_trips() -> None:
    data = {
        "dataset": "orders",
        "keys": ["order_id"],
        "checks": [
            {"type": "unique", "columns": ["order_id", "line"]},
            {"type": "between", "column": "amount", "min": 0, "severity": "warn"},
        ],
    }
    rules = parse_rules(data)
    assert rules.to_dict() == data
    assert parse_rules(rules.to_dict()).checks == rules.checks
