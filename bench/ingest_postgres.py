"""Benchmark: an ``orders``-like PostgreSQL table to Parquet, lakegate vs the floor vs plain dlt.

Not a test. Creates (or reuses) the table in its own database on the local PostgreSQL,
then runs each path as a separate process and reports wall seconds, rows/s, the
child's peak RSS (``os.wait4`` rusage of that very process) and the ratio to the floor:

* ``floor``: the fastest pure-Python path measured: connectorx with 2 partitions
  streaming Arrow batches into a zstd ParquetWriter (no dlt);
* ``lakegate``: ``lakegate ingest --config <yaml>`` as a whole process when that
  command accepts the config, else ``run_job`` in a child process (same code path);
* ``dlt-default``: plain dlt ``sql_table`` with its default (sqlalchemy) backend into
  the filesystem destination as Parquet: what users do today (``--skip-dlt-default``).

    .venv/bin/python bench/ingest_postgres.py --rows 5000000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve()
PY = sys.executable


def create_table(admin_dsn: str, db: str, rows: int) -> str:
    """Create database ``db`` with ``orders`` of ``rows`` rows (reused when already there)."""
    base = admin_dsn.rsplit("/", 1)[0]
    dsn = f"{base}/{db}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{db}"')
    with psycopg.connect(dsn, autocommit=True) as conn:
        have = conn.execute("SELECT to_regclass('public.orders') IS NOT NULL").fetchone()
        if have and have[0]:
            count = conn.execute("SELECT count(*) FROM orders").fetchone()
            if count and count[0] == rows:
                print(f"reusing {db}.orders ({rows:,} rows)")
                return dsn
            conn.execute("DROP TABLE orders")
        print(f"creating {db}.orders with {rows:,} rows ...", flush=True)
        t0 = time.perf_counter()
        conn.execute(
            """
            CREATE UNLOGGED TABLE orders (
                order_id bigint PRIMARY KEY,
                customer_id integer NOT NULL,
                order_date date NOT NULL,
                status text NOT NULL,
                amount numeric(12, 2) NOT NULL,
                currency char(3) NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                note text
            )"""
        )
        conn.execute(
            """
            INSERT INTO orders
            SELECT i, (i * 7919) %% 100000, DATE '2020-01-01' + (i %% 1500)::int,
                   (ARRAY['new','paid','shipped','cancelled'])[1 + i %% 4],
                   round(((i * 37) %% 100000) / 100.0, 2), 'EUR',
                   TIMESTAMPTZ '2020-01-01' + i * INTERVAL '1 second',
                   TIMESTAMPTZ '2020-01-01' + i * INTERVAL '1 second' + INTERVAL '1 hour',
                   CASE WHEN i %% 10 = 0 THEN NULL ELSE 'order note ' || i END
            FROM generate_series(1::bigint, %s) AS i""",
            (rows,),
        )
        conn.execute("ANALYZE orders")
        print(f"  created in {time.perf_counter() - t0:.1f} s", flush=True)
    return dsn


# -- children -----------------------------------------------------------------------


def child_floor(dsn: str, out: str) -> int:
    """connectorx, 2 partitions, Arrow stream -> one zstd Parquet file."""
    import connectorx as cx
    import pyarrow.parquet as pq

    reader = cx.read_sql(
        dsn,
        "SELECT * FROM orders",
        return_type="arrow_stream",
        partition_on="order_id",
        partition_num=2,
        batch_size=100_000,
    )
    rows = 0
    writer = None
    for batch in reader:
        if writer is None:
            writer = pq.ParquetWriter(
                Path(out) / "orders.parquet", batch.schema, compression="zstd"
            )
        writer.write_batch(batch)
        rows += batch.num_rows
    if writer is not None:
        writer.close()
    return rows


def child_dlt_default(dsn: str, out: str) -> int:
    """Plain dlt: sql_table with the default backend, filesystem destination, Parquet."""
    import dlt
    from dlt.sources.sql_database import sql_table

    pipeline = dlt.pipeline(
        pipeline_name="bench_dlt_default",
        pipelines_dir=str(Path(out) / "pipelines"),
        destination=dlt.destinations.filesystem(bucket_url=str(Path(out) / "lake")),
        dataset_name="bench",
    )
    pipeline.run(sql_table(credentials=dsn, table="orders"), loader_file_format="parquet")
    counts = pipeline.last_trace.last_normalize_info.row_counts
    return int(counts.get("orders", 0))


def child_run_job(dsn: str, out: str) -> int:
    """lakegate's run_job (used when the ``lakegate ingest`` command is not available)."""
    from lakegate.ingest.models import IngestJob
    from lakegate.ingest.pipeline import run_job
    from lakegate.lake.storage import Lake
    from lakegate.settings import get_settings

    settings = get_settings(state_dir=str(Path(out) / "state"))
    lake = Lake.from_url(str(Path(out) / "lake"))
    job = IngestJob(
        job_id="orders",
        source_type="postgresql",
        source_name="bench_pg",
        table_name="orders",
        primary_key=["order_id"],
        partitions=int(os.environ.get("BENCH_PARTITIONS", "2")),
        backend=os.environ.get("BENCH_BACKEND") or None,
    )
    result = run_job(job, lake=lake, settings=settings, run_id="bench")
    if result.status != "success":
        raise SystemExit(result.error)
    return result.rows_loaded


CHILDREN = {"floor": child_floor, "dlt-default": child_dlt_default, "run_job": child_run_job}


# -- parent -------------------------------------------------------------------------


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak RSS MB, exit code) of one child process.

    CPU seconds (user + system of that process) are reported beside wall time because
    a shared machine's load inflates wall time, not CPU time. The child's stderr goes to
    a file: a pipe nobody reads while waiting would fill up and block the child.
    """
    with tempfile.TemporaryFile() as errors:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            errors.seek(0)
            print(errors.read().decode(errors="replace")[-2000:], file=sys.stderr)
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code


def source_env(dsn: str) -> dict[str, str]:
    """dlt-convention environment variables of the ``bench_pg`` source."""
    from sqlalchemy.engine import make_url

    url = make_url(dsn)
    env = dict(os.environ)
    env.update(
        {
            "SOURCES__BENCH_PG__HOST": url.host or "127.0.0.1",
            "SOURCES__BENCH_PG__PORT": str(url.port or 5432),
            "SOURCES__BENCH_PG__DATABASE": url.database or "",
            "SOURCES__BENCH_PG__USERNAME": url.username or "postgres",
        }
    )
    if url.password:
        env["SOURCES__BENCH_PG__PASSWORD"] = url.password
    return env


def lakegate_cli_argv(work: Path, partitions: int) -> list[str] | None:
    """argv of ``lakegate ingest`` on a YAML config, or None when the command is missing."""
    exe = Path(PY).with_name("lakegate")
    probe = subprocess.run([str(exe), "ingest", "--help"], capture_output=True, text=True)
    if probe.returncode != 0 or "--config" not in probe.stdout:
        return None
    config = work / "ingestion_config.yml"
    config.write_text(
        "jobs:\n"
        "  - job_id: orders\n"
        "    enabled: true\n"
        "    source_type: postgresql\n"
        "    source_name: bench_pg\n"
        "    schema_name: public\n"
        "    table_name: orders\n"
        "    load_type: FULL\n"
        "    primary_key: order_id\n"
        f"    partitions: {partitions}\n"
    )
    return [str(exe), "ingest", "--config", str(config), "--lake", str(work / "lake")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows in orders")
    parser.add_argument(
        "--admin-dsn",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="DSN of a database used to create the benchmark database",
    )
    parser.add_argument("--partitions", type=int, default=2, help="lakegate partitions")
    parser.add_argument("--skip-dlt-default", action="store_true", help="skip the slow peer")
    parser.add_argument(
        "--backends",
        default="",
        help="also run run_job with each of these backends (comma-separated: "
        "connectorx,adbc,pyarrow,sqlalchemy) to measure the per-type default",
    )
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        rows = CHILDREN[args.child](args.dsn, args.out)
        print(json.dumps({"rows": rows}))
        return

    db = f"lg_bench_orders_{args.rows}"
    dsn = create_table(args.admin_dsn, db, args.rows)
    env = source_env(dsn)
    env["BENCH_PARTITIONS"] = str(args.partitions)
    results: list[tuple[str, float, float, float]] = []
    paths = ["floor", "lakegate"] + ([] if args.skip_dlt_default else ["dlt-default"])
    paths += [f"backend:{b.strip()}" for b in args.backends.split(",") if b.strip()]
    for name in paths:
        work = Path(tempfile.mkdtemp(prefix=f"bench_{name}_"))
        try:
            env["LAKEGATE_STATE_DIR"] = str(work / "state")
            env["DLT_DATA_DIR"] = str(work / "dlt")
            label = name
            env.pop("BENCH_BACKEND", None)
            if name.startswith("backend:"):
                env["BENCH_BACKEND"] = name.split(":", 1)[1]
                argv = [PY, str(HERE), "--child", "run_job", "--dsn", dsn, "--out", str(work)]
            elif name == "lakegate":
                argv = lakegate_cli_argv(work, args.partitions)
                if argv is None:
                    label = "lakegate(run_job)"
                    argv = [PY, str(HERE), "--child", "run_job", "--dsn", dsn, "--out", str(work)]
                else:
                    label = "lakegate(cli)"
            else:
                argv = [PY, str(HERE), "--child", name, "--dsn", dsn, "--out", str(work)]
            print(f"running {label} ...", flush=True)
            seconds, cpu, rss_mb, code = measure(argv, env)
            if code != 0:
                print(f"  {label} failed with exit code {code}")
                continue
            parquet = list(work.rglob("*.parquet"))
            size_mb = sum(p.stat().st_size for p in parquet) / 1e6
            print(
                f"  {seconds:.2f} s ({cpu:.1f} s CPU), peak RSS {rss_mb:.0f} MB, {size_mb:.0f} MB"
            )
            results.append((label, seconds, cpu, rss_mb))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    floor = next((r for r in results if r[0] == "floor"), None)
    rows = args.rows
    print(
        f"\n{'path':<22} {'seconds':>8} {'rows/s':>11} {'x floor':>8}"
        f" {'CPU s':>7} {'peak RSS MB':>12}"
    )
    for label, seconds, cpu, rss_mb in results:
        ratio = (floor[1] / seconds) if floor else float("nan")
        print(
            f"{label:<22} {seconds:>8.2f} {rows / seconds:>11,.0f} {ratio:>8.2f}"
            f" {cpu:>7.1f} {rss_mb:>12.0f}"
        )


if __name__ == "__main__":
    main()
