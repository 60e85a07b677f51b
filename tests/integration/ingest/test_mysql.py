"""The pipeline against the real MariaDB: types value by value, INCREMENTAL, secrets never leak."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import pymysql
import pytest
import structlog
from sqlalchemy.engine import make_url

from lakegate.ingest.models import IngestJob
from lakegate.ingest.pipeline import run_job
from lakegate.lake.storage import Lake
from lakegate.observability.logging import configure_logging
from lakegate.settings import Settings

from .conftest import SetSource, read_lake_table, table_files

pytestmark = pytest.mark.integration

AWKWARD_TEXT = 'it\'s "quoted"\nsecond line; ünïcödé ✓ 日本'


def _connect(url: str) -> Any:
    u = make_url(url)
    return pymysql.connect(
        host=u.host,
        port=u.port or 3306,
        user=u.username,
        password=u.password or "",
        database=u.database,
        autocommit=True,
        charset="utf8mb4",
    )


def _exec(url: str, *sql: str, params: tuple[Any, ...] | None = None) -> None:
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            for statement in sql:
                cur.execute(statement, params)
    finally:
        conn.close()


def _rows(url: str, query: str) -> list[tuple[Any, ...]]:
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(query)
            return list(cur.fetchall())
    finally:
        conn.close()


def _job(**kw: Any) -> IngestJob:
    base: dict[str, Any] = {
        "job_id": "customers",
        "source_type": "mysql",
        "source_name": "maria_crm",
        "table_name": "customers",
        "primary_key": ["id"],
    }
    base.update(kw)
    return IngestJob(**base)


@pytest.fixture
def customers(mysql_url: str, set_source: SetSource) -> str:
    """A MariaDB ``customers`` table with awkward types and NULLs; credentials via env."""
    _exec(
        mysql_url,
        """CREATE TABLE customers (
            id INT PRIMARY KEY, balance DECIMAL(12, 3), seen_at DATETIME(6), born DATE,
            vip BOOLEAN, prefs JSON, ref CHAR(36), note TEXT, updated_at DATETIME NOT NULL
        ) CHARACTER SET utf8mb4""",
    )
    for i in range(1, 31):
        _exec(
            mysql_url,
            "INSERT INTO customers VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            params=(
                i,
                Decimal(i) * Decimal("2.125"),
                f"2024-03-01 10:{i:02d}:00.123456",
                f"1990-01-{(i % 28) + 1:02d}",
                i % 2 == 0,
                json.dumps({"k": i, "l": [1, 2]}),
                f"00000000-0000-0000-0000-{i:012d}",
                AWKWARD_TEXT + str(i),
                f"2024-01-01 {i % 24:02d}:00:00",
            ),
        )
    _exec(mysql_url, "INSERT INTO customers (id, updated_at) VALUES (31, '2024-01-01 23:30:00')")
    set_source("maria_crm", mysql_url)
    return mysql_url


def test_full_load_keeps_every_awkward_value(
    customers: str, lake: Lake, settings: Settings
) -> None:
    result = run_job(_job(), lake=lake, settings=settings, run_id="r1")
    assert result.status == "success", result.error
    assert result.rows_loaded == 31
    got = {r["id"]: r for r in read_lake_table(result.file_paths).to_pylist()}
    source = _rows(
        customers, "SELECT id, balance, seen_at, born, vip, prefs, ref, note FROM customers"
    )
    assert len(source) == len(got) == 31
    for sid, balance, seen_at, born, vip, prefs, ref, note in source:
        row = got[sid]
        assert row["balance"] == balance
        # DATETIME has no zone: it lands as UTC-naive-equivalent, same wall clock
        assert (row["seen_at"].replace(tzinfo=None) if row["seen_at"] else None) == seen_at
        assert row["born"] == born
        assert (bool(row["vip"]) if row["vip"] is not None else None) == (
            bool(vip) if vip is not None else None
        )
        assert (json.loads(row["prefs"]) if row["prefs"] else None) == (
            json.loads(prefs) if prefs else None
        )
        assert row["ref"] == ref
        assert row["note"] == note


def test_incremental_new_and_updated_rows(customers: str, lake: Lake, settings: Settings) -> None:
    job = _job(load_type="INCREMENTAL", watermark_column="updated_at")
    first = run_job(job, lake=lake, settings=settings, run_id="r1")
    assert first.status == "success" and first.rows_loaded == 31
    _exec(
        customers,
        "INSERT INTO customers (id, note, updated_at) VALUES (40, 'new', '2024-02-01 00:00:00')",
        "UPDATE customers SET note = 'changed', updated_at = '2024-02-02 00:00:00' WHERE id = 5",
    )
    second = run_job(job, lake=lake, settings=settings, run_id="r2")
    assert second.status == "success", second.error
    assert sorted((r["id"], r["note"]) for r in read_lake_table(second.file_paths).to_pylist()) == [
        (5, "changed"),
        (40, "new"),
    ]
    assert second.watermark_from == first.watermark_to
    assert read_lake_table(table_files(lake, "customers")).num_rows == 33


def test_wrong_password_never_leaks(
    customers: str,
    lake: Lake,
    settings: Settings,
    set_source: SetSource,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "Wr0ng-P@ss:w/rd%ZEBRA"
    set_source("maria_bad", customers, username="root", password=secret)
    configure_logging("DEBUG", "json")
    caplog.set_level(logging.DEBUG)
    try:
        result = run_job(_job(source_name="maria_bad"), lake=lake, settings=settings, run_id="r1")
        out = capsys.readouterr()
    finally:
        structlog.reset_defaults()  # the configured sink is this test's captured stderr
    assert result.status == "failed"
    assert result.error == "job customers: authentication failed for user root at 127.0.0.1:3306"
    for text in (repr(result), str(result.error), out.out, out.err, caplog.text):
        assert secret not in text
        assert "ZEBRA" not in text
    assert table_files(lake, "customers") == []
