"""The pipeline against the real PostgreSQL: types value by value, FULL, INCREMENTAL, recovery."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from lakegate.ingest.models import IngestJob
from lakegate.ingest.pipeline import pipelines_dir, run_job
from lakegate.lake.storage import Lake
from lakegate.settings import Settings

from .conftest import SetSource, read_lake_table, table_files

pytestmark = pytest.mark.integration

AWKWARD_TEXT = 'it\'s "quoted"\nsecond line; ünïcödé ✓ 日本'


def _exec(url: str, *sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in sql:
            conn.execute(statement)


def _rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return list(conn.execute(query).fetchall())


def _job(**kw: Any) -> IngestJob:
    base: dict[str, Any] = {
        "job_id": "orders",
        "source_type": "postgresql",
        "source_name": "pg_erp",
        "schema_name": "public",
        "table_name": "orders",
        "primary_key": ["id"],
    }
    base.update(kw)
    return IngestJob(**base)


@pytest.fixture
def orders(pg_url: str, set_source: SetSource) -> str:
    """A PostgreSQL ``orders`` table with awkward types and NULLs; credentials via env."""
    _exec(
        pg_url,
        """CREATE TABLE orders (
            id integer PRIMARY KEY, amount numeric(12, 3), paid_at timestamptz, due date,
            active boolean, attrs jsonb, ref uuid, note text, updated_at timestamptz NOT NULL)""",
        f"""INSERT INTO orders
            SELECT i, i * 1.125, TIMESTAMPTZ '2024-03-01 10:00:00+02' + i * INTERVAL '1 minute',
                   DATE '2024-01-31' + i, i % 2 = 0,
                   jsonb_build_object('k', i, 'tags', '[1, 2]'::jsonb),
                   md5(i::text)::uuid, {psycopg.sql.quote(AWKWARD_TEXT)} || i,
                   TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL '1 hour'
            FROM generate_series(1, 50) AS i""",
        "INSERT INTO orders VALUES (51, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
        " TIMESTAMPTZ '2024-01-03 04:00:00+00')",
    )
    set_source("pg_erp", pg_url)
    return pg_url


def test_full_load_keeps_every_awkward_value(orders: str, lake: Lake, settings: Settings) -> None:
    result = run_job(_job(), lake=lake, settings=settings, run_id="r1")
    assert result.status == "success", result.error
    assert result.rows_loaded == 51
    assert result.files == len(result.file_paths) == 1
    assert result.file_paths[0].startswith(lake.path("orders") + "/")
    assert result.file_paths[0].endswith(
        f"{result.load_id}." + result.file_paths[0].split(".")[-2] + ".parquet"
    )

    lake_rows = {r["id"]: r for r in read_lake_table(result.file_paths).to_pylist()}
    source = _rows(orders, "SELECT id, amount, paid_at, due, active, attrs, ref, note FROM orders")
    assert len(lake_rows) == len(source) == 51
    for sid, amount, paid_at, due, active, attrs, ref, note in source:
        got = lake_rows[sid]
        assert got["amount"] == amount and (amount is None or isinstance(got["amount"], Decimal))
        assert got["paid_at"] == paid_at
        assert got["due"] == due
        assert got["active"] == active
        # json and uuid arrive as text in Parquet: compare their meaning
        assert (json.loads(got["attrs"]) if got["attrs"] is not None else None) == attrs
        assert got["ref"] == (str(ref) if ref is not None else None)
        assert got["note"] == note
    assert lake_rows[7]["note"] == AWKWARD_TEXT + "7"


def test_parquet_is_zstd_in_the_dated_layout(orders: str, lake: Lake, settings: Settings) -> None:
    import pyarrow.parquet as pq

    result = run_job(_job(), lake=lake, settings=settings, run_id="r1")
    path = result.file_paths[0]
    relative = path[len(lake.root) + 1 :].split("/")
    assert relative[0] == "orders" and len(relative) == 5
    assert [len(p) for p in relative[1:4]] == [4, 2, 2]
    meta = pq.ParquetFile(path).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_full_twice_replaces_the_previous_files(
    orders: str, lake: Lake, settings: Settings
) -> None:
    first = run_job(_job(), lake=lake, settings=settings, run_id="r1")
    _exec(orders, "DELETE FROM orders WHERE id > 40")
    second = run_job(_job(), lake=lake, settings=settings, run_id="r2")
    assert second.status == "success", second.error
    assert second.rows_loaded == 40
    assert table_files(lake, "orders") == second.file_paths
    assert not set(first.file_paths) & set(second.file_paths)
    assert read_lake_table(table_files(lake, "orders")).num_rows == 40


def test_incremental_loads_new_and_updated_rows_only(
    orders: str, lake: Lake, settings: Settings
) -> None:
    job = _job(load_type="INCREMENTAL", watermark_column="updated_at")
    first = run_job(job, lake=lake, settings=settings, run_id="r1")
    assert first.status == "success", first.error
    assert first.rows_loaded == 51 and first.watermark_from is None
    assert first.watermark_to is not None and first.watermark_to.startswith("2024-01-03T04:00:00")

    _exec(
        orders,
        "INSERT INTO orders (id, note, updated_at)"
        " VALUES (60, 'new', TIMESTAMPTZ '2024-02-01 00:00+00')",
        "UPDATE orders SET note = 'changed',"
        " updated_at = TIMESTAMPTZ '2024-02-02 00:00+00' WHERE id = 3",
    )
    second = run_job(job, lake=lake, settings=settings, run_id="r2")
    assert second.status == "success", second.error
    assert second.rows_loaded == 2
    assert second.watermark_from == first.watermark_to
    assert second.watermark_to is not None and second.watermark_to.startswith("2024-02-02T00:00:00")
    new_rows = read_lake_table(second.file_paths).to_pylist()
    assert sorted((r["id"], r["note"]) for r in new_rows) == [(3, "changed"), (60, "new")]
    # the lake now holds 53 rows: every version of row 3, nothing else twice
    everything = read_lake_table(table_files(lake, "orders")).to_pylist()
    assert len(everything) == 53
    assert sorted(r["id"] for r in everything if r["id"] == 3) == [3, 3]

    third = run_job(job, lake=lake, settings=settings, run_id="r3")
    assert third.status == "success" and third.rows_loaded == 0 and third.files == 0
    assert third.watermark_from == third.watermark_to == second.watermark_to


def test_lag_rereads_late_arriving_rows(orders: str, lake: Lake, settings: Settings) -> None:
    job = _job(load_type="INCREMENTAL", watermark_column="updated_at", lag="2h")
    run_job(job, lake=lake, settings=settings, run_id="r1")
    # a row committed late, stamped 1 hour before the last watermark (2024-01-03 04:00)
    _exec(
        orders,
        "INSERT INTO orders (id, note, updated_at)"
        " VALUES (70, 'late', TIMESTAMPTZ '2024-01-03 03:00+00')",
    )
    second = run_job(job, lake=lake, settings=settings, run_id="r2")
    assert second.status == "success", second.error
    ids = {r["id"] for r in read_lake_table(second.file_paths).to_pylist()}
    assert 70 in ids
    # without lag the same late row is missed
    plain = _job(job_id="orders_nolag", load_type="INCREMENTAL", watermark_column="updated_at")
    run_job(plain, lake=lake, settings=settings, run_id="r3")
    _exec(
        orders,
        "INSERT INTO orders (id, note, updated_at)"
        " VALUES (71, 'late', TIMESTAMPTZ '2024-01-03 03:30+00')",
    )
    missed = run_job(plain, lake=lake, settings=settings, run_id="r4")
    assert missed.rows_loaded == 0


class _CrashError(RuntimeError):
    pass


def test_failed_load_keeps_watermark_and_rerun_is_exact(
    orders: str, lake: Lake, settings: Settings
) -> None:
    job = _job(
        load_type="INCREMENTAL", watermark_column="updated_at", chunk_size=10, backend="pyarrow"
    )
    first = run_job(job, lake=lake, settings=settings, run_id="r1")
    _exec(
        orders,
        "INSERT INTO orders (id, note, updated_at) SELECT i, 'batch2',"
        " TIMESTAMPTZ '2024-03-01 00:00+00' + i * INTERVAL '1 minute'"
        " FROM generate_series(100, 139) AS i",
    )

    def crash_midway(_job_id: str, rows: int) -> None:
        if rows >= 20:  # two chunks extracted, then the "process" dies
            raise _CrashError("simulated crash while extracting")

    failed = run_job(job, lake=lake, settings=settings, run_id="r2", progress=crash_midway)
    assert failed.status == "failed"
    assert failed.error is not None and "job orders" in failed.error and "\n" not in failed.error
    assert failed.watermark_from == failed.watermark_to == first.watermark_to

    rerun = run_job(job, lake=lake, settings=settings, run_id="r3")
    assert rerun.status == "success", rerun.error
    assert rerun.watermark_from == first.watermark_to
    assert rerun.rows_loaded == 40
    ids = [r["id"] for r in read_lake_table(table_files(lake, "orders")).to_pylist()]
    source_ids = [r[0] for r in _rows(orders, "SELECT id FROM orders")]
    assert sorted(ids) == sorted(source_ids)


def test_fresh_container_restores_state_and_drops_unfinished_files(
    orders: str, lake: Lake, settings: Settings
) -> None:
    job = _job(load_type="INCREMENTAL", watermark_column="updated_at")
    first = run_job(job, lake=lake, settings=settings, run_id="r1")
    # a crash mid-load left a file of a load that never committed
    orphan = first.file_paths[0].replace(first.load_id or "", "1900000000.123456")
    shutil.copy(first.file_paths[0], orphan)
    # and the container is new: no local pipeline folder
    shutil.rmtree(pipelines_dir(settings, lake))
    _exec(
        orders, "INSERT INTO orders (id, updated_at) VALUES (80, TIMESTAMPTZ '2024-05-01 00:00+00')"
    )

    second = run_job(job, lake=lake, settings=settings, run_id="r2")
    assert second.status == "success", second.error
    assert second.watermark_from == first.watermark_to
    assert second.rows_loaded == 1
    assert not Path(orphan).exists()
    ids = sorted(r["id"] for r in read_lake_table(table_files(lake, "orders")).to_pylist())
    assert ids == sorted(r[0] for r in _rows(orders, "SELECT id FROM orders"))


def test_added_column_is_reported_and_freeze_loads_nothing(
    orders: str, lake: Lake, settings: Settings
) -> None:
    assert run_job(_job(), lake=lake, settings=settings, run_id="r1").schema_changed is False
    _exec(
        orders,
        "ALTER TABLE orders ADD COLUMN discount numeric(5, 2)",
        "ALTER TABLE orders DROP COLUMN due",
    )

    frozen = run_job(_job(schema_contract="freeze"), lake=lake, settings=settings, run_id="r2")
    assert frozen.status == "failed"
    assert frozen.schema_changed is True
    assert frozen.error is not None and "freeze" in frozen.error and "discount" in frozen.error
    before = table_files(lake, "orders")
    assert len(before) == 1 and read_lake_table(before).num_rows == 51

    evolved = run_job(_job(), lake=lake, settings=settings, run_id="r3")
    assert evolved.status == "success", evolved.error
    assert evolved.schema_changed is True
    assert evolved.schema_changes == ["added column discount", "removed column due"]
    assert "discount" in read_lake_table(evolved.file_paths).column_names

    again = run_job(_job(), lake=lake, settings=settings, run_id="r4")
    assert again.schema_changed is False and again.schema_changes == []


def test_columns_include_list_and_target_table(orders: str, lake: Lake, settings: Settings) -> None:
    job = _job(columns=["id", "note"], target_table="orders_slim")
    result = run_job(job, lake=lake, settings=settings, run_id="r1")
    assert result.status == "success", result.error
    assert result.table_name == "orders_slim"
    table = read_lake_table(result.file_paths)
    assert sorted(table.column_names) == ["id", "note"]
    assert all(p.startswith(lake.path("orders_slim") + "/") for p in result.file_paths)


@pytest.mark.parametrize("backend", ["pyarrow", "sqlalchemy"])
def test_other_backends_load_the_same_rows(
    orders: str, lake: Lake, settings: Settings, backend: str
) -> None:
    result = run_job(_job(backend=backend), lake=lake, settings=settings, run_id="r1")
    assert result.status == "success", result.error
    got = sorted(r["id"] for r in read_lake_table(result.file_paths).to_pylist())
    assert got == list(range(1, 52))


def test_partitions_split_the_read_without_losing_rows(
    orders: str, lake: Lake, settings: Settings
) -> None:
    calls: list[int] = []
    result = run_job(
        _job(partitions=3, chunk_size=7),
        lake=lake,
        settings=settings,
        run_id="r1",
        progress=lambda _j, n: calls.append(n),
    )
    assert result.status == "success", result.error
    assert sorted(r["id"] for r in read_lake_table(result.file_paths).to_pylist()) == list(
        range(1, 52)
    )
    assert calls and calls[-1] == 51 and calls == sorted(calls)


def test_unknown_table_and_refused_connection_are_one_line(
    orders: str, lake: Lake, settings: Settings, set_source: SetSource
) -> None:
    missing = run_job(_job(table_name="nope"), lake=lake, settings=settings, run_id="r1")
    assert missing.status == "failed"
    assert missing.error == "job orders: unknown table public.nope"

    set_source("pg_down", "postgresql://postgres:S3cr3t-P%40ss@127.0.0.1:1/x")
    down = run_job(_job(source_name="pg_down"), lake=lake, settings=settings, run_id="r2")
    assert down.status == "failed"
    assert down.error == "job orders: cannot connect to 127.0.0.1:1: connection refused"
    assert "S3cr3t" not in repr(down)


def test_adbc_backend_loads_the_same_values(orders: str, lake: Lake, settings: Settings) -> None:
    result = run_job(_job(backend="adbc", chunk_size=20), lake=lake, settings=settings, run_id="r1")
    assert result.status == "success", result.error
    got = {r["id"]: r for r in read_lake_table(result.file_paths).to_pylist()}
    source = _rows(orders, "SELECT id, amount, paid_at, note FROM orders")
    assert len(got) == len(source) == 51
    for sid, amount, paid_at, note in source:
        assert (got[sid]["amount"], got[sid]["paid_at"], got[sid]["note"]) == (
            amount,
            paid_at,
            note,
        )


def test_permission_denied_is_named(
    orders: str, lake: Lake, settings: Settings, set_source: SetSource
) -> None:
    role = "lg_noaccess_" + orders.rsplit("_", 1)[-1]
    _exec(
        orders,
        f"CREATE ROLE {role} LOGIN",
        f"GRANT CONNECT ON DATABASE {orders.rsplit('/', 1)[-1]} TO {role}",
    )
    try:
        set_source("pg_limited", orders, username=role)
        result = run_job(_job(source_name="pg_limited"), lake=lake, settings=settings, run_id="r1")
        assert result.status == "failed"
        assert result.error == "job orders: permission denied reading public.orders"
        assert table_files(lake, "orders") == []
    finally:
        _exec(orders, f"DROP OWNED BY {role}", f"DROP ROLE {role}")


def test_tags_reach_the_lake(
    orders: str, lake: Lake, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(Lake, "tag_files", lambda _self, paths, tags: seen.append((paths, tags)))
    tags = {"tenant_id": "t1", "job_id": "orders", "run_id": "r1"}
    result = run_job(_job(), lake=lake, settings=settings, run_id="r1", tags=tags)
    assert seen == [(result.file_paths, tags)]
