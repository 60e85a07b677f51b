"""Benchmark: lakegate's run_job per backend on MariaDB/MySQL and SQLite (the per-type defaults).

Not a test. Creates an ``orders``-like table of ``--rows`` rows (MariaDB: its own
database on the local server; SQLite: a temp file), then runs ``run_job`` once per
backend, each in its own process, and prints seconds, rows/s and the child's peak RSS.
PostgreSQL has its own, fuller benchmark: ``bench/ingest_postgres.py --backends ...``.

    .venv/bin/python bench/ingest_backends.py --source mysql --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
BATCH = 50_000


def _rows(start: int, stop: int) -> list[tuple[object, ...]]:
    return [
        (
            i,
            (i * 7919) % 100_000,
            f"2020-{1 + i % 12:02d}-{1 + i % 28:02d}",
            ("new", "paid", "shipped", "cancelled")[i % 4],
            f"{(i * 37) % 100_000 / 100:.2f}",
            f"2020-01-01 {i % 24:02d}:{i % 60:02d}:{i % 60:02d}",
            None if i % 10 == 0 else f"order note {i}",
        )
        for i in range(start, stop)
    ]


DDL = (
    "CREATE TABLE orders (order_id BIGINT PRIMARY KEY, customer_id INT NOT NULL, "
    "order_date DATE NOT NULL, status VARCHAR(16) NOT NULL, amount DECIMAL(12, 2) NOT NULL, "
    "updated_at DATETIME NOT NULL, note VARCHAR(64))"
)


def create_mysql(rows: int) -> dict[str, str]:
    """Database ``lg_bench_<rows>`` on the local MariaDB with ``orders`` (reused if complete)."""
    import pymysql

    db = f"lg_bench_{rows}"
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=False)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS `{db}`")
        cur.execute(f"USE `{db}`")
        cur.execute("SHOW TABLES LIKE 'orders'")
        if cur.fetchone():
            cur.execute("SELECT count(*) FROM orders")
            row = cur.fetchone()
            if row and row[0] == rows:
                return {"host": "127.0.0.1", "port": "3306", "database": db, "username": "root"}
            cur.execute("DROP TABLE orders")
        cur.execute(DDL)
        for start in range(1, rows + 1, BATCH):
            cur.executemany(
                "INSERT INTO orders VALUES (%s, %s, %s, %s, %s, %s, %s)",
                _rows(start, min(start + BATCH, rows + 1)),
            )
            conn.commit()
    conn.close()
    return {"host": "127.0.0.1", "port": "3306", "database": db, "username": "root"}


def create_sqlite(rows: int, folder: Path) -> dict[str, str]:
    """A SQLite file with ``orders``."""
    path = folder / "orders.db"
    with sqlite3.connect(path) as conn:
        conn.execute(DDL)
        for start in range(1, rows + 1, BATCH):
            conn.executemany(
                "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)",
                _rows(start, min(start + BATCH, rows + 1)),
            )
    return {"database": str(path)}


def child(source: str, backend: str, out: str) -> None:
    """One run_job of the orders table with ``backend``."""
    from lakegate.ingest.models import IngestJob
    from lakegate.ingest.pipeline import run_job
    from lakegate.lake.storage import Lake
    from lakegate.settings import get_settings

    settings = get_settings(state_dir=str(Path(out) / "state"))
    job = IngestJob(
        job_id="orders",
        source_type=source,  # type: ignore[arg-type]
        source_name="bench_src",
        table_name="orders",
        primary_key=["order_id"],
        backend=backend,  # type: ignore[arg-type]
    )
    result = run_job(
        job, lake=Lake.from_url(str(Path(out) / "lake")), settings=settings, run_id="b"
    )
    if result.status != "success":
        raise SystemExit(result.error)
    print(json.dumps({"rows": result.rows_loaded}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=["mysql", "sqlite"], default="mysql")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="connectorx,pyarrow,sqlalchemy")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.source, args.child, args.out)
        return

    scratch = Path(tempfile.mkdtemp(prefix="bench_backends_"))
    try:
        t0 = time.perf_counter()
        fields = (
            create_mysql(args.rows) if args.source == "mysql" else create_sqlite(args.rows, scratch)
        )
        print(
            f"{args.source} orders ready ({args.rows:,} rows) in {time.perf_counter() - t0:.1f} s"
        )
        env = dict(os.environ)
        env.update({f"SOURCES__BENCH_SRC__{k.upper()}": v for k, v in fields.items()})
        print(f"\n{'backend':<12} {'seconds':>9} {'rows/s':>12} {'CPU s':>7} {'peak RSS MB':>12}")
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            work = scratch / backend
            work.mkdir()
            argv = [sys.executable, str(HERE), "--source", args.source, "--child", backend]
            start = time.perf_counter()
            # stderr to a file: a pipe nobody reads while waiting would block the child
            with (work / "stderr.log").open("wb") as errors:
                proc = subprocess.Popen(
                    [*argv, "--out", str(work)], env=env, stdout=subprocess.DEVNULL, stderr=errors
                )
                _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            if os.waitstatus_to_exitcode(status) != 0:
                err = (work / "stderr.log").read_text(errors="replace")[-500:]
                print(f"{backend:<12} failed: {err}")
                continue
            rss = usage.ru_maxrss / 1024
            cpu = usage.ru_utime + usage.ru_stime
            rate = args.rows / seconds
            print(f"{backend:<12} {seconds:>9.2f} {rate:>12,.0f} {cpu:>7.1f} {rss:>12.0f}")
            shutil.rmtree(work, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
