"""dbt and Great Expectations importers: conversion, not-converted reporting, CLI, bad input."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
import yaml

from lakegate.cli import main
from lakegate.errors import ConfigError
from lakegate.quality.importers.dbt import convert_dbt, import_dbt
from lakegate.quality.importers.gx import convert_gx
from lakegate.quality.models import load_rules


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures logging on this test's captured stderr; later tests in the same
    worker must not write to that closed stream."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


DBT_SCHEMA = """
version: 2
models:
  - name: orders
    data_tests:
      - dbt_utils.unique_combination_of_columns:
          combination_of_columns: [order_id, line_no]
      - dbt_expectations.expect_table_row_count_to_be_between:
          min_value: 1
    columns:
      - name: order_id
        tests: [unique, not_null]
      - name: status
        tests:
          - accepted_values:
              values: [placed, shipped]
              config: {severity: warn, where: "order_date >= '2026-01-01'"}
      - name: customer_id
        tests:
          - relationships: {to: "ref('customers')", field: id}
      - name: amount
        tests:
          - dbt_utils.accepted_range: {min_value: 0, max_value: 100, inclusive: false}
          - dbt_utils.expression_is_true: {expression: ">= 0"}
          - dbt_utils.sequential_values: {interval: 1}
          - not_null: {config: {error_if: ">10"}}
      - name: email
        data_tests:
          - dbt_expectations.expect_column_values_to_match_regex:
              regex: "^[^@]+@[^@]+$"
              mostly: 0.95
          - not_null: {config: {enabled: false}}
sources:
  - name: erp
    tables:
      - name: customers
        columns:
          - name: id
            tests: [unique, {my_custom_test: {x: 1}}]
"""

GX_SUITE: dict[str, Any] = {
    "name": "orders",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "order_id"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "amount", "min_value": 0, "max_value": 1000, "mostly": 0.99},
            "severity": "warning",
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "qty", "min_value": 0, "strict_min": True},
        },
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "status", "value_set": ["a", "b"], "result_format": "COMPLETE"},
        },
        {
            "type": "expect_column_kl_divergence_to_be_less_than",
            "kwargs": {"column": "amount", "partition_object": {}},
        },
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {
                "column": "x",
                "row_condition": 'col("y")>1',
                "condition_parser": "great_expectations",
            },
        },
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "y", "row_condition": "z > 1", "condition_parser": "spark"},
        },
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
        {
            "type": "expect_column_mean_to_be_between",
            "kwargs": {"column": "amount", "min_value": 1, "max_value": 100},
        },
        {
            "type": "expect_compound_columns_to_be_unique",
            "kwargs": {"column_list": ["a", "b"]},
        },
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "e", "regex": "^x"}},
        {
            "type": "expect_column_values_to_be_unique",
            "kwargs": {"column": "id", "unknown_arg": 1},
        },
    ],
}


def _by_name(checks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in checks}


def test_dbt_converts_common_tests_per_model() -> None:
    result = convert_dbt(yaml.safe_load(DBT_SCHEMA))
    assert set(result.rule_sets) == {"orders", "customers"}
    orders = _by_name(result.rule_sets["orders"].to_dict()["checks"])
    assert orders["unique_order_id_line_no"]["columns"] == ["order_id", "line_no"]
    assert orders["row_count"] == {"name": "row_count", "type": "row_count", "min": 1}
    assert orders["unique_order_id"]["columns"] == ["order_id"]
    assert orders["not_null_order_id"]["type"] == "not_null"
    status = orders["accepted_values_status"]
    assert status["severity"] == "warn"
    assert status["filter"] == "order_date >= '2026-01-01'"
    assert status["values"] == ["placed", "shipped"]
    rel = orders["referential_customer_id"]
    assert (rel["ref_dataset"], rel["ref_column"]) == ("customers", "id")
    # exclusive bounds become an expression; expression_is_true is prefixed by the column
    assert orders["expression_amount"]["expression"] == '"amount" > 0 AND "amount" < 100'
    assert orders["expression_amount_2"]["expression"] == '"amount" >= 0'
    assert orders["regex_email"]["mostly"] == 0.95
    assert list(_by_name(result.rule_sets["customers"].to_dict()["checks"])) == ["unique_id"]


def test_dbt_reports_everything_not_converted() -> None:
    result = convert_dbt(yaml.safe_load(DBT_SCHEMA))
    reasons = {(i.dataset, i.column, i.test): i.reason for i in result.not_converted}
    assert reasons[("orders", "amount", "dbt_utils.sequential_values")] == "no Lakegate equivalent"
    assert "error_if" in reasons[("orders", "amount", "not_null")]
    assert reasons[("orders", "email", "not_null")] == "disabled in dbt"
    assert reasons[("customers", "id", "my_custom_test")] == "no Lakegate equivalent"
    assert len(result.not_converted) == 4
    # every test of the file is either converted or reported
    assert result.converted_count + len(result.not_converted) == 14


def test_dbt_unknown_argument_is_not_converted_not_ignored() -> None:
    schema = {
        "models": [
            {
                "name": "m",
                "columns": [
                    {
                        "name": "c",
                        "tests": [
                            {"accepted_values": {"values": [1], "case_sensitive": False}},
                            "not_null",
                        ],
                    }
                ],
            }
        ]
    }
    result = convert_dbt(schema)
    (item,) = result.not_converted
    assert "case_sensitive" in item.reason
    assert [c.type for c in result.rule_sets["m"].checks] == ["not_null"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "not a dbt schema file"),
        ("version: 2\n", "no models, sources, seeds or snapshots"),
        ("models: [{columns: []}]", "every entry needs a 'name'"),
        ("models: [\n  - name: x", "not valid YAML"),
    ],
)
def test_dbt_bad_input_is_one_line_config_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "schema.yml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        import_dbt(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_gx_converts_common_expectations() -> None:
    result = convert_gx(GX_SUITE)
    checks = _by_name(result.rule_sets["orders"].to_dict()["checks"])
    assert checks["not_null_order_id"] == {
        "name": "not_null_order_id",
        "type": "not_null",
        "column": "order_id",
    }
    amount = checks["between_amount"]
    assert (amount["min"], amount["max"], amount["mostly"], amount["severity"]) == (
        0,
        1000,
        0.99,
        "warn",
    )
    assert checks["expression_qty"]["expression"] == '"qty" > 0'
    assert checks["accepted_values_status"]["values"] == ["a", "b"]
    assert checks["not_null_y"]["filter"] == "z > 1"
    assert checks["row_count"]["min"] == 1
    assert checks["mean_amount"] == {
        "name": "mean_amount",
        "type": "aggregate",
        "column": "amount",
        "metric": "mean",
        "min": 1,
        "max": 100,
    }
    assert checks["unique_a_b"]["columns"] == ["a", "b"]
    assert checks["regex_e"]["pattern"] == "^x"


def test_gx_reports_not_converted_with_reasons() -> None:
    result = convert_gx(GX_SUITE)
    reasons = {(i.test, i.column): i.reason for i in result.not_converted}
    assert reasons == {
        ("expect_column_kl_divergence_to_be_less_than", "amount"): "no Lakegate equivalent",
        ("expect_column_values_to_not_be_null", "x"): (
            "row_condition with condition_parser 'great_expectations' is not converted "
            "(only 'spark' SQL)"
        ),
        ("expect_column_values_to_be_unique", "id"): "unsupported argument(s): unknown_arg",
    }
    assert result.converted_count + len(result.not_converted) == len(GX_SUITE["expectations"])


def test_gx_legacy_suite_and_dataset_override() -> None:
    legacy = {
        "expectation_suite_name": "old_suite",
        "expectations": [
            {"expectation_type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}}
        ],
    }
    assert list(convert_gx(legacy).rule_sets) == ["old_suite"]
    assert list(convert_gx(legacy, dataset="orders").rule_sets) == ["orders"]


def test_gx_invalid_check_is_reported_not_written() -> None:
    """A draft the rule models refuse (a bad regex) ends in not_converted, never in a file."""
    suite = {
        "name": "s",
        "expectations": [
            {
                "type": "expect_column_values_to_match_regex",
                "kwargs": {"column": "c", "regex": "("},
            },
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "c"}},
        ],
    }
    result = convert_gx(suite)
    (item,) = result.not_converted
    assert item.reason.startswith("rejected by the rule models:")
    assert len(result.rule_sets["s"].checks) == 1


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_import_dbt_writes_one_valid_rule_file_per_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = tmp_path / "schema.yml"
    schema.write_text(DBT_SCHEMA)
    code, out, err = _run(capsys, "rules", "import", "dbt", str(schema), "-o", str(tmp_path / "r"))
    assert code == 0, err
    assert "wrote" in out and "4 test(s) not converted" in err
    assert "dbt_utils.sequential_values" in err
    orders = load_rules(tmp_path / "r" / "orders.yml")
    assert orders.dataset == "orders" and len(orders.checks) == 9
    assert load_rules(tmp_path / "r" / "customers.yml").dataset == "customers"
    # existing files are not overwritten without --force
    code, _, err = _run(capsys, "rules", "import", "dbt", str(schema), "-o", str(tmp_path / "r"))
    assert code == 2 and "already exists" in err
    code, _, _ = _run(
        capsys, "rules", "import", "dbt", str(schema), "-o", str(tmp_path / "r"), "--force"
    )
    assert code == 0


def test_cli_import_gx_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "suite.json"
    suite.write_text(json.dumps(GX_SUITE))
    out_file = tmp_path / "orders.yml"
    code, out, _ = _run(
        capsys, "rules", "import", "gx", str(suite), "-o", str(out_file), "--output", "json"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["files"] == {"orders": str(out_file)}
    assert doc["converted"] == 9 and len(doc["not_converted"]) == 3
    assert {"dataset", "test", "column", "reason"} == set(doc["not_converted"][0])
    assert load_rules(out_file).to_dict() == doc["rule_sets"]["orders"]


def test_cli_import_prints_yaml_without_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    suite = tmp_path / "suite.json"
    suite.write_text(json.dumps(GX_SUITE))
    code, out, _ = _run(capsys, "rules", "import", "gx", str(suite), "--dataset", "o2")
    assert code == 0
    assert yaml.safe_load(out)["dataset"] == "o2"


def test_cli_bad_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    bad = tmp_path / "suite.json"
    bad.write_text('{"expectations": 3}')
    code, out, err = _run(capsys, "rules", "import", "gx", str(bad))
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "not a Great Expectations suite" in err
    code, _, err = _run(capsys, "rules", "import", "dbt", str(tmp_path / "missing.yml"))
    assert code == 2 and "cannot read dbt schema file" in err


def test_cli_several_datasets_need_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    schema = tmp_path / "schema.yml"
    schema.write_text(DBT_SCHEMA)
    code, _, err = _run(
        capsys, "rules", "import", "dbt", str(schema), "-o", str(tmp_path / "x.yml")
    )
    assert code == 2 and "give a folder" in err
    assert not (tmp_path / "x.yml").exists()


def test_cli_nothing_converted_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    suite = tmp_path / "suite.json"
    suite.write_text(
        json.dumps(
            {
                "name": "s",
                "expectations": [
                    {
                        "type": "expect_column_kl_divergence_to_be_less_than",
                        "kwargs": {"column": "a"},
                    }
                ],
            }
        )
    )
    code, _, err = _run(capsys, "rules", "import", "gx", str(suite))
    assert code == 1 and "nothing could be converted" in err


def test_gx_suite_written_by_gx_itself() -> None:
    """``data/gx_suite_1x.json`` was produced by GX 1.x ``suite.to_json_dict()``
    (great-expectations 1.24, from the bench extra), so the importer reads the real format."""
    from lakegate.quality.importers.gx import import_gx

    result = import_gx(Path(__file__).parent / "data" / "gx_suite_1x.json")
    checks = _by_name(result.rule_sets["orders"].to_dict()["checks"])
    assert set(checks) == {
        "not_null_order_id",
        "between_amount",
        "accepted_values_status",
        "regex_email",
        "row_count",
        "unique_order_id_line_no",
        "mean_amount",
    }
    assert checks["between_amount"]["severity"] == "warn"
    assert checks["between_amount"]["mostly"] == 0.95
    [(test, reason)] = [(i.test, i.reason) for i in result.not_converted]
    assert test == "expect_column_kl_divergence_to_be_less_than"
    assert reason == "no Lakegate equivalent"


def test_dbt_source_freshness_becomes_freshness_checks() -> None:
    schema = yaml.safe_load(
        """
sources:
  - name: erp
    loaded_at_field: _loaded_at
    freshness:
      warn_after: {count: 12, period: hour}
      error_after: {count: 1, period: day}
    tables:
      - name: orders
      - name: customers
        freshness: null
      - name: events
        loaded_at_field: ts
        freshness:
          error_after: {count: 30, period: minute}
          filter: "ts > '2026-01-01'"
      - name: bad
        freshness: {error_after: {count: 1, period: month}}
"""
    )
    result = convert_dbt(schema)
    orders = result.rule_sets["orders"].to_dict()["checks"]
    assert orders == [
        {
            "name": "freshness_warn",
            "type": "freshness",
            "severity": "warn",
            "column": "_loaded_at",
            "max_age": "12h",
        },
        {"name": "freshness_error", "type": "freshness", "column": "_loaded_at", "max_age": "1d"},
    ]
    assert "customers" not in result.rule_sets  # freshness: null, no tests
    (events,) = result.rule_sets["events"].to_dict()["checks"]
    assert (events["column"], events["max_age"], events["filter"]) == (
        "ts",
        "30m",
        "ts > '2026-01-01'",
    )
    (bad,) = result.not_converted
    assert (bad.dataset, bad.test) == ("bad", "freshness")
    assert "period" in bad.reason
