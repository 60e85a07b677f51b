"""Golden SQL per check type (DuckDB and PostgreSQL), and the compiler's plan shape.

The expected strings were reviewed by hand: NULLs excluded where a check lets them pass,
COUNT_IF in DuckDB and SUM(CASE ...) in PostgreSQL (never FILTER (WHERE ...)), the dataset
as the placeholder table ``lg_dataset``.
"""
# ruff: noqa: E501

from __future__ import annotations

from typing import Any

import pytest

from lakegate.errors import ConfigError
from lakegate.quality.compiler import ROWS_ALIAS, bind_tables, compile_rules, render
from lakegate.quality.models import parse_rules

COLS = {
    "id": "BIGINT",
    "amount": "DOUBLE",
    "email": "VARCHAR",
    "status": "VARCHAR",
    "ts": "TIMESTAMP",
    "code": "INTEGER",
}
REF_COLS = {"customer_id": "BIGINT", "amount": "DOUBLE"}

GOLDEN = {
    "row_count": (
        {"type": "row_count", "min": 1},
        {
            "duckdb": {
                "scan": "SELECT COUNT(*) AS lg_rows FROM lg_dataset",
                "queries": [],
                "samples": [],
            },
            "postgres": {
                "scan": "SELECT COUNT(*) AS lg_rows FROM lg_dataset",
                "queries": [],
                "samples": [],
            },
        },
    ),
    "not_null": (
        {"type": "not_null", "column": "email", "missing_values": ["", "N/A"]},
        {
            "duckdb": {
                "scan": "SELECT COUNT(*) AS lg_rows, COUNT_IF(\"email\" IS NULL OR \"email\" IN ('', 'N/A')) AS m0 FROM lg_dataset",
                "queries": [],
                "samples": [
                    'SELECT "id", "email" FROM lg_dataset WHERE "email" IS NULL OR "email" IN (\'\', \'N/A\')'
                ],
            },
            "postgres": {
                "scan": "SELECT COUNT(*) AS lg_rows, SUM(CASE WHEN \"email\" IS NULL OR \"email\" IN ('', 'N/A') THEN 1 ELSE 0 END) AS m0 FROM lg_dataset",
                "queries": [],
                "samples": [
                    'SELECT "id", "email" FROM lg_dataset WHERE "email" IS NULL OR "email" IN (\'\', \'N/A\')'
                ],
            },
        },
    ),
    "unique": (
        {"type": "unique", "columns": ["id", "status"]},
        {
            "duckdb": {
                "scan": "SELECT COUNT(*) AS lg_rows FROM lg_dataset",
                "queries": [
                    'WITH lg_duplicates AS (SELECT "id", "status", COUNT(*) AS duplicate_count FROM lg_dataset WHERE NOT "id" IS NULL AND NOT "status" IS NULL GROUP BY "id", "status" HAVING COUNT(*) > 1) SELECT "d"."id", "d"."status", d.duplicate_count, totals.lg_failed_rows, totals.lg_duplicate_keys FROM (SELECT SUM(duplicate_count) AS lg_failed_rows, COUNT(*) AS lg_duplicate_keys FROM lg_duplicates) AS totals LEFT JOIN lg_duplicates AS d ON TRUE ORDER BY d.duplicate_count DESC'
                ],
                "samples": [],
            },
            "postgres": {
                "scan": "SELECT COUNT(*) AS lg_rows FROM lg_dataset",
                "queries": [
                    'WITH lg_duplicates AS (SELECT "id", "status", COUNT(*) AS duplicate_count FROM lg_dataset WHERE NOT "id" IS NULL AND NOT "status" IS NULL GROUP BY "id", "status" HAVING COUNT(*) > 1) SELECT "d"."id", "d"."status", d.duplicate_count, totals.lg_failed_rows, totals.lg_duplicate_keys FROM (SELECT SUM(duplicate_count) AS lg_failed_rows, COUNT(*) AS lg_duplicate_keys FROM lg_duplicates) AS totals LEFT JOIN lg_duplicates AS d ON TRUE ORDER BY d.duplicate_count DESC NULLS LAST'
                ],
                "samples": [],
            },
        },
    ),
    "accepted_values": (
        {"type": "accepted_values", "column": "status", "values": ["new", "paid"]},
        {
            "duckdb": {
                "scan": "SELECT COUNT(*) AS lg_rows, COUNT_IF(NOT \"status\" IS NULL AND NOT \"status\" IN ('new', 'paid')) AS m0 FROM lg_dataset",
                "queries": [],
                "samples": [
                    'SELECT "id", "status" FROM lg_dataset WHERE NOT "status" IS NULL AND NOT "status" IN (\'new\', \'paid\')'
                ],
            },
            "postgres": {
                "scan": "SELECT COUNT(*) AS lg_rows, SUM(CASE WHEN NOT \"status\" IS NULL AND NOT \"status\" IN ('new', 'paid') THEN 1 ELSE 0 END) AS m0 FROM lg_dataset",
                "queries": [],
                "samples": [
                    'SELECT "id", "status" FROM lg_dataset WHERE NOT "status" IS NULL AND NOT "status" IN (\'new\', \'paid\')'
                ],
            },
        },
    ),
    "forbidden_values": (
        {"type": "forbidden_values", "column": "code", "values": [0, -1]},
        {
            "duckdb": {
                "scan": 'SELECT COUNT(*) AS lg_rows, COUNT_IF("code" IN (0, -1)) AS m0 FROM lg_dataset',
                "queries": [],
                "samples": ['SELECT "id", "code" FROM lg_dataset WHERE "code" IN (0, -1)'],
            },
            "postgres": {
                "scan": 'SELECT COUNT(*) AS lg_rows, SUM(CASE WHEN "code" IN (0, -1) THEN 1 ELSE 0 END) AS m0 FROM lg_dataset',
                "queries": [],
                "samples": ['SELECT "id", "code" FROM lg_dataset WHERE "code" IN (0, -1)'],
            },
        },
    ),
    "between": (
        {"type": "between", "column": "amount", "min": 0, "max": 100},
        {
            "duckdb": {
                "scan": 'SELECT COUNT(*) AS lg_rows, COUNT_IF(NOT "amount" IS NULL AND ("amount" < 0 OR "amount" > 100)) AS m0 FROM lg_dataset',
                "queries": [],
                "samples": [
                    'SELECT "id", "amount" FROM lg_dataset WHERE NOT "amount" IS NULL AND ("amount" < 0 OR "amount" > 100)'
                ],
            },
            "postgres": {
                "scan": 'SELECT COUNT(*) AS lg_rows, SUM(CASE WHEN NOT "amount" IS NULL AND ("amount" < 0 OR "amount" > 100) THEN 1 ELSE 0 END) AS m0 FROM lg_dataset',
                "queries": [],
                "samples": [
                    'SELECT "id", "amount" FROM lg_dataset WHERE NOT "amount" IS NULL AND ("amount" < 0 OR "amount" > 100)'
                ],
            },
        },
    ),
    "regex": (
        {"type": "regex", "column": "email", "pattern": "^[a-z]+@x\\.com$"},
        {
            "duckdb": {
                "scan": 'SELECT COUNT(*) AS lg_rows, COUNT_IF(NOT "email" IS NULL AND NOT REGEXP_MATCHES("email", \'^[a-z]+@x\\.com$\')) AS m0 FROM lg_dataset',
                "queries": [],
                "samples": [
                    'SELECT "id", "email" FROM lg_dataset WHERE NOT "email" IS NULL AND NOT REGEXP_MATCHES("email", \'^[a-z]+@x\\.com$\')'
                ],
            },
            "postgres": {
                "scan": 'SELECT COUNT(*) AS lg_rows, SUM(CASE WHEN NOT "email" IS NULL AND NOT "email" ~ \'^[a-z]+@x\\.com$\' THEN 1 ELSE 0 END) AS m0 FROM lg_dataset',
                "queries": [],
                "samples": [
                    'SELECT "id", "email" FROM lg_dataset WHERE NOT "email" IS NULL AND NOT "email" ~ \'^[a-z]+@x\\.com$\''
                ],
            },
        },
    ),
    "length": (
        {"type": "length", "column": "code", "min": 2, "max": 4},
        {
            "duckdb": {
                "scan": 'SELECT COUNT(*) AS lg_rows, COUNT_IF(NOT "code" IS NULL AND (LENGTH(CAST("code" AS TEXT)) < 2 OR LENGTH(CAST("code" AS TEXT)) > 4)) AS m0 FROM lg_dataset',
                "queries": [],
                "samples": [
                    'SELECT "id", "code" FROM lg_dataset WHERE NOT "code" IS NULL AND (LENGTH(CAST("code" AS TEXT)) < 2 OR LENGTH(CAST("code" AS TEXT)) > 4)'
                ],
            },
            "postgres": {
                "scan": 'SELECT COUNT(*) AS lg_rows, SUM(CASE WHEN NOT "code" IS NULL AND (LENGTH(CAST("code" AS VARCHAR)) < 2 OR LENGTH(CAST("code" AS VARCHAR)) > 4) THEN 1 ELSE 0 END) AS m0 FROM lg_dataset',
                "queries": [],
                "samples": [
                    'SELECT "id", "code" FROM lg_dataset WHERE NOT "code" IS NULL AND (LENGTH(CAST("code" AS VARCHAR)) < 2 OR LENGTH(CAST("code" AS VARCHAR)) > 4)'
                ],
            },
        },
    ),
    "schema": (
        {"type": "schema", "columns": ["id"]},
        {
            "duckdb": {
                "scan": "SELECT COUNT(*) AS lg_rows FROM lg_dataset",
                "queries": [],
                "samples": [],
            },
            "postgres": {
                "scan": "SELECT COUNT(*) AS lg_rows FROM lg_dataset",
                "queries": [],
                "samples": [],
            },
        },
    ),
    "schema_change": (
        {"type": "schema_change"},
        {
            "duckdb": {
                "scan": "SELECT COUNT(*) AS lg_rows FROM lg_dataset",
                "queries": [],
                "samples": [],
            },
            "postgres": {
                "scan": "SELECT COUNT(*) AS lg_rows FROM lg_dataset",
                "queries": [],
                "samples": [],
            },
        },
    ),
    "freshness": (
        {"type": "freshness", "column": "ts", "max_age": "2d"},
        {
            "duckdb": {
                "scan": 'SELECT COUNT(*) AS lg_rows, MAX("ts") AS m0 FROM lg_dataset',
                "queries": [],
                "samples": [],
            },
            "postgres": {
                "scan": 'SELECT COUNT(*) AS lg_rows, MAX("ts") AS m0 FROM lg_dataset',
                "queries": [],
                "samples": [],
            },
        },
    ),
    "aggregate": (
        {"type": "aggregate", "column": "amount", "metric": "stddev", "max": 10},
        {
            "duckdb": {
                "scan": 'SELECT COUNT(*) AS lg_rows, STDDEV_SAMP("amount") AS m0 FROM lg_dataset',
                "queries": [],
                "samples": [],
            },
            "postgres": {
                "scan": 'SELECT COUNT(*) AS lg_rows, STDDEV_SAMP("amount") AS m0 FROM lg_dataset',
                "queries": [],
                "samples": [],
            },
        },
    ),
    "expression": (
        {"type": "expression", "expression": "amount <= code * 2"},
        {
            "duckdb": {
                "scan": "SELECT COUNT(*) AS lg_rows, COUNT_IF(NOT (amount <= code * 2)) AS m0 FROM lg_dataset",
                "queries": [],
                "samples": [
                    'SELECT "id", "amount", "code" FROM lg_dataset WHERE NOT (amount <= code * 2)'
                ],
            },
            "postgres": {
                "scan": "SELECT COUNT(*) AS lg_rows, SUM(CASE WHEN NOT (amount <= code * 2) THEN 1 ELSE 0 END) AS m0 FROM lg_dataset",
                "queries": [],
                "samples": [
                    'SELECT "id", "amount", "code" FROM lg_dataset WHERE NOT (amount <= code * 2)'
                ],
            },
        },
    ),
    "custom_sql": (
        {"type": "custom_sql", "query": "SELECT id FROM dataset WHERE amount > code"},
        {
            "duckdb": {
                "scan": "SELECT COUNT(*) AS lg_rows FROM lg_dataset",
                "queries": [
                    "SELECT COUNT(*) AS failed_rows FROM (SELECT id FROM lg_dataset AS dataset WHERE amount > code) AS failed"
                ],
                "samples": [
                    "SELECT * FROM (SELECT id FROM lg_dataset AS dataset WHERE amount > code) AS failed"
                ],
            },
            "postgres": {
                "scan": "SELECT COUNT(*) AS lg_rows FROM lg_dataset",
                "queries": [
                    "SELECT COUNT(*) AS failed_rows FROM (SELECT id FROM lg_dataset AS dataset WHERE amount > code) AS failed"
                ],
                "samples": [
                    "SELECT * FROM (SELECT id FROM lg_dataset AS dataset WHERE amount > code) AS failed"
                ],
            },
        },
    ),
    "referential": (
        {
            "type": "referential",
            "column": "id",
            "ref_dataset": "customers",
            "ref_column": "customer_id",
        },
        {
            "duckdb": {
                "scan": "SELECT COUNT(*) AS lg_rows FROM lg_dataset",
                "queries": [
                    'SELECT COUNT(*) AS failed_rows FROM lg_dataset AS d WHERE NOT "d"."id" IS NULL AND NOT EXISTS(SELECT 1 FROM lg_ref_0 AS r WHERE "r"."customer_id" = "d"."id")'
                ],
                "samples": [
                    'SELECT "d"."id" FROM lg_dataset AS d WHERE NOT "d"."id" IS NULL AND NOT EXISTS(SELECT 1 FROM lg_ref_0 AS r WHERE "r"."customer_id" = "d"."id")'
                ],
            },
            "postgres": {
                "scan": "SELECT COUNT(*) AS lg_rows FROM lg_dataset",
                "queries": [
                    'SELECT COUNT(*) AS failed_rows FROM lg_dataset AS d WHERE NOT "d"."id" IS NULL AND NOT EXISTS(SELECT 1 FROM lg_ref_0 AS r WHERE "r"."customer_id" = "d"."id")'
                ],
                "samples": [
                    'SELECT "d"."id" FROM lg_dataset AS d WHERE NOT "d"."id" IS NULL AND NOT EXISTS(SELECT 1 FROM lg_ref_0 AS r WHERE "r"."customer_id" = "d"."id")'
                ],
            },
        },
    ),
    "reconcile": (
        {
            "type": "reconcile",
            "other_dataset": "backup",
            "metric": "sum",
            "column": "amount",
            "tolerance": 0.5,
        },
        {
            "duckdb": {
                "scan": 'SELECT COUNT(*) AS lg_rows, SUM("amount") AS m0 FROM lg_dataset',
                "queries": ['SELECT SUM("amount") AS value FROM lg_ref_0'],
                "samples": [],
            },
            "postgres": {
                "scan": 'SELECT COUNT(*) AS lg_rows, SUM("amount") AS m0 FROM lg_dataset',
                "queries": ['SELECT SUM("amount") AS value FROM lg_ref_0'],
                "samples": [],
            },
        },
    ),
    "anomaly": (
        {"type": "anomaly", "metric": "missing_percent", "column": "email"},
        {
            "duckdb": {
                "scan": 'SELECT COUNT(*) AS lg_rows, COUNT_IF("email" IS NULL) AS m0 FROM lg_dataset',
                "queries": [],
                "samples": [],
            },
            "postgres": {
                "scan": 'SELECT COUNT(*) AS lg_rows, SUM(CASE WHEN "email" IS NULL THEN 1 ELSE 0 END) AS m0 FROM lg_dataset',
                "queries": [],
                "samples": [],
            },
        },
    ),
}


def _compile(checks: list[dict[str, Any]], **top: Any) -> Any:
    rules = parse_rules({"keys": ["id"], **top, "checks": checks}, source="r.yml")
    return compile_rules(rules, COLS, dataset="orders", ref_columns=lambda spec, ph: REF_COLS)


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
@pytest.mark.parametrize("check_type", sorted(GOLDEN))
def test_golden_sql(check_type: str, dialect: str) -> None:
    check, expected = GOLDEN[check_type]
    plan = _compile([check])
    rendered = plan.sql(dialect)
    assert rendered["scan"] == expected[dialect]["scan"]
    assert rendered["queries"] == expected[dialect]["queries"]
    assert list(rendered["samples"].values()) == expected[dialect]["samples"]


def test_golden_covers_every_builtin_type() -> None:
    from lakegate.quality.registry import BUILTIN_CHECKS

    assert set(GOLDEN) == {check.type for check in BUILTIN_CHECKS}


def test_every_row_metric_lands_in_one_scan_deduplicated() -> None:
    checks = [
        {"type": "not_null", "column": "email"},
        {"type": "not_null", "column": "email", "name": "again", "severity": "warn"},
        {"type": "between", "column": "amount", "min": 0},
        {"type": "regex", "column": "email", "preset": "email"},
        {"type": "aggregate", "column": "amount", "metric": "mean", "max": 5},
        {"type": "anomaly", "metric": "row_count"},
        {"type": "row_count", "min": 1},
        {"type": "freshness", "column": "ts", "max_age": "1d"},
    ]
    plan = _compile(checks)
    # COUNT(*) once (row_count, anomaly, checked rows), not_null once for two checks.
    assert list(plan.metric_sql) == [ROWS_ALIAS, "m0", "m1", "m2", "m3", "m4"]
    assert plan.checks[0].metrics["failed"] == plan.checks[1].metrics["failed"] == "m0"
    assert plan.checks[5].metrics["value"] == ROWS_ALIAS
    assert plan.queries == []
    for dialect in ("duckdb", "postgres", "spark", "sqlite"):
        sql = plan.sql(dialect)["scan"]
        assert sql.count("SELECT") == 1
        assert "FILTER" not in sql.upper()


def test_filters_rule_file_in_where_check_filter_inside_the_aggregate() -> None:
    plan = _compile(
        [{"type": "not_null", "column": "email", "filter": "status = 'paid'"}],
        filter="ts >= '2026-01-01'",
    )
    assert plan.sql("duckdb")["scan"] == (
        "SELECT COUNT(*) AS lg_rows, COUNT_IF(status = 'paid' AND \"email\" IS NULL) AS m0, "
        "COUNT_IF(status = 'paid') AS m1 FROM lg_dataset WHERE ts >= '2026-01-01'"
    )
    assert list(plan.sql("duckdb")["samples"].values()) == [
        'SELECT "id", "email" FROM lg_dataset WHERE ts >= \'2026-01-01\' AND status = \'paid\' AND "email" IS NULL'
    ]
    assert plan.filtered and not plan.scan_is_row_count_only


def test_custom_sql_sees_the_filtered_dataset() -> None:
    plan = _compile(
        [{"type": "custom_sql", "metric_query": "SELECT max(amount) FROM dataset d", "max": 1}],
        filter="status = 'paid'",
    )
    assert plan.sql("postgres")["queries"] == [
        "SELECT MAX(amount) FROM (SELECT * FROM lg_dataset WHERE status = 'paid') AS d"
    ]


def test_row_count_only_plan_can_use_metadata() -> None:
    assert _compile([{"type": "row_count", "min": 1}, {"type": "schema"}]).scan_is_row_count_only
    assert not _compile([{"type": "not_null", "column": "id"}]).scan_is_row_count_only


def test_missing_columns_are_bad_input_naming_check_and_column() -> None:
    with pytest.raises(ConfigError) as info:
        _compile([{"type": "between", "column": "amout", "min": 0}])
    assert str(info.value).startswith(
        "r.yml: checks[0] (between_amout): column 'amout' not found in dataset 'orders'"
    )
    with pytest.raises(ConfigError, match=r"checks\[0\].filter \(not_null_id\): column 'sttus'"):
        _compile([{"type": "not_null", "column": "id", "filter": "sttus = 'x'"}])
    with pytest.raises(ConfigError, match=r"checks\[0\].expression .*column 'nope'"):
        _compile([{"type": "expression", "expression": "nope > 1"}])
    with pytest.raises(ConfigError, match=r"r.yml: filter: column 'x'"):
        _compile([{"type": "row_count", "min": 1}], filter="x = 1")
    with pytest.raises(ConfigError, match=r"r.yml: keys: column 'k'"):
        _compile([{"type": "row_count", "min": 1}], keys=["k"])
    with pytest.raises(
        ConfigError, match=r"checks\[0\]: column 'nope' not found in dataset 'customers'"
    ):
        _compile(
            [
                {
                    "type": "referential",
                    "column": "id",
                    "ref_dataset": "customers",
                    "ref_column": "nope",
                }
            ]
        )


def test_bad_sql_fragments_are_bad_input() -> None:
    with pytest.raises(ConfigError, match=r"r.yml: checks\[0\].filter: not valid SQL"):
        _compile([{"type": "not_null", "column": "id", "filter": "status = = 'x'"}])
    with pytest.raises(ConfigError, match=r"checks\[0\].query: must be a SELECT query"):
        _compile([{"type": "custom_sql", "query": "DELETE FROM dataset"}])
    with pytest.raises(ConfigError, match="custom_sql takes no filter"):
        _compile([{"type": "custom_sql", "query": "SELECT 1 FROM dataset", "filter": "id > 1"}])


def test_bind_tables_substitutes_placeholders_keeping_aliases() -> None:
    plan = _compile(
        [
            {
                "type": "referential",
                "column": "id",
                "ref_dataset": "customers",
                "ref_column": "customer_id",
            }
        ]
    )
    assert plan.refs == {"lg_ref_0": "customers"}
    tables = {"lg_dataset": "public.orders", "lg_ref_0": "public.customers"}
    assert render(plan.queries[0], "postgres", tables) == (
        'SELECT COUNT(*) AS failed_rows FROM public.orders AS d WHERE NOT "d"."id" IS NULL AND '
        'NOT EXISTS(SELECT 1 FROM public.customers AS r WHERE "r"."customer_id" = "d"."id")'
    )
    original = plan.queries[0].sql()
    bind_tables(plan.queries[0], tables)
    assert plan.queries[0].sql() == original  # binding copies, the plan is reusable


def test_plan_renders_in_spark_dialect() -> None:
    plan = _compile([c for c, _ in GOLDEN.values()])
    spark = plan.sql("spark")
    assert spark["scan"].startswith("SELECT COUNT(*) AS lg_rows, COUNT_IF(")
    assert "RLIKE" in spark["scan"]
    assert "`email`" in spark["scan"]
