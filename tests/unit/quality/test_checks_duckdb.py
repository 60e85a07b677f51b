"""Behaviour of every check type on DuckDB, on small Parquet files written by the test.

Expected counts are worked out by hand from the rows below (comments say which rows).
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakegate.quality.models import parse_rules
from lakegate.quality.results import CheckResult, QualityResult
from lakegate.quality.service import check as run_check
from lakegate.settings import get_settings

NOW = datetime.now(UTC).replace(tzinfo=None)
UUID = "123e4567-e89b-12d3-a456-426614174000"
# order_id, customer_id, amount, email, status, uid, day, created_at
ROWS: list[tuple[Any, ...]] = [
    (1, 10, 10.0, "a@x.com", "new", UUID, "2026-01-05", NOW - timedelta(hours=1)),
    (2, 11, 20.0, "b@x.com", "paid", "not-a-uuid", "2026-13-01", NOW - timedelta(days=3)),
    (3, 12, -1.0, "bad", "paid", None, "2026-1-5", NOW - timedelta(days=4)),
    (3, 13, 500.0, None, "shipped", UUID.upper(), None, NOW - timedelta(days=5)),
    (4, None, None, "", None, None, "2026-02-28", None),
    (5, 10, 30.0, "c@x.com", "deleted", UUID, "2026-12-31", NOW - timedelta(days=6)),
]
COLUMNS = ["order_id", "customer_id", "amount", "email", "status", "uid", "day", "created_at"]
TYPES = [
    pa.int64(),
    pa.int64(),
    pa.float64(),
    pa.string(),
    pa.string(),
    pa.string(),
    pa.string(),
    pa.timestamp("us"),
]


def write_parquet(
    path: Path, columns: list[str], types: list[pa.DataType], rows: list[tuple[Any, ...]]
) -> Path:
    arrays = [pa.array([row[i] for row in rows], type=t) for i, t in enumerate(types)]
    pq.write_table(pa.Table.from_arrays(arrays, names=columns), path)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("quality_data")
    write_parquet(root / "orders.parquet", COLUMNS, TYPES, ROWS)
    write_parquet(
        root / "customers.parquet",
        ["customer_id", "name"],
        [pa.int64(), pa.string()],
        [(10, "a"), (11, "b"), (12, "c"), (None, "nobody")],
    )
    return root


def run(data: Path, *checks: dict[str, Any], samples: int = 10, **top: Any) -> QualityResult:
    rules = parse_rules({**top, "checks": list(checks)}, source="test.yml")
    return run_check(
        rules, str(data / "orders.parquet"), settings=get_settings(), lake=None, samples=samples
    )


def one(data: Path, check: dict[str, Any], **top: Any) -> CheckResult:
    return run(data, check, **top).checks[0]


def test_row_count(data: Path) -> None:
    assert one(data, {"type": "row_count", "min": 1, "max": 6}).status == "pass"
    failed = one(data, {"type": "row_count", "equals": 5})
    assert (failed.status, failed.observed_value, failed.threshold) == ("fail", 6, {"equals": 5})
    filtered = one(data, {"type": "row_count", "max": 2, "filter": "status = 'paid'"})
    assert (filtered.status, filtered.observed_value) == ("pass", 2)


def test_not_null_and_missing_values(data: Path) -> None:
    plain = one(data, {"type": "not_null", "column": "email"})
    assert (plain.status, plain.failed_rows, plain.checked_rows) == ("fail", 1, 6)  # row 4
    missing = one(data, {"type": "not_null", "column": "email", "missing_values": [""]})
    assert missing.failed_rows == 2  # rows 4 (NULL) and 5 ('')
    assert missing.failed_percent == pytest.approx(33.3333)
    assert {s["email"] for s in missing.samples} == {None, ""}


def test_unique_counts_every_row_of_a_duplicated_key(data: Path) -> None:
    result = one(data, {"type": "unique", "column": "order_id"})
    assert (result.status, result.failed_rows) == ("fail", 2)  # order 3 twice
    assert result.samples == [{"order_id": 3, "duplicate_count": 2}]
    customers = one(data, {"type": "unique", "column": "customer_id"})
    assert customers.failed_rows == 2  # customer 10 twice; the NULL customer is not compared
    compound = one(data, {"type": "unique", "columns": ["customer_id", "status"]})
    assert (compound.status, compound.failed_rows) == ("pass", 0)


def test_accepted_and_forbidden_values_let_nulls_pass(data: Path) -> None:
    accepted = one(
        data, {"type": "accepted_values", "column": "status", "values": ["new", "paid", "shipped"]}
    )
    assert (accepted.failed_rows, accepted.samples) == (1, [{"status": "deleted"}])
    forbidden = one(data, {"type": "forbidden_values", "column": "status", "values": ["deleted"]})
    assert forbidden.failed_rows == 1
    numbers = one(data, {"type": "accepted_values", "column": "customer_id", "values": [10, 11]})
    assert numbers.failed_rows == 2  # 12, 13; NULL passes


def test_between_with_mostly(data: Path) -> None:
    result = one(data, {"type": "between", "column": "amount", "min": 0, "max": 100})
    assert (result.failed_rows, result.status) == (2, "fail")  # -1 and 500; NULL passes
    assert sorted(s["amount"] for s in result.samples) == [-1.0, 500.0]
    # 4 of 6 rows pass (66.7%).
    assert (
        one(
            data, {"type": "between", "column": "amount", "min": 0, "max": 100, "mostly": 0.6}
        ).status
        == "pass"
    )
    assert (
        one(
            data,
            {
                "type": "between",
                "column": "amount",
                "min": 0,
                "max": 100,
                "mostly": 0.7,
                "severity": "warn",
            },
        ).status
        == "warn"
    )
    dates = one(
        data,
        {
            "type": "between",
            "column": "created_at",
            "min": (NOW - timedelta(days=4, hours=1)).isoformat(sep=" "),
        },
    )
    assert dates.failed_rows == 2  # created 5 and 6 days ago


def test_regex_pattern_and_presets(data: Path) -> None:
    email = one(data, {"type": "regex", "column": "email", "preset": "email"})
    assert email.failed_rows == 2  # 'bad' and ''
    uid = one(data, {"type": "regex", "column": "uid", "preset": "uuid"})
    assert uid.failed_rows == 1  # 'not-a-uuid' (upper-case hex is a valid UUID)
    day = one(data, {"type": "regex", "column": "day", "preset": "iso_date"})
    assert day.failed_rows == 2  # '2026-13-01', '2026-1-5'
    pattern = one(data, {"type": "regex", "column": "status", "pattern": "^[a-z]{3,4}$"})
    assert pattern.failed_rows == 2  # shipped, deleted
    numeric = one(data, {"type": "regex", "column": "order_id", "pattern": "^[1-4]$"})
    assert numeric.failed_rows == 1  # 5: non-text columns are matched as text


def test_length(data: Path) -> None:
    assert one(data, {"type": "length", "column": "status", "min": 4}).failed_rows == 1  # new
    assert one(data, {"type": "length", "column": "status", "max": 5}).failed_rows == 2
    assert one(data, {"type": "length", "column": "day", "equals": 10}).failed_rows == 1  # 2026-1-5


def test_schema(data: Path) -> None:
    ok = one(
        data,
        {
            "type": "schema",
            "columns": ["order_id", "email"],
            "types": {"order_id": "integer", "amount": "float", "created_at": "timestamp"},
        },
    )
    assert ok.status == "pass"
    bad = one(
        data,
        {
            "type": "schema",
            "columns": ["order_id", "missing_col"],
            "types": {"email": "integer"},
            "strict": True,
        },
    )
    assert bad.status == "fail"
    assert bad.observed_value["missing"] == ["missing_col"]
    assert bad.observed_value["wrong_types"] == {"email": "VARCHAR"}
    assert set(bad.observed_value["unexpected"]) == {
        "customer_id",
        "amount",
        "status",
        "uid",
        "day",
        "created_at",
    }


def test_freshness(data: Path) -> None:
    fresh = one(data, {"type": "freshness", "column": "created_at", "max_age": "2h"})
    assert fresh.status == "pass"
    # The newest row was one hour old at import time; the module may have been imported
    # (collected) a while before this test runs.
    since_import = (datetime.now(UTC).replace(tzinfo=None) - NOW).total_seconds()
    assert 3600 - 1 <= fresh.observed_value <= 3600 + since_import + 1
    stale = one(data, {"type": "freshness", "column": "created_at", "max_age": "30m"})
    assert stale.status == "fail"
    filtered = one(
        data,
        {"type": "freshness", "column": "created_at", "max_age": "2d", "filter": "status = 'paid'"},
    )
    assert filtered.status == "fail"  # newest paid order is 3 days old


def test_aggregates(data: Path) -> None:
    def value(metric: str) -> Any:
        return one(
            data,
            {"type": "aggregate", "column": "amount", "metric": metric, "min": -1000, "max": 1000},
        ).observed_value

    assert value("min") == -1.0
    assert value("max") == 500.0
    assert value("sum") == 559.0
    assert value("mean") == pytest.approx(111.8)
    assert value("stddev") == pytest.approx(statistics.stdev([10.0, 20.0, -1.0, 500.0, 30.0]))
    distinct = one(
        data, {"type": "aggregate", "column": "customer_id", "metric": "distinct_count", "max": 3}
    )
    assert (distinct.observed_value, distinct.status) == (4, "fail")


def test_expression_null_passes(data: Path) -> None:
    result = one(data, {"type": "expression", "expression": "amount < 100", "column": "amount"})
    assert (result.failed_rows, result.samples) == (1, [{"amount": 500.0}])


def test_custom_sql(data: Path) -> None:
    failed = one(data, {"type": "custom_sql", "query": "SELECT * FROM dataset WHERE amount > 100"})
    assert (failed.status, failed.failed_rows, failed.samples[0]["order_id"]) == ("fail", 1, 3)
    metric = one(
        data,
        {
            "type": "custom_sql",
            "name": "paid",
            "metric_query": "SELECT count(*) FROM dataset WHERE status = 'paid'",
            "min": 2,
            "max": 2,
        },
    )
    assert (metric.status, metric.observed_value) == ("pass", 2)


def test_referential_and_reconcile(data: Path) -> None:
    customers = str(data / "customers.parquet")
    ref = one(
        data,
        {
            "type": "referential",
            "column": "customer_id",
            "ref_dataset": customers,
            "ref_column": "customer_id",
        },
    )
    assert (ref.failed_rows, ref.samples) == (1, [{"customer_id": 13}])
    same = one(data, {"type": "reconcile", "other_dataset": str(data / "orders.parquet")})
    assert (same.status, same.observed_value) == ("pass", 6)
    other = one(data, {"type": "reconcile", "other_dataset": customers})
    assert (other.status, other.threshold) == ("fail", {"equals": 4, "tolerance": 0.0})
    assert (
        one(data, {"type": "reconcile", "other_dataset": customers, "tolerance": 2}).status
        == "pass"
    )
    assert (
        one(data, {"type": "reconcile", "other_dataset": customers, "tolerance_percent": 50}).status
        == "pass"
    )


def test_rule_file_filter_applies_to_every_check(data: Path) -> None:
    result = run(
        data,
        {"type": "row_count", "equals": 4},
        {"type": "between", "column": "amount", "min": 0},
        filter="status IS NOT NULL AND status <> 'deleted'",
    )
    assert result.rows == 4
    assert [c.status for c in result.checks] == ["pass", "fail"]
    assert result.checks[1].checked_rows == 4


def test_samples_only_for_failing_checks_and_bounded(data: Path) -> None:
    result = run(
        data,
        {"type": "not_null", "column": "order_id"},
        {"type": "regex", "column": "status", "pattern": "^x$"},
        samples=2,
        keys=["order_id"],
    )
    passing, failing = result.checks
    assert passing.samples == []
    assert failing.failed_rows == 5 and len(failing.samples) == 2
    assert set(failing.samples[0]) == {"order_id", "status"}
    no_samples = run(data, {"type": "regex", "column": "status", "pattern": "^x$"}, samples=0)
    assert no_samples.checks[0].samples == []


def test_a_failing_expression_errors_alone(data: Path) -> None:
    result = run(
        data,
        {"type": "not_null", "column": "email"},
        {"type": "expression", "name": "boom", "expression": "CAST(email AS INTEGER) > 0"},
        {"type": "custom_sql", "name": "bad_sql", "query": "SELECT * FROM dataset WHERE nope = 1"},
    )
    statuses = {c.name: c.status for c in result.checks}
    assert statuses == {"not_null_email": "fail", "boom": "error", "bad_sql": "error"}
    assert "Conversion Error" in (result.checks[1].message or "")
    assert result.status == "error" and result.exit_code == 1


def test_row_count_survives_when_every_metric_fails(data: Path) -> None:
    result = run(data, {"type": "expression", "expression": "CAST(email AS INTEGER) > 0"})
    assert result.rows == 6
    assert result.checks[0].status == "error"
    assert result.to_dict()["checks"][0]["failed_rows"] is None


def test_a_metric_that_cannot_be_compared_is_an_error_not_a_crash(data: Path) -> None:
    result = run(data, {"type": "aggregate", "column": "email", "metric": "max", "max": 5})
    assert result.checks[0].status == "error"
    assert "cannot evaluate" in (result.checks[0].message or "")
