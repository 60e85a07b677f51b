"""``lakegate demo``: a sample ERP database, its job config and rules, ingested and checked.

:func:`build_erp_database` writes a small SQLite ERP (``customers``, ``orders``,
``order_lines``) with the types real ones have: integer ids, decimals, dates,
timestamps, booleans, NULLs, unicode names and text with quotes and newlines. It is
deterministic (a fixed seed) and only built when missing, so a second ``lakegate demo``
finds the same rows: the INCREMENTAL jobs load 0 new rows and the FULL job replaces its
table. :func:`write_demo_files` writes the YAML job config, the rule files and a
``.dlt/secrets.toml`` for the ``erp_demo`` source next to the database.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import yaml

from lakegate.errors import ConfigError
from lakegate.ingest.config import load_jobs
from lakegate.ingest.models import IngestJob
from lakegate.ingest.runner import CheckFunction, JobFunction, RunProgress, RunReport, run_jobs
from lakegate.lake.storage import Lake
from lakegate.settings import Settings

SOURCE_NAME = "erp_demo"
"""The demo's source name (``[sources.erp_demo]``)."""

DATABASE_FILE = "erp.sqlite"
CONFIG_FILE = "ingestion_config.yml"
TABLES = ("customers", "orders", "order_lines")

_FIRST = [
    "José", "Zoë", "Łukasz", "Søren", "Ngozi", "Aiko", "Björn", "François", "Mårten",
    "Chloé", "Ana", "Dmitrij", "Siobhán", "Kemal", "Olivia", "Noah", "Amélie", "Jürgen",
    "王", "Иван",
]  # fmt: skip
_LAST = [
    "Álvarez", "O'Brien", "Żółć", "Kierkegård", "Okonkwo", "Tanaka", "Grönlund", "Dupont",
    "Müller", "Núñez", "Smith", "Nguyễn", "García-López", "Øster", "芳", "Петров",
]  # fmt: skip
_COUNTRIES = ["FR", "DE", "ES", "PL", "DK", "NG", "JP", "SE", "IE", "GB", "US", "CN"]
_STATUSES = ["new", "paid", "shipped", "delivered", "cancelled"]
_NOTES = [
    None, None, None, None,
    'Leave at the "back" door',
    "Gift wrap, please\nand add a card",
    "Livraison après 18h — merci",
    "Customer's 2nd order; call first",
]  # fmt: skip

_SCHEMA = """
CREATE TABLE customers (
    customer_id   INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    email         TEXT,
    country       TEXT NOT NULL,
    is_active     BOOLEAN NOT NULL,
    credit_limit  NUMERIC(12, 2),
    signup_date   DATE NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE TABLE orders (
    order_id      INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers (customer_id),
    order_date    DATE NOT NULL,
    status        TEXT NOT NULL,
    total_amount  NUMERIC(12, 2) NOT NULL,
    currency      TEXT NOT NULL,
    is_gift       BOOLEAN NOT NULL,
    note          TEXT,
    updated_at    TIMESTAMP NOT NULL
);
CREATE TABLE order_lines (
    line_id       INTEGER PRIMARY KEY,
    order_id      INTEGER NOT NULL REFERENCES orders (order_id),
    line_no       INTEGER NOT NULL,
    sku           TEXT NOT NULL,
    quantity      INTEGER NOT NULL,
    unit_price    NUMERIC(10, 2) NOT NULL,
    discount      NUMERIC(4, 2),
    created_at    TIMESTAMP NOT NULL
);
"""


@dataclass(frozen=True)
class DemoDatabase:
    """The sample database and how many rows each table has."""

    path: Path
    counts: dict[str, int]
    created: bool
    """False when an existing database was reused."""


def build_erp_database(path: Path, *, orders: int = 2000, seed: int = 7) -> DemoDatabase:
    """Create the sample ERP at ``path`` unless it exists; return its row counts.

    ``orders`` orders (about 3 lines each) for ``orders // 4`` customers. The data
    depends only on ``orders`` and ``seed``.
    """
    if orders < 1:
        raise ConfigError(f"--rows: {orders} must be at least 1")
    created = not path.exists()
    if created:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".building")
        partial.unlink(missing_ok=True)
        with sqlite3.connect(partial) as conn:
            conn.executescript(_SCHEMA)
            _fill(conn, orders, random.Random(seed))  # noqa: S311 - sample data, not crypto
        conn.close()
        partial.replace(path)  # a crash mid-build never leaves a half-filled database
    with sqlite3.connect(path) as conn:
        try:
            counts = {
                t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in TABLES
            }
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"{path}: not a demo database ({exc}); delete it to rebuild"
            ) from None
    conn.close()
    return DemoDatabase(path=path, counts=counts, created=created)


def _fill(conn: sqlite3.Connection, n_orders: int, rnd: random.Random) -> None:
    base = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    n_customers = max(5, n_orders // 4)
    customers = []
    for cid in range(1, n_customers + 1):
        first, last = rnd.choice(_FIRST), rnd.choice(_LAST)
        email = None if rnd.random() < 0.1 else f"customer{cid}@example.com"
        limit = None if rnd.random() < 0.15 else Decimal(rnd.randrange(50_000, 2_000_000)) / 100
        signup = date(2023, 1, 1) + timedelta(days=rnd.randrange(0, 1000))
        updated = base + timedelta(minutes=rnd.randrange(0, 60 * 24 * 30))
        customers.append(
            (cid, f"{first} {last}", email, rnd.choice(_COUNTRIES), rnd.random() > 0.1,
             _money(limit), signup.isoformat(), _ts(updated))
        )  # fmt: skip
    conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?)", customers)
    orders, lines = [], []
    line_id = 0
    for oid in range(1, n_orders + 1):
        placed = base + timedelta(minutes=oid * 7 + rnd.randrange(0, 7))
        total = Decimal(0)
        for line_no in range(1, rnd.randint(1, 5) + 1):
            line_id += 1
            qty = rnd.randint(1, 12)
            price = Decimal(rnd.randrange(199, 99_999)) / 100
            discount = rnd.choice([None, None, Decimal("0.05"), Decimal("0.10"), Decimal("0.25")])
            total += qty * price * (1 - (discount or 0))
            lines.append(
                (line_id, oid, line_no, f"SKU-{rnd.randrange(1, 400):05d}", qty, _money(price),
                 _money(discount), _ts(placed + timedelta(seconds=line_no)))
            )  # fmt: skip
        updated = placed + timedelta(hours=rnd.randrange(0, 72))
        orders.append(
            (oid, rnd.randint(1, n_customers), placed.date().isoformat(), rnd.choice(_STATUSES),
             _money(total.quantize(Decimal("0.01"))), rnd.choice(["EUR", "EUR", "USD", "GBP"]),
             rnd.random() < 0.08, rnd.choice(_NOTES), _ts(updated))
        )  # fmt: skip
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", orders)
    conn.executemany("INSERT INTO order_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?)", lines)


def _money(value: Decimal | None) -> str | None:
    # Stored as text with two decimals: SQLite has no decimal type, text keeps it exact.
    return None if value is None else f"{value:.2f}"


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


_RULES: dict[str, dict[str, object]] = {
    "customers": {
        "dataset": "customers",
        "keys": ["customer_id"],
        "checks": [
            {"type": "row_count", "min": 1},
            {"type": "unique", "column": "customer_id"},
            {"type": "not_null", "column": "name"},
            {"type": "regex", "column": "email", "preset": "email", "severity": "warn"},
            {"type": "accepted_values", "column": "country", "values": _COUNTRIES},
        ],
    },
    "orders": {
        "dataset": "orders",
        "keys": ["order_id"],
        "checks": [
            {"type": "row_count", "min": 1},
            {"type": "unique", "column": "order_id"},
            {"type": "not_null", "column": "customer_id"},
            {"type": "accepted_values", "column": "status", "values": _STATUSES},
            {"type": "between", "column": "total_amount", "min": 0},
        ],
    },
    "order_lines": {
        "dataset": "order_lines",
        "keys": ["line_id"],
        "checks": [
            {"type": "unique", "column": "line_id"},
            {"type": "between", "column": "quantity", "min": 1, "max": 1000},
            {"type": "between", "column": "discount", "min": 0, "max": 0.5, "severity": "warn"},
        ],
    },
}

_JOBS: list[dict[str, object]] = [
    {
        "job_id": "customers",
        "load_type": "FULL",
        "primary_key": ["customer_id"],
        "description": "Customer master data, replaced on every run",
    },
    {
        "job_id": "orders",
        "load_type": "INCREMENTAL",
        "watermark_column": "updated_at",
        "primary_key": ["order_id"],
        "description": "Orders appended by last update time",
    },
    {
        "job_id": "order_lines",
        "load_type": "INCREMENTAL",
        "watermark_column": "line_id",
        "primary_key": ["line_id"],
        "description": "Order lines appended by id",
    },
]


def write_demo_files(demo_dir: Path, database: Path) -> Path:
    """Write the job config, rule files and ``.dlt/secrets.toml``; return the config path."""
    rules_dir = demo_dir / "rules"
    rules_dir.mkdir(parents=True, exist_ok=True)
    for table, rules in _RULES.items():
        (rules_dir / f"{table}.yml").write_text(
            yaml.safe_dump(rules, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
    jobs = [
        {
            "job_id": job["job_id"],
            "enabled": "Y",
            "source_type": "sqlite",
            "source_name": SOURCE_NAME,
            "schema_name": None,
            "table_name": job["job_id"],
            "load_type": job["load_type"],
            "watermark_column": job.get("watermark_column"),
            "primary_key": job["primary_key"],
            "rules_file": f"rules/{job['job_id']}.yml",
            "owner": "demo",
            "description": job["description"],
        }
        for job in _JOBS
    ]
    config = demo_dir / CONFIG_FILE
    header = "# Generated by `lakegate demo`: the sample ERP's jobs (docs/configuration.md).\n"
    config.write_text(
        header + yaml.safe_dump({"jobs": jobs}, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    secrets = demo_dir / ".dlt" / "secrets.toml"
    secrets.parent.mkdir(parents=True, exist_ok=True)
    secrets.write_text(
        "# Connection of the demo source; a sqlite source only needs its database file.\n"
        f"[sources.{SOURCE_NAME}]\ndatabase = {json.dumps(str(database.resolve()))}\n",
        encoding="utf-8",
    )
    return config


@contextmanager
def source_database_env(database: Path) -> Iterator[None]:
    """Point the ``erp_demo`` source at ``database`` for the block (dlt's env convention).

    Environment variables come first in dlt's provider chain, so this wins over any
    ``.dlt/secrets.toml`` in the working directory; the previous value is restored.
    """
    key = f"SOURCES__{SOURCE_NAME.upper()}__DATABASE"
    before = os.environ.get(key)
    os.environ[key] = str(database.resolve())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


@dataclass(frozen=True)
class DemoSetup:
    """What :func:`prepare_demo` produced: the database and the config that loads it."""

    database: DemoDatabase
    config: Path
    jobs: list[IngestJob]


def prepare_demo(demo_dir: Path, *, rows: int = 2000) -> DemoSetup:
    """Build (or reuse) the sample ERP in ``demo_dir`` and write its config and rules."""
    database = build_erp_database(demo_dir / DATABASE_FILE, orders=rows)
    config = write_demo_files(demo_dir, database.path)
    return DemoSetup(database=database, config=config, jobs=load_jobs(config))


def run_demo(
    setup: DemoSetup,
    *,
    settings: Settings,
    workers: int | None = None,
    progress: RunProgress | None = None,
    job_fn: JobFunction | None = None,
    check_fn: CheckFunction | None = None,
) -> RunReport:
    """Ingest and check the demo jobs into ``settings.lake.url`` (audit in metadata_dir)."""
    extra: dict[str, object] = {}
    if job_fn is not None:
        extra["job_fn"] = job_fn
    if check_fn is not None:
        extra["check_fn"] = check_fn
    with source_database_env(setup.database.path):
        return run_jobs(
            setup.jobs,
            settings=settings,
            lake=Lake.from_url(settings.lake.url, settings),
            workers=workers,
            progress=progress,
            **extra,  # type: ignore[arg-type]
        )
