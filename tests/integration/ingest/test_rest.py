"""REST sources through dlt's rest_api against a local HTTP server (pagination, incremental).

The server is a threaded ``http.server`` on 127.0.0.1:0 speaking a JSON API with a
``next`` link per page and a ``since`` filter; a bearer token is required when set.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from lakegate.errors import ConfigError
from lakegate.ingest.models import IngestJob
from lakegate.ingest.pipeline import run_job
from lakegate.lake.storage import Lake
from lakegate.settings import Settings

from .conftest import read_lake_table, table_files

TOKEN = "tok-Secret-4711"
PAGE = 5


class Api:
    """In-memory events served page by page; records the requests it saw."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = [
            {"id": i, "name": f"event {i}", "updated_at": f"2024-01-01T00:{i:02d}:00Z"}
            for i in range(1, 13)
        ]
        self.requests: list[dict[str, list[str]]] = []
        self.url = ""


@pytest.fixture
def api() -> Iterator[Api]:
    state = Api()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            query = parse_qs(parsed.query)
            state.requests.append(query)
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_response(401)
                self.end_headers()
                return
            since = query.get("since", [""])[0]
            page = int(query.get("page", ["0"])[0])
            rows = sorted(
                (e for e in state.events if e["updated_at"] >= since),
                key=lambda e: e["updated_at"],
            )
            chunk = rows[page * PAGE : (page + 1) * PAGE]
            more = (page + 1) * PAGE < len(rows)
            body = {
                "data": chunk,
                "next": f"{state.url}/api/events?since={since}&page={page + 1}" if more else None,
            }
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def endpoint_file(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The dlt rest_api config as YAML; the token comes from the source's secrets."""
    monkeypatch.setenv("SOURCES__EVENTS_API__TOKEN", TOKEN)
    path = tmp_path / "events_api.yml"
    path.write_text(
        f"""
client:
  base_url: {api.url}/api/
  paginator:
    type: json_link
    next_url_path: next
resources:
  - name: events
    primary_key: id
    endpoint:
      path: events
      data_selector: data
      params:
        since:
          type: incremental
          cursor_path: updated_at
          initial_value: "1970-01-01T00:00:00Z"
""",
        encoding="utf-8",
    )
    return path


def _job(endpoint: Path, **kw: Any) -> IngestJob:
    base: dict[str, Any] = {
        "job_id": "events",
        "source_type": "rest_api",
        "source_name": "events_api",
        "table_name": "events",
        "load_type": "INCREMENTAL",
        "watermark_column": "updated_at",
        "endpoint_config": str(endpoint),
    }
    base.update(kw)
    return IngestJob(**base)


def test_paginated_incremental_rest_load(
    api: Api, endpoint_file: Path, lake: Lake, settings: Settings
) -> None:
    first = run_job(_job(endpoint_file), lake=lake, settings=settings, run_id="r1")
    assert first.status == "success", first.error
    assert first.rows_loaded == 12
    assert len(api.requests) == 3  # 12 rows, 5 per page
    assert first.watermark_to == "2024-01-01T00:12:00Z"
    rows = read_lake_table(first.file_paths).to_pylist()
    assert sorted(r["id"] for r in rows) == list(range(1, 13))
    assert {r["name"] for r in rows} == {f"event {i}" for i in range(1, 13)}

    api.events.append({"id": 13, "name": "new", "updated_at": "2024-01-01T01:00:00Z"})
    api.events[1] = {"id": 2, "name": "changed", "updated_at": "2024-01-01T01:05:00Z"}
    api.requests.clear()
    second = run_job(_job(endpoint_file), lake=lake, settings=settings, run_id="r2")
    assert second.status == "success", second.error
    assert api.requests[0]["since"] == ["2024-01-01T00:12:00Z"]
    assert second.watermark_from == first.watermark_to
    assert second.watermark_to == "2024-01-01T01:05:00Z"
    new = sorted((r["id"], r["name"]) for r in read_lake_table(second.file_paths).to_pylist())
    assert new == [(2, "changed"), (13, "new")]
    assert read_lake_table(table_files(lake, "events")).num_rows == 14
    assert TOKEN not in repr(second)


def test_unknown_resource_and_missing_file_are_config_errors(
    endpoint_file: Path, lake: Lake, settings: Settings, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"no resource 'orders' \(resources: events\)"):
        run_job(_job(endpoint_file, table_name="orders"), lake=lake, settings=settings, run_id="r")
    with pytest.raises(ConfigError, match="endpoint_config file not found"):
        run_job(_job(tmp_path / "nope.yml"), lake=lake, settings=settings, run_id="r")


def test_rejected_token_fails_without_leaking(
    api: Api, endpoint_file: Path, lake: Lake, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__EVENTS_API__TOKEN", "tok-Wrong-0815")
    result = run_job(_job(endpoint_file), lake=lake, settings=settings, run_id="r1")
    assert result.status == "failed"
    assert result.error is not None and result.error.startswith("job events: ")
    assert "401" in result.error
    assert "tok-Wrong-0815" not in result.error
    assert table_files(lake, "events") == []
