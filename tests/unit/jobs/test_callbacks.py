"""The ADF ``callBackUri`` contract, against a real local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from lakegate.catalog.session import Catalog
from lakegate.jobs import manager
from lakegate.jobs.registry import JobView
from lakegate.jobs.runner import PlannedStep, Runner, StepContext, StepOutcome
from lakegate.settings import Settings


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local server recording the JSON bodies POSTed to it."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/callback", received
    server.shutdown()


def _run_with(
    catalog: Catalog, settings: Settings, view: JobView, url: str, outcome: StepOutcome
) -> str:
    with catalog.session() as session:
        run_id = manager.create_run(session, session.merge(view.job), callback_uri=url).run.id
        session.commit()

    def step(context: StepContext, planned: PlannedStep) -> StepOutcome:
        return outcome

    Runner(catalog.sessions, settings, step_functions={"quality": step}).execute(run_id)
    return run_id


def test_success_is_reported_with_status_200(
    catalog: Catalog,
    settings: Settings,
    make_job: Callable[..., JobView],
    hook: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = hook
    run_id = _run_with(catalog, settings, make_job(), url, StepOutcome("succeeded"))
    assert received == [
        {
            "Output": {
                "runId": run_id,
                "jobId": received[0]["Output"]["jobId"],
                "jobVersion": 1,
                "status": "succeeded",
                "href": f"/api/v1/runs/{run_id}",
            },
            "StatusCode": "200",
        }
    ]


def test_failure_is_reported_with_an_error(
    catalog: Catalog,
    settings: Settings,
    make_job: Callable[..., JobView],
    hook: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = hook
    _run_with(catalog, settings, make_job(), url, StepOutcome("failed", error="no such table"))
    assert len(received) == 1
    assert received[0]["StatusCode"] == "500"
    assert received[0]["Error"]["ErrorCode"] == "RunFailed"
    assert "no such table" in received[0]["Error"]["Message"]


def test_an_unreachable_callback_does_not_change_the_outcome(
    catalog: Catalog, settings: Settings, make_job: Callable[..., JobView]
) -> None:
    from lakegate.jobs import callbacks

    url = "http://127.0.0.1:1/nothing-listens-here"
    run_id = _run_with(catalog, settings, make_job(), url, StepOutcome("succeeded"))
    with catalog.session() as session:
        run = manager.get_run(session, run_id)
        assert run.status == "succeeded"
        assert callbacks.notify(run, attempts=2, backoff_s=0.01) is False
