"""Pushdown to a real PostgreSQL: the plan runs inside the database, results equal DuckDB's.

Each test gets its own fresh database (``pg_url`` fixture). The same rows are written to
a Parquet file and checked by DuckDB; every check must give the same status, failed rows
and observed value on both engines.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakegate.errors import DatasetError
from lakegate.lake.storage import Lake
from lakegate.observability.redact import clear_registered_secrets
from lakegate.quality.models import parse_rules
from lakegate.quality.service import check as run_check
from lakegate.settings import get_settings

pytestmark = pytest.mark.integration

NOW = datetime.now().replace(microsecond=0)
ROWS: list[tuple[Any, ...]] = [
    (1, 10, 10.5, "a@x.com", "new", NOW - timedelta(hours=1)),
    (2, 11, 20.0, "b@x.com", "paid", NOW - timedelta(days=3)),
    (3, 12, -1.0, "bad", "paid", NOW - timedelta(days=4)),
    (3, 13, 500.0, None, "shipped", NOW - timedelta(days=5)),
    (4, None, None, "", None, None),
    (5, 10, 30.0, "c%d@x.com", "deleted", NOW - timedelta(days=6)),
]
CHECKS: list[dict[str, Any]] = [
    {"type": "row_count", "min": 1, "max": 6},
    {"type": "not_null", "column": "email", "missing_values": [""]},
    {"type": "unique", "column": "order_id"},
    {"type": "unique", "columns": ["customer_id", "status"]},
    {"type": "accepted_values", "column": "status", "values": ["new", "paid", "shipped"]},
    {"type": "forbidden_values", "column": "status", "values": ["deleted"]},
    {"type": "between", "column": "amount", "min": 0, "max": 100, "mostly": 0.5},
    {"type": "regex", "column": "email", "preset": "email"},
    {"type": "regex", "name": "percent_sign", "column": "email", "pattern": "%"},
    {"type": "length", "column": "status", "min": 4, "max": 5},
    {
        "type": "schema",
        "columns": ["order_id", "amount"],
        "types": {"order_id": "integer", "amount": "float", "created_at": "timestamp"},
    },
    {"type": "freshness", "column": "created_at", "max_age": "2h"},
    {"type": "aggregate", "column": "amount", "metric": "mean", "min": 0, "max": 100},
    {"type": "aggregate", "name": "sd", "column": "amount", "metric": "stddev", "max": 1000},
    {
        "type": "aggregate",
        "name": "dc",
        "column": "customer_id",
        "metric": "distinct_count",
        "max": 3,
    },
    {"type": "expression", "expression": "amount < 100 OR status = 'shipped'"},
    {"type": "custom_sql", "name": "big", "query": "SELECT * FROM dataset WHERE amount > 100"},
    {
        "type": "custom_sql",
        "name": "paid",
        "metric_query": "SELECT count(*) FROM dataset WHERE status LIKE 'pa%'",
        "min": 2,
        "max": 2,
    },
    {
        "type": "referential",
        "column": "customer_id",
        "ref_dataset": "customers",
        "ref_column": "customer_id",
    },
    {"type": "reconcile", "other_dataset": "customers", "tolerance": 2},
]


def _create(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE orders (order_id bigint, customer_id bigint, amount double precision,"
            " email text, status varchar(20), created_at timestamp)"
        )
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO orders VALUES (%s, %s, %s, %s, %s, %s)", ROWS)
        conn.execute("CREATE TABLE customers (customer_id bigint, name text)")
        conn.execute("INSERT INTO customers VALUES (10, 'a'), (11, 'b'), (12, 'c'), (NULL, 'x')")


def _parquet(folder: Path) -> tuple[Path, Path]:
    orders = pa.table(
        {
            "order_id": pa.array([r[0] for r in ROWS], pa.int64()),
            "customer_id": pa.array([r[1] for r in ROWS], pa.int64()),
            "amount": pa.array([r[2] for r in ROWS], pa.float64()),
            "email": pa.array([r[3] for r in ROWS], pa.string()),
            "status": pa.array([r[4] for r in ROWS], pa.string()),
            "created_at": pa.array([r[5] for r in ROWS], pa.timestamp("us")),
        }
    )
    customers = pa.table(
        {"customer_id": pa.array([10, 11, 12, None], pa.int64()), "name": ["a", "b", "c", "x"]}
    )
    pq.write_table(orders, folder / "orders.parquet")
    pq.write_table(customers, folder / "customers.parquet")
    return folder / "orders.parquet", folder / "customers.parquet"


def _comparable(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    return value


def test_pushdown_matches_duckdb(pg_url: str, tmp_path: Path) -> None:
    _create(pg_url)
    orders_parquet, customers_parquet = _parquet(tmp_path)
    lake = Lake.from_url(str(tmp_path / "lake"))
    settings = get_settings()
    pg_rules = parse_rules({"keys": ["order_id"], "checks": CHECKS}, source="pg.yml")
    duck_checks = [
        {**c, "ref_dataset": str(customers_parquet)}
        if c["type"] == "referential"
        else {**c, "other_dataset": str(customers_parquet)}
        if c["type"] == "reconcile"
        else c
        for c in CHECKS
    ]
    duck_rules = parse_rules({"keys": ["order_id"], "checks": duck_checks}, source="duck.yml")

    pg = run_check(pg_rules, f"{pg_url}#orders", settings=settings, lake=lake, samples=3)
    duck = run_check(duck_rules, str(orders_parquet), settings=settings, lake=lake, samples=3)

    assert pg.engine == "sql" and duck.engine == "duckdb"
    assert pg.rows == duck.rows == 6
    for ours, theirs in zip(pg.checks, duck.checks, strict=True):
        assert ours.name == theirs.name
        assert (ours.status, ours.failed_rows) == (theirs.status, theirs.failed_rows), ours.name
        if ours.type not in ("freshness", "schema"):
            assert _comparable(ours.observed_value) == _comparable(theirs.observed_value), ours.name
        if ours.failed_rows and ours.status != "pass" and ours.type != "unique":
            assert len(ours.samples) == min(3, ours.failed_rows), ours.name
        if ours.status == "pass":
            assert ours.samples == [], ours.name
    statuses = {c.name: (c.status, c.failed_rows) for c in pg.checks}
    assert statuses["unique_order_id"] == ("fail", 2)
    assert statuses["not_null_email"] == ("fail", 2)
    assert statuses["between_amount"] == ("pass", 2)
    assert statuses["percent_sign"] == ("fail", 4)  # 5 non-NULL emails, only 'c%d@x.com' has '%'
    assert statuses["referential_customer_id"] == ("fail", 1)
    assert statuses["big"] == ("fail", 1)
    assert statuses["paid"] == ("pass", None)
    by_name = {c.name: c for c in pg.checks}
    assert by_name["schema"].status == "pass"
    assert math.isclose(by_name["aggregate_amount"].observed_value, 111.9)
    assert by_name["referential_customer_id"].samples == [{"order_id": 3, "customer_id": 13}]
    # one scan + unique x2 + custom x2 + referential + reconcile + samples of failing checks
    # (unique's samples come with its own GROUP BY query)
    assert by_name["unique_order_id"].samples == [{"order_id": 3, "duplicate_count": 2}]
    assert pg.queries == 7 + sum(1 for c in pg.checks if c.samples and c.type != "unique")


def test_pushdown_never_writes_and_rolls_back(pg_url: str, tmp_path: Path) -> None:
    _create(pg_url)
    rules = parse_rules(
        {
            "checks": [
                {
                    "type": "custom_sql",
                    "name": "sneaky",
                    "query": "WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone",
                }
            ]
        }
    )
    result = run_check(
        rules,
        f"{pg_url}#orders",
        settings=get_settings(),
        lake=Lake.from_url(str(tmp_path / "lake")),
    )
    assert result.checks[0].status in ("fail", "error")
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (6,)


def test_bad_tables_and_secrets(pg_url: str, tmp_path: Path) -> None:
    _create(pg_url)
    lake = Lake.from_url(str(tmp_path / "lake"))
    host, _, database = pg_url.removeprefix("postgresql://postgres@").partition("/")
    secret_url = f"postgresql://postgres:Sup3rSecretPw@{host}/{database}"
    rules = parse_rules({"checks": [{"type": "row_count", "min": 1}]})
    try:
        with pytest.raises(DatasetError) as info:
            run_check(rules, f"{secret_url}#nope", settings=get_settings(), lake=lake)
        assert "table 'nope' not found" in str(info.value)
        assert "Sup3rSecretPw" not in str(info.value)
        result = run_check(rules, f"{secret_url}#public.orders", settings=get_settings(), lake=lake)
        assert result.rows == 6
        assert "Sup3rSecretPw" not in str(result.to_dict())
        with pytest.raises(DatasetError, match="cannot connect"):
            run_check(
                rules,
                "postgresql://postgres:Sup3rSecretPw@127.0.0.1:1/x#t",
                settings=get_settings(),
                lake=lake,
            )
    finally:
        clear_registered_secrets()
