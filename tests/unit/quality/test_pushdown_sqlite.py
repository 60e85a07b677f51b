"""Pushdown to SQLite (a local file database): rendering in SQLite's dialect, REGEXP
provided by the engine, results equal to what the rows say."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lakegate.errors import DatasetError
from lakegate.lake.storage import Lake
from lakegate.quality.models import parse_rules
from lakegate.quality.service import check as run_check
from lakegate.settings import get_settings


@pytest.fixture
def database(tmp_path: Path) -> str:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER, email TEXT, status TEXT, amount REAL)")
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?)",
            [
                (1, "a@x.com", "new", 5.0),
                (2, "bad", "paid", -1.0),
                (2, None, "x%y", None),
                (3, "c@x.com", None, 50.0),
            ],
        )
        conn.execute("CREATE TABLE ids (id INTEGER)")
        conn.executemany("INSERT INTO ids VALUES (?)", [(1,), (2,)])
    return f"sqlite:///{path}"


def test_checks_run_inside_sqlite(database: str, tmp_path: Path) -> None:
    rules = parse_rules(
        {
            "keys": ["id"],
            "checks": [
                {"type": "row_count", "equals": 4},
                {"type": "unique", "column": "id"},
                {"type": "not_null", "column": "email"},
                {"type": "regex", "column": "email", "preset": "email"},
                {"type": "accepted_values", "column": "status", "values": ["new", "paid"]},
                {"type": "between", "column": "amount", "min": 0},
                {"type": "length", "column": "status", "max": 3},
                {"type": "custom_sql", "query": "SELECT * FROM dataset WHERE status LIKE 'x%'"},
                {"type": "referential", "column": "id", "ref_dataset": "ids", "ref_column": "id"},
            ],
        }
    )
    result = run_check(
        rules,
        f"{database}#orders",
        settings=get_settings(),
        lake=Lake.from_url(str(tmp_path / "lake")),
    )
    assert result.engine == "sql" and result.rows == 4
    failed = {c.name: c.failed_rows for c in result.checks}
    assert failed == {
        "row_count": None,
        "unique_id": 2,
        "not_null_email": 1,
        "regex_email": 1,  # 'bad'; NULL passes
        "accepted_values_status": 1,  # 'x%y'; NULL passes
        "between_amount": 1,
        "length_status": 1,  # 'paid'
        "custom_sql": 1,
        "referential_id": 1,  # 3
    }
    assert result.checks[3].samples == [{"id": 2, "email": "bad"}]


def test_missing_table(database: str, tmp_path: Path) -> None:
    rules = parse_rules({"checks": [{"type": "row_count", "min": 1}]})
    with pytest.raises(DatasetError, match="table 'nope' not found"):
        run_check(
            rules,
            f"{database}#nope",
            settings=get_settings(),
            lake=Lake.from_url(str(tmp_path / "lake")),
        )
