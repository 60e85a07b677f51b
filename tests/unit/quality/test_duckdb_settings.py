"""``LAKEGATE_DUCKDB_*`` settings reach the DuckDB engine: memory limit, threads, spill dir.

A memory limit is what lets the ``unique`` GROUP BY of a big dataset spill to disk
instead of growing without bound; the spill test proves the limit really bites (the same
query fails without a spill directory) and that the results are unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import structlog

from lakegate.cli import main
from lakegate.errors import ConfigError
from lakegate.quality.datasets import resolve_dataset
from lakegate.quality.models import parse_rules
from lakegate.quality.service import check, open_engine
from lakegate.settings import get_settings

KEYS = 1_500_000  # distinct keys: the GROUP BY's hash table is well over 20 MB
ROWS = 2_000_000  # keys 0..499_999 occur twice: 1_000_000 failed rows


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures structlog on the captured stderr: undo it for later tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="module")
def keys_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spill") / "keys.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT i % {KEYS} AS id, i AS v FROM range({ROWS}) t(i)) TO '{path}'"
    )
    return path


def _config(engine: object) -> dict[str, object]:
    row = engine.connection.execute(  # type: ignore[attr-defined]
        "SELECT current_setting('memory_limit'), current_setting('threads'), "
        "current_setting('temp_directory')"
    ).fetchone()
    return {"memory_limit": row[0], "threads": row[1], "temp_directory": row[2]}


def test_settings_reach_the_engine(
    tmp_path: Path, keys_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEGATE_DUCKDB_MEMORY_LIMIT", "256MB")
    monkeypatch.setenv("LAKEGATE_DUCKDB_THREADS", "1")
    monkeypatch.setenv("LAKEGATE_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "spill"))
    settings = get_settings()
    assert (settings.duckdb.memory_limit, settings.duckdb.threads) == ("256MB", 1)
    dataset = resolve_dataset(str(keys_file), lake=None, settings=settings)
    with open_engine("duckdb", dataset, settings) as engine:
        config = _config(engine)
    assert config["threads"] == 1
    assert config["temp_directory"] == str(tmp_path / "spill")
    assert str(config["memory_limit"]).startswith("244.1 MiB")  # 256 MB in DuckDB's units


def test_defaults_leave_duckdb_alone(keys_file: Path) -> None:
    settings = get_settings()
    assert settings.duckdb.memory_limit is None and settings.duckdb.threads is None
    dataset = resolve_dataset(str(keys_file), lake=None, settings=settings)
    with open_engine("duckdb", dataset, settings) as engine:
        ours = _config(engine)
    plain = duckdb.connect()
    default = plain.execute("SELECT current_setting('memory_limit')").fetchone()
    assert ours["memory_limit"] == default[0]


def test_unique_spills_under_a_memory_limit(
    tmp_path: Path, keys_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group_by = (
        f"SELECT count(*) FROM (SELECT id FROM read_parquet('{keys_file}') "
        "GROUP BY id HAVING count(*) > 1)"
    )
    no_spill = duckdb.connect(config={"memory_limit": "20MB", "threads": 1, "temp_directory": ""})
    with pytest.raises(duckdb.OutOfMemoryException):  # premise: 20 MB is too small in RAM
        no_spill.execute(group_by).fetchall()

    rules = parse_rules(
        {"checks": [{"name": "id_unique", "type": "unique", "column": "id"}]}, source="t.yml"
    )
    monkeypatch.setenv("LAKEGATE_LAKE_URL", str(tmp_path / "lake"))  # run history goes here
    unlimited = check(rules, str(keys_file), settings=get_settings(), samples=3)
    monkeypatch.setenv("LAKEGATE_DUCKDB_MEMORY_LIMIT", "20MB")
    monkeypatch.setenv("LAKEGATE_DUCKDB_THREADS", "1")
    monkeypatch.setenv("LAKEGATE_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "spill"))
    limited = check(rules, str(keys_file), settings=get_settings(), samples=3)
    expected_failed = 2 * (ROWS - KEYS)
    for result in (unlimited, limited):
        (unique,) = result.checks
        assert (unique.status, unique.failed_rows) == ("fail", expected_failed)
        assert len(unique.samples) == 3 and all(s["duplicate_count"] == 2 for s in unique.samples)


def test_bad_memory_limit_is_bad_input(
    tmp_path: Path,
    keys_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(ConfigError, match="LAKEGATE_DUCKDB_MEMORY_LIMIT='lots'"):
        from lakegate.quality.engines.duckdb import DuckDBEngine

        DuckDBEngine(memory_limit="lots")
    rules = tmp_path / "r.yml"
    rules.write_text("checks:\n  - {type: row_count, min: 1}\n")
    monkeypatch.setenv("LAKEGATE_DUCKDB_MEMORY_LIMIT", "lots")
    code = main(["check", "--rules", str(rules), str(keys_file), "--lake", str(tmp_path / "lake")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "LAKEGATE_DUCKDB_MEMORY_LIMIT='lots'" in err[0]


def test_bad_threads_is_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEGATE_DUCKDB_THREADS", "0")
    with pytest.raises(ValueError, match="threads"):
        get_settings()
