"""Checks decided by Parquet footer statistics give exactly the results of a scan.

``not_null`` (NULL count), ``between`` (min/max inside the bounds), ``freshness``
(largest max) and ``row_count`` are answered from the footers when the statistics are
complete; anything the footers cannot prove (a NaN a float's min/max hides, a file of a
union_by_name set without the column, files written without statistics, an aware
timestamp against a string bound) falls back to the scan. Every case below is run twice,
with the statistics and with ``LAKEGATE_DUCKDB_PARQUET_STATISTICS=false``, and the
results must be identical.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakegate.lake.storage import Lake
from lakegate.quality.checks.base import MAIN
from lakegate.quality.datasets import resolve_dataset
from lakegate.quality.engines.duckdb import DuckDBEngine
from lakegate.quality.models import parse_rules
from lakegate.quality.service import check as run_check
from lakegate.quality.statistics import ColumnStatistics, as_bound, proves_within
from lakegate.settings import get_settings


def _arrow_files(folder: Path, *, statistics: bool = True) -> str:
    """Three files written by pyarrow (as dlt writes the lake), small row groups,
    NULLs, a NaN in one file, an all-NULL column and a column only the last file has."""
    folder.mkdir(parents=True)
    parts = [
        {
            "i": [1, 2, None, 4, 5, 6, 7],
            "d": [Decimal("1.50"), Decimal("2.25"), None, Decimal("9.99"), None, None, None],
            "dt": [date(2026, 1, d) for d in range(1, 8)],
            "ts": [datetime(2026, 1, 1, h) for h in range(7)],
            "tz": [datetime(2026, 1, 1, h, tzinfo=UTC) for h in range(7)],
            "f": [0.5, 1.5, 2.5, None, 3.5, 4.5, 5.5],
            "s": ["a", "b", None, "d", "e", "f", "g"],
            "nothing": pa.array([None] * 7, pa.int64()),
        },
        {
            "i": [8, 9, 10, 11, 12, 13, 14],
            "d": [Decimal("0.01")] * 7,
            "dt": [date(2026, 2, d) for d in range(1, 8)],
            "ts": [datetime(2026, 2, 1, h) for h in range(7)],
            "tz": [datetime(2026, 2, 1, h, tzinfo=UTC) for h in range(7)],
            "f": [1.0, float("nan"), 2.0, 3.0, 4.0, 5.0, 6.0],
            "s": ["h"] * 7,
            "nothing": pa.array([None] * 7, pa.int64()),
        },
        {
            "i": [15, None, 17, 18, 19, 20, 21],
            "d": [Decimal("3.00")] * 7,
            "dt": [date(2026, 3, d) for d in range(1, 8)],
            "ts": [datetime(2026, 3, 1, h) for h in range(7)],
            "tz": [datetime(2026, 3, 1, h, tzinfo=UTC) for h in range(7)],
            "f": [0.0] * 7,
            "s": ["i"] * 7,
            "nothing": pa.array([None] * 7, pa.int64()),
            "late": [1, 2, 3, 4, 5, 6, 7],
        },
    ]
    for n, columns in enumerate(parts):
        table = pa.table(columns)
        table = table.set_column(
            table.schema.get_field_index("d"), "d", table["d"].cast(pa.decimal128(9, 2))
        )
        pq.write_table(
            table, folder / f"part-{n}.parquet", row_group_size=3, write_statistics=statistics
        )
    return str(folder / "*.parquet")


def _duckdb_file(path: Path) -> str:
    """One file written by DuckDB (records NaN counts), two row groups, ns timestamps."""
    duckdb.connect().execute(
        f"""COPY (SELECT CASE WHEN n % 7 = 0 THEN NULL ELSE n END AS i,
                   (n / 100)::DECIMAL(12, 2) AS d,
                   DATE '2026-01-01' + n::INTEGER AS dt,
                   (TIMESTAMP '2026-01-01' + to_seconds(n))::TIMESTAMP_NS AS ts,
                   n::DOUBLE / 3 AS f,
                   NULL::INTEGER AS nothing
                 FROM range(5000) t(n)) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 2048)"""
    )
    return str(path)


RULES: list[dict[str, Any]] = [
    {"name": "rows", "type": "row_count", "min": 1},
    *({"name": f"nn_{c}", "type": "not_null", "column": c} for c in ("i", "d", "dt", "ts", "f")),
    {"name": "nn_nothing", "type": "not_null", "column": "nothing", "mostly": 0.0},
    {"name": "i_inside", "type": "between", "column": "i", "min": 0, "max": 5000},
    {"name": "i_touching", "type": "between", "column": "i", "min": 1, "max": 21},
    {"name": "i_outside", "type": "between", "column": "i", "min": 3, "max": 10},
    {"name": "i_float_bounds", "type": "between", "column": "i", "min": 0.5, "max": 4999.5},
    {"name": "d_inside", "type": "between", "column": "d", "min": 0, "max": 50},
    {"name": "d_outside", "type": "between", "column": "d", "max": 2},
    {"name": "dt_in", "type": "between", "column": "dt", "min": "2026-01-01", "max": "2040-12-31"},
    {"name": "dt_outside", "type": "between", "column": "dt", "max": "2026-01-05"},
    {"name": "ts_inside", "type": "between", "column": "ts", "min": "2025-12-31 23:00:00"},
    {"name": "ts_outside", "type": "between", "column": "ts", "max": "2026-01-01 00:30:00"},
    {"name": "f_inside", "type": "between", "column": "f", "min": -1, "max": 10000},
    {"name": "nothing_between", "type": "between", "column": "nothing", "min": 0, "max": 1},
    {"name": "fresh_ts", "type": "freshness", "column": "ts", "max_age": "36500d"},
    {"name": "stale_dt", "type": "freshness", "column": "dt", "max_age": "1d"},
    {"name": "fresh_nothing", "type": "freshness", "column": "nothing", "max_age": "1d"},
    {"name": "i_max", "type": "aggregate", "metric": "max", "column": "i", "max": 20},
    {"name": "d_min", "type": "aggregate", "metric": "min", "column": "d", "min": 0},
    {"name": "f_max", "type": "aggregate", "metric": "max", "column": "f", "max": 1000},
    {"name": "i_min", "type": "aggregate", "metric": "min", "column": "i", "min": 2},
    {"name": "nothing_min", "type": "aggregate", "metric": "min", "column": "nothing", "min": 0},
    {"name": "rows_z", "type": "anomaly", "metric": "row_count", "min_history": 2},
    {"name": "i_missing_z", "type": "anomaly", "metric": "missing_percent", "column": "i",
     "min_history": 2},
    {"name": "i_max_z", "type": "anomaly", "metric": "max", "column": "i", "min_history": 2},
]  # fmt: skip
ARROW_ONLY: list[dict[str, Any]] = [
    {"name": "nn_late", "type": "not_null", "column": "late", "mostly": 0.0},
    {"name": "late_between", "type": "between", "column": "late", "min": 0, "max": 10},
    {"name": "tz_inside", "type": "between", "column": "tz", "min": "2025-01-01"},
    {"name": "fresh_tz", "type": "freshness", "column": "tz", "max_age": "36500d"},
    {"name": "nn_s", "type": "not_null", "column": "s"},
]


def _comparable(result: Any) -> dict[str, Any]:
    """Per check everything but the freshness age, which moves with the clock."""
    out = {}
    for item in result.to_dict()["checks"]:
        if item["type"] == "freshness":
            item.pop("observed_value")
        item.pop("samples")
        out[item["name"]] = item
    return out


def _both_ways(
    dataset: str, checks: list[dict[str, Any]], lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Results with statistics (and the scan SQL that ran), then without; three runs
    each, every way in its own lake, so the anomaly checks have a history to judge."""
    rules = parse_rules({"checks": checks}, source="stats.yml")
    recorded: list[str] = []
    original = DuckDBEngine.execute

    def recording(self: DuckDBEngine, sql: str, limit: int | None) -> list[dict[str, Any]]:
        recorded.append(sql)
        return original(self, sql, limit)

    monkeypatch.setattr(DuckDBEngine, "execute", recording)
    for _ in range(3):
        recorded.clear()
        with_stats = run_check(rules, dataset, settings=get_settings(), lake=lake, samples=0)
    scans = list(recorded)
    monkeypatch.setenv("LAKEGATE_DUCKDB_PARQUET_STATISTICS", "false")
    other = Lake.from_url(f"{lake.root}-scanned")
    for _ in range(3):
        scanned = run_check(rules, dataset, settings=get_settings(), lake=other, samples=0)
    monkeypatch.delenv("LAKEGATE_DUCKDB_PARQUET_STATISTICS")
    return _comparable(with_stats), _comparable(scanned), scans


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake.from_url(str(tmp_path / "lake"))


def test_arrow_files_same_results_as_scan(
    tmp_path: Path, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = _arrow_files(tmp_path / "arrow")
    with_stats, scanned, scans = _both_ways(dataset, RULES + ARROW_ONLY, lake, monkeypatch)
    assert with_stats == scanned
    # the fixture has failures both ways round: a real comparison, not two empty passes
    assert scanned["nn_i"]["failed_rows"] == 2 and scanned["i_outside"]["failed_rows"] == 12
    # (f_inside: pyarrow's min/max leave the NaN out and record no NaN count, so the
    # footers cannot prove the range; the scan decides, as DuckDB reads it.)
    assert scanned["nn_late"]["failed_rows"] == 14  # two files without the column
    assert scanned["i_max"]["observed_value"] == 21 and scanned["i_max"]["status"] == "fail"
    assert all(scanned[z]["observed_value"] == 0 for z in ("rows_z", "i_missing_z", "i_max_z"))
    (scan,) = [sql for sql in scans if "COUNT(*) AS lg_rows" in sql]
    # decided by the footers, so not in the scan: NULL counts, in-range min/max ...
    for answered in (
        'COUNT_IF("dt" IS NULL)', '"nothing"', '"i" < 0', '"d" < 0', 'MAX("ts")', 'MAX("i")',
        'MIN("d")', 'MIN("i")',
    ):  # fmt: skip
        assert answered not in scan, answered
    # ... but what the footers cannot prove is scanned
    for measured in ('"i" < 3', '"f" < -1', 'COUNT_IF("late" IS NULL)', '"tz" <', 'MAX("f")'):
        assert measured in scan, measured


def test_duckdb_file_same_results_as_scan(
    tmp_path: Path, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = _duckdb_file(tmp_path / "d.parquet")
    with_stats, scanned, scans = _both_ways(dataset, RULES, lake, monkeypatch)
    assert with_stats == scanned
    assert scanned["nn_i"]["failed_rows"] == len(range(0, 5000, 7))
    (scan,) = [sql for sql in scans if "COUNT(*) AS lg_rows" in sql]
    # DuckDB records NaN counts, so a double's min/max is trusted too
    assert '"f"' not in scan and '"nothing"' not in scan


def test_files_without_statistics_are_scanned(
    tmp_path: Path, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = _arrow_files(tmp_path / "nostats", statistics=False)
    with_stats, scanned, scans = _both_ways(dataset, RULES + ARROW_ONLY, lake, monkeypatch)
    assert with_stats == scanned
    (scan,) = [sql for sql in scans if "COUNT(*) AS lg_rows" in sql]
    assert 'COUNT_IF("i" IS NULL)' in scan and 'MAX("ts")' in scan


def test_filters_turn_statistics_off(
    tmp_path: Path, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = _arrow_files(tmp_path / "filtered")
    own = [{"name": "nn_i", "type": "not_null", "column": "i", "filter": "dt < '2026-02-01'"}]
    with_stats, scanned, scans = _both_ways(dataset, own, lake, monkeypatch)
    assert with_stats == scanned and scanned["nn_i"]["failed_rows"] == 1
    assert any('"i" IS NULL' in sql for sql in scans)  # the check's filter: scanned


def _bound(source: str) -> tuple[DuckDBEngine, dict[str, str]]:
    """A DuckDB engine with ``source`` bound as the checked dataset, and its columns."""
    engine = DuckDBEngine()
    columns = dict(engine.bind(MAIN, resolve_dataset(source)))
    return engine, columns


def test_read_statistics_keeps_only_complete_columns(tmp_path: Path) -> None:
    dataset = _arrow_files(tmp_path / "arrow")
    engine, columns = _bound(dataset)
    stats = engine.metadata_statistics(MAIN, columns)
    assert stats is not None and stats.rows == 21
    assert "late" not in stats.columns  # two of three files lack it
    i = stats.columns["i"]
    assert (i.null_count, i.minimum, i.maximum, i.bounded) == (2, 1, 21, True)
    assert stats.columns["f"].bounded is False  # pyarrow records no NaN count
    assert stats.columns["s"] == ColumnStatistics(null_count=1)  # text: NULL count only
    nothing = stats.columns["nothing"]
    assert (nothing.null_count, nothing.bounded, nothing.maximum) == (21, True, None)
    tz = stats.columns["tz"]
    newest = engine.connection.execute(f"SELECT max(tz) FROM '{dataset}'").fetchone()
    assert newest is not None and tz.maximum == newest[0]
    gone = tmp_path / "gone.parquet"
    pq.write_table(pa.table({"i": [1]}), gone)
    engine, columns = _bound(str(gone))
    gone.unlink()  # unreadable footers: no statistics, every check is scanned
    assert engine.metadata_statistics(MAIN, columns) is None


def test_nan_hides_from_min_max(tmp_path: Path) -> None:
    path = tmp_path / "nan.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT * FROM (VALUES (1.0::DOUBLE), ('nan'::DOUBLE), (NULL)) t(f)) TO '{path}'"
    )
    engine, columns = _bound(str(path))
    stats = engine.metadata_statistics(MAIN, columns)
    assert stats is not None and stats.columns["f"].bounded is False
    assert stats.columns["f"].null_count == 1


def test_bounds_compare_only_when_certain() -> None:
    assert as_bound(5, 1) == 5 and as_bound(5, Decimal("1.5")) == 5
    assert as_bound("5", 1) is None  # text against a number: the SQL cast decides
    assert as_bound(True, 1) is None and as_bound(1, True) is None
    assert as_bound("2026-01-02", date(2026, 1, 1)) == date(2026, 1, 2)
    assert as_bound("2026-01-02 10:00", date(2026, 1, 1)) is None
    assert as_bound("2026-01-02 10:00", datetime(2026, 1, 1)) == datetime(2026, 1, 2, 10)
    assert as_bound("2026-01-02", datetime(2026, 1, 1, tzinfo=UTC)) is None
    bounded = ColumnStatistics(null_count=0, minimum=1, maximum=9, bounded=True)
    assert proves_within(bounded, 1, 9) and proves_within(bounded, None, 9)
    assert not proves_within(bounded, 2, None) and not proves_within(bounded, None, 8)
    assert not proves_within(ColumnStatistics(null_count=0, minimum=1, maximum=9), 0, 10)
    assert proves_within(ColumnStatistics(null_count=3, bounded=True), 0, 1)  # all NULL


def test_footers_are_cached_for_the_check() -> None:
    engine = DuckDBEngine()
    row = engine.connection.execute("SELECT current_setting('parquet_metadata_cache')").fetchone()
    assert row == (True,)


def test_perfect_hash_setting_reaches_duckdb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def threshold() -> int:
        return (
            DuckDBEngine(perfect_hash_bits=get_settings().duckdb.perfect_hash_bits)
            .connection.execute("SELECT current_setting('perfect_ht_threshold')")
            .fetchone()[0]
        )

    assert threshold() == 24
    monkeypatch.setenv("LAKEGATE_DUCKDB_PERFECT_HASH_BITS", "0")
    assert threshold() == 0
    monkeypatch.setenv("LAKEGATE_DUCKDB_PERFECT_HASH_BITS", "33")
    with pytest.raises(ValueError, match="perfect_hash_bits"):
        get_settings()
