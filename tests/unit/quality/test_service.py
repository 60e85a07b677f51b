"""The quality service end to end on DuckDB: datasets, history (anomaly, schema_change),
metadata shortcuts and query counts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakegate.errors import ConfigError, DatasetError
from lakegate.lake.storage import Lake
from lakegate.quality.datasets import resolve_dataset
from lakegate.quality.models import parse_rules
from lakegate.quality.service import check as run_check
from lakegate.settings import get_settings


def _write(path: Path, **columns: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


def _rules(*checks: dict[str, Any], **top: Any) -> Any:
    return parse_rules({**top, "checks": list(checks)}, source="t.yml")


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake.from_url(str(tmp_path / "lake"))


def test_lake_table_folder_glob_and_file_resolve(tmp_path: Path, lake: Lake) -> None:
    _write(Path(lake.root) / "orders/2026/01/01/a.parquet", id=[1, 2])
    _write(Path(lake.root) / "orders/2026/01/02/b.parquet", id=[3])
    folder = tmp_path / "folder"
    _write(folder / "x.parquet", id=[1])
    _write(folder / "sub/y.parquet", id=[2])
    rules = _rules({"type": "row_count", "min": 1})
    settings = get_settings()
    by_name = run_check(rules, "orders", settings=settings, lake=lake)
    assert (by_name.dataset, by_name.rows) == ("orders", 3)
    assert run_check(rules, str(folder), settings=settings, lake=lake).rows == 2
    assert run_check(rules, f"{folder}/*.parquet", settings=settings, lake=lake).rows == 1
    assert run_check(rules, str(folder / "sub/y.parquet"), settings=settings, lake=lake).rows == 1


def test_bad_dataset_paths_are_bad_input(tmp_path: Path, lake: Lake) -> None:
    (tmp_path / "empty").mkdir()
    cases = {
        "no_such_table": "no such Parquet file, glob, folder or lake table under",
        str(tmp_path / "missing.parquet"): "no such Parquet file",
        str(tmp_path / "empty"): "folder has no Parquet files",
        f"{tmp_path}/*.parquet": "no such Parquet file, glob",
        "postgresql://u@localhost/db": "name the table after '#'",
        "ftp://host/x.parquet": "unsupported scheme",
    }
    for spec, message in cases.items():
        with pytest.raises(DatasetError, match=message) as info:
            resolve_dataset(spec, lake=lake)
        assert info.value.exit_code == 2
    not_parquet = tmp_path / "bad.parquet"
    not_parquet.write_text("not parquet")
    with pytest.raises(DatasetError, match="cannot read Parquet"):
        run_check(
            _rules({"type": "row_count", "min": 1}),
            str(not_parquet),
            settings=get_settings(),
            lake=lake,
        )


def test_row_count_and_schema_come_from_metadata(tmp_path: Path, lake: Lake) -> None:
    path = _write(tmp_path / "t.parquet", id=list(range(1000)))
    result = run_check(
        _rules({"type": "row_count", "equals": 1000}, {"type": "schema", "columns": ["id"]}),
        str(path),
        settings=get_settings(),
        lake=lake,
    )
    assert result.status == "pass"
    assert result.queries == 0  # Parquet footers only, no scan
    rules = _rules(
        {"type": "not_null", "column": "id"},
        {"type": "between", "column": "id", "min": 0, "max": 999},
        {"type": "unique", "column": "id"},
    )
    footers = run_check(rules, str(path), settings=get_settings(), lake=lake)
    # not_null and between are decided by the footers' NULL count and min/max: the
    # group-by of unique is the only query; no samples for passing checks.
    assert footers.status == "pass" and footers.queries == 1


def test_statistics_off_scans(tmp_path: Path, lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "t.parquet", id=list(range(1000)))
    monkeypatch.setenv("LAKEGATE_DUCKDB_PARQUET_STATISTICS", "false")
    rules = _rules({"type": "not_null", "column": "id"}, {"type": "unique", "column": "id"})
    scanned = run_check(rules, str(path), settings=get_settings(), lake=lake)
    assert scanned.status == "pass"
    assert scanned.queries == 2  # the one scan + the group-by


def test_history_records_each_run_in_the_lake(tmp_path: Path, lake: Lake) -> None:
    path = _write(tmp_path / "t.parquet", id=[1, 2, 3])
    rules = _rules({"type": "not_null", "column": "id"}, dataset="things")
    run_check(rules, str(path), settings=get_settings(), lake=lake)
    files = sorted((Path(lake.root) / "_quality/things/runs").glob("*.json"))
    assert len(files) == 1
    record = json.loads(files[0].read_text())
    assert record["dataset"] == "things" and record["rows"] == 3 and record["status"] == "pass"
    assert record["schema"] == {"id": "BIGINT"}
    assert record["metrics"] == {"not_null_id": 0}


def test_anomaly_uses_the_metric_history(tmp_path: Path, lake: Lake) -> None:
    rules = _rules(
        {"type": "anomaly", "name": "volume", "metric": "row_count", "max_z": 3, "min_history": 3},
        dataset="volume",
    )
    settings = get_settings()
    statuses = []
    for size in (100, 102, 98, 101, 99):
        path = _write(tmp_path / f"run{size}.parquet", id=list(range(size)))
        result = run_check(rules, str(path), settings=settings, lake=lake)
        statuses.append((result.checks[0].status, result.checks[0].observed_value))
    # Three runs build the history (observed value None), then normal volumes pass.
    assert [s for s, _ in statuses] == ["pass"] * 5
    assert [v for _, v in statuses[:3]] == [None, None, None]
    assert abs(statuses[3][1]) < 1
    spike = _write(tmp_path / "spike.parquet", id=list(range(500)))
    result = run_check(rules, str(spike), settings=settings, lake=lake)
    check = result.checks[0]
    assert check.status == "fail" and check.observed_value > 3
    assert check.threshold is not None and check.threshold["mean"] == pytest.approx(100.0)


def test_anomaly_missing_percent(tmp_path: Path, lake: Lake) -> None:
    rules = _rules(
        {"type": "anomaly", "metric": "missing_percent", "column": "v", "min_history": 2},
        dataset="mp",
    )
    settings = get_settings()
    for nulls in (1, 2, 1):
        path = _write(tmp_path / f"n{nulls}.parquet", v=[None] * nulls + [1] * (10 - nulls))
        run_check(rules, str(path), settings=settings, lake=lake)
    bad = _write(tmp_path / "bad.parquet", v=[None] * 9 + [1])
    assert run_check(rules, str(bad), settings=settings, lake=lake).checks[0].status == "fail"


def test_anomaly_on_the_newest_date(tmp_path: Path, lake: Lake) -> None:
    """min/max of a date column are judged as epoch seconds: a daily load whose newest
    date suddenly jumps a year ahead is an anomaly."""
    rules = _rules(
        {"type": "anomaly", "metric": "max", "column": "day", "min_history": 3, "max_z": 3},
        dataset="days",
    )
    settings = get_settings()
    for n in range(1, 6):
        path = _write(tmp_path / f"d{n}.parquet", day=[date(2026, 1, n), date(2026, 1, n + 1)])
        result = run_check(rules, str(path), settings=settings, lake=lake)
        assert result.checks[0].status == "pass", result.checks[0].message
    jump = _write(tmp_path / "jump.parquet", day=[date(2027, 1, 1)])
    check = run_check(rules, str(jump), settings=settings, lake=lake).checks[0]
    assert check.status == "fail" and check.observed_value > 3
    assert check.threshold is not None  # the mean of the newest dates Jan 2..6 is Jan 4
    assert check.threshold["mean"] == pytest.approx(datetime(2026, 1, 4, tzinfo=UTC).timestamp())


def test_schema_change_against_last_run(tmp_path: Path, lake: Lake) -> None:
    rules = _rules({"type": "schema_change"}, dataset="evolving")
    settings = get_settings()
    first = _write(tmp_path / "a.parquet", id=[1], name=["x"])
    assert run_check(rules, str(first), settings=settings, lake=lake).checks[0].status == "pass"
    assert run_check(rules, str(first), settings=settings, lake=lake).checks[0].status == "pass"
    changed = _write(tmp_path / "b.parquet", id=["1"], extra=[True])
    check = run_check(rules, str(changed), settings=settings, lake=lake).checks[0]
    assert check.status == "fail"
    assert check.observed_value == {
        "added": ["extra"],
        "removed": ["name"],
        "type_changed": {"id": ["BIGINT", "VARCHAR"]},
    }
    only_added = _rules({"type": "schema_change", "fail_on": ["removed"]}, dataset="evolving2")
    run_check(only_added, str(first), settings=settings, lake=lake)
    grown = _write(tmp_path / "c.parquet", id=[1], name=["x"], more=[1])
    assert (
        run_check(only_added, str(grown), settings=settings, lake=lake).checks[0].status == "pass"
    )


def test_bad_arguments(tmp_path: Path, lake: Lake) -> None:
    path = _write(tmp_path / "t.parquet", id=[1])
    rules = _rules({"type": "row_count", "min": 1})
    with pytest.raises(ConfigError, match="engine 'pandas'"):
        run_check(rules, str(path), settings=get_settings(), lake=lake, engine="pandas")
    with pytest.raises(ConfigError, match="samples: must be 0 or more"):
        run_check(rules, str(path), settings=get_settings(), lake=lake, samples=-1)
    with pytest.raises(ConfigError, match="engine sql: dataset"):
        run_check(rules, str(path), settings=get_settings(), lake=lake, engine="sql")


def test_default_lake_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "settings_lake"
    _write(root / "items/x.parquet", id=[1, 2])
    monkeypatch.setenv("LAKEGATE_LAKE_URL", str(root))
    result = run_check(_rules({"type": "row_count", "min": 1}), "items", settings=get_settings())
    assert result.rows == 2
    assert list((root / "_quality/items/runs").glob("*.json"))


def test_resolved_datasets_name_their_folder(tmp_path: Path, lake: Lake) -> None:
    _write(Path(lake.root) / "orders/2026/01/01/a.parquet", id=[1])
    table = resolve_dataset("orders", lake=lake)
    assert (table.kind, table.name, table.folder) == ("parquet", "orders", f"{lake.root}/orders")
    assert table.source == f"{lake.root}/orders/**/*.parquet"
    single = _write(tmp_path / "one.parquet", id=[1])
    assert resolve_dataset(str(single), lake=lake).folder is None
    database = resolve_dataset("sqlite:///x.db#main.orders", lake=lake)
    assert (database.kind, database.name, database.source) == ("sql", "orders", "main.orders")


def test_duckdb_samples_run_on_one_thread_and_restore_the_setting(tmp_path: Path) -> None:
    from sqlglot import exp

    from lakegate.quality.engines.duckdb import DuckDBEngine

    path = _write(tmp_path / "t.parquet", id=list(range(10)))
    threads = exp.select(exp.func("current_setting", exp.Literal.string("threads")).as_("t"))
    with DuckDBEngine(threads=2) as engine:
        engine.bind("lg_dataset", resolve_dataset(str(path)))
        rows = engine.fetch_samples(exp.select("id").from_("lg_dataset").where("id > 6"), 2)
        assert len(rows) == 2 and all(row["id"] > 6 for row in rows)
        assert engine.fetch(threads) == [{"t": 2}]
