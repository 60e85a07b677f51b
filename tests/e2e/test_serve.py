"""``lakegate serve`` as a real process: tenant -> API key -> connection -> job -> run.

The server runs on a free port with a temporary SQLite catalog (migrated at start-up, the
embedded default) and a temporary lake; the source is a real PostgreSQL database. The
run goes through the in-process executor, the ingestion engine and the quality engine,
and the test reads the Parquet files the run wrote under ``<lake>/<slug>/prod/``.
A second scenario kills the server while a run is executing and checks that the next
start marks that run failed (crash recovery).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx
import psycopg
import pytest

ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef"
ROWS = [(1, "alice", 10.5), (2, "bob", 20.0), (3, "carol", 7.25)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running ``lakegate serve`` and how to reach it."""

    process: subprocess.Popen[bytes]
    base_url: str
    lake: Path
    log: Path

    def client(self, token: str = ADMIN_TOKEN, **headers: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", **headers},
            timeout=30,
        )


def _start(tmp_path: Path, env_extra: dict[str, str] | None = None) -> Server:
    port = _free_port()
    lake = tmp_path / "lake"
    env = {
        **os.environ,
        "LAKEGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
        "LAKEGATE_LAKE_URL": str(lake),
        "LAKEGATE_ADMIN_TOKEN": ADMIN_TOKEN,
        "LAKEGATE_SECRET_KEY": "e2e-secret-key-0123456789abcdef",
        "LAKEGATE_STATE_DIR": str(tmp_path / "state"),
        "LAKEGATE_LOG_FORMAT": "json",
        **(env_extra or {}),
    }
    log = tmp_path / f"serve-{port}.log"
    lakegate = Path(sys.executable).with_name("lakegate")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(lakegate), "serve", "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    server = Server(process, f"http://127.0.0.1:{port}", lake, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"lakegate serve exited: {log.read_text()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"lakegate serve did not answer: {log.read_text()}")


def _stop(server: Server, sig: int = signal.SIGTERM) -> int:
    if server.process.poll() is None:
        server.process.send_signal(sig)
        try:
            return server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            return server.process.wait()
    return int(server.process.returncode)


@pytest.fixture
def source(pg_url: str) -> str:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("create table public.customers (id int primary key, name text, amount float8)")
        conn.cursor().executemany("insert into public.customers values (%s, %s, %s)", ROWS)
    return pg_url


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    started = _start(tmp_path)
    yield started
    _stop(started)


def _setup_tenant(server: Server, pg_url: str, job: dict[str, Any]) -> tuple[str, str]:
    """Create tenant, API key, connection and job; return (api token, job id)."""
    with server.client() as admin:
        tenant = admin.post(
            "/api/v1/tenants", json={"slug": "acme", "name": "Acme", "environment": "prod"}
        )
        assert tenant.status_code == 201, tenant.text
        key = admin.post(
            f"/api/v1/tenants/{tenant.json()['id']}/api-keys", json={"name": "ci", "role": "admin"}
        )
        assert key.status_code == 201, key.text
        token = key.json()["token"]
    database = pg_url.rsplit("/", 1)[1]
    with server.client(token) as api:
        conn = api.post(
            "/api/v1/connections",
            json={
                "name": "erp",
                "type": "postgresql",
                "config": {
                    "host": "127.0.0.1",
                    "port": 5432,
                    "database": database,
                    "username": "postgres",
                },
                "secrets": {"password": "e2e-source-password"},
            },
        )
        assert conn.status_code == 201, conn.text
        created = api.post("/api/v1/jobs", json=job)
        assert created.status_code == 201, created.text
        return token, created.json()["id"]


def _wait_terminal(api: httpx.Client, run_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api.get(f"/api/v1/runs/{run_id}").json()
        if run["is_terminal"]:
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} not terminal after {timeout}s: {run}")


JOB = {
    "name": "customers-daily",
    "steps": [
        {
            "type": "ingest",
            "connection": "erp",
            "tables": [{"schema": "public", "table": "customers", "primary_key": ["id"]}],
        },
        {
            "type": "quality",
            "dataset": "customers",
            "checks": [{"type": "row_count", "min": 1}, {"type": "unique", "column": "id"}],
        },
    ],
    "timeout_s": 300,
}


def test_serve_runs_a_job_from_postgresql_into_the_tenant_lake(server: Server, source: str) -> None:
    token, job_id = _setup_tenant(server, source, JOB)
    with server.client(token, **{"Idempotency-Key": "e2e-1"}) as api:
        accepted = api.post(f"/api/v1/jobs/{job_id}/runs", json={"parameters": {"why": "e2e"}})
        assert accepted.status_code == 202, accepted.text
        assert accepted.headers["Location"] == accepted.json()["href"]
        replay = api.post(f"/api/v1/jobs/{job_id}/runs", json={"parameters": {"why": "e2e"}})
        assert replay.json()["id"] == accepted.json()["id"]
        run = _wait_terminal(api, accepted.json()["id"])
        logs = api.get(f"/api/v1/runs/{run['id']}/logs").json()["lines"]
    assert run["status"] == "succeeded", (run, server.log.read_text()[-3000:])
    assert [(s["type"], s["status"]) for s in run["steps"]] == [
        ("ingest", "succeeded"),
        ("quality", "succeeded"),
    ]
    assert run["steps"][0]["rows"] == len(ROWS)
    assert run["quality"]["status"] == "pass"

    files = sorted((server.lake / "acme" / "prod" / "customers").rglob("*.parquet"))
    assert files, f"no Parquet under {server.lake}/acme/prod/customers"
    lake_rows = duckdb.sql(
        f"select id, name, amount from read_parquet({[str(f) for f in files]}) order by id"
    ).fetchall()
    assert lake_rows == ROWS
    # nothing of the tenant's run escaped its prefix
    assert {p.name for p in server.lake.iterdir()} == {"acme"}
    # the source password never reaches logs, API answers or the server output
    assert not any("e2e-source-password" in line["message"] for line in logs)
    assert "e2e-source-password" not in server.log.read_text()


def test_a_run_left_running_by_a_killed_server_is_failed_at_the_next_start(
    tmp_path: Path, source: str
) -> None:
    """SIGKILL the server mid-run (a slow source query holds it), start it again."""
    slow = {
        **JOB,
        "name": "slow",
        "steps": [
            {
                "type": "ingest",
                "connection": "erp",
                "tables": [{"schema": "public", "table": "slow_customers"}],
            }
        ],
    }
    with psycopg.connect(source, autocommit=True) as conn:
        # a view that takes 60 s to read keeps the run `running` while we kill the server
        conn.execute(
            "create view public.slow_customers as select c.* from public.customers c, pg_sleep(60)"
        )
    first = _start(tmp_path)
    try:
        token, job_id = _setup_tenant(first, source, slow)
        with first.client(token) as api:
            run_id = api.post(f"/api/v1/jobs/{job_id}/runs").json()["id"]
            deadline = time.monotonic() + 30
            while api.get(f"/api/v1/runs/{run_id}").json()["status"] != "running":
                assert time.monotonic() < deadline, "run never started"
                time.sleep(0.1)
    finally:
        _stop(first, signal.SIGKILL)
    second = _start(tmp_path)
    try:
        with second.client(token) as api:
            run = api.get(f"/api/v1/runs/{run_id}").json()
    finally:
        _stop(second)
    assert run["status"] == "failed" and run["is_terminal"]
    assert "died" in run["error"]
