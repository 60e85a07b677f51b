"""Fixtures of the ingestion integration tests: a lake, settings and source credentials."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.engine import make_url

from lakegate.lake.storage import Lake
from lakegate.settings import Settings, get_settings

SetSource = Callable[..., None]


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """An empty local lake."""
    return Lake.from_url(str(tmp_path / "lake"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose pipeline state lives in the test's own folder."""
    return get_settings(state_dir=str(tmp_path / "state"))


@pytest.fixture
def set_source(monkeypatch: pytest.MonkeyPatch) -> SetSource:
    """Give ``[sources.<name>]`` credentials through dlt's env convention from a URL."""

    def _set(name: str, url: str, **overrides: str) -> None:
        parsed = make_url(url)
        fields = {
            "host": parsed.host or "",
            "port": str(parsed.port or ""),
            "database": parsed.database or "",
            "username": parsed.username or "",
            "password": parsed.password or "",
            **overrides,
        }
        for key, value in fields.items():
            var = f"SOURCES__{name.upper()}__{key.upper()}"
            if value:
                monkeypatch.setenv(var, value)
            else:
                monkeypatch.delenv(var, raising=False)

    return _set


def read_lake_table(paths: list[str]) -> pa.Table:
    """All rows of the given Parquet files, as one Arrow table."""
    tables = [pq.read_table(p) for p in paths]
    return pa.concat_tables(tables, promote_options="default") if tables else pa.table({})


def table_files(lake: Lake, table: str) -> list[str]:
    """Every Parquet file of ``table`` in the lake (dated layout)."""
    return lake.glob(f"{table}/*/*/*/*.parquet")
