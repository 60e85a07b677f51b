"""``/api/v1/jobs/{id}/runs`` and ``/api/v1/runs`` over HTTP, with a real executor.

The executor and runner are the real ones; only the quality step function is replaced by
a controllable one (the engines have their own tests, and the e2e test runs them for
real), so these tests can hold a run ``running`` to cancel it or let it time out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lakegate.api.app import create_app
from lakegate.catalog.models.runs import Run
from lakegate.catalog.session import Catalog
from lakegate.jobs.executor import InProcessExecutor
from lakegate.jobs.runner import PlannedStep, Runner, StepContext, StepOutcome
from lakegate.settings import Settings
from tests.unit.api.conftest import TenantHandle


class Steps:
    """The quality step function of the test app: succeeds, fails or blocks on demand."""

    def __init__(self) -> None:
        self.mode = "succeed"
        self.release = threading.Event()

    def __call__(self, context: StepContext, step: PlannedStep) -> StepOutcome:
        if self.mode == "block":
            while not self.release.is_set():
                context.checkpoint()
                time.sleep(0.02)
        if self.mode == "fail":
            checks = [
                {
                    "name": "nn",
                    "type": "not_null",
                    "column": "id",
                    "status": "fail",
                    "severity": "error",
                }
            ]
            return StepOutcome(
                "failed", error="error-severity checks failed", quality_checks=checks
            )
        checks = [
            {
                "name": "nn",
                "type": "not_null",
                "column": "id",
                "status": "pass",
                "severity": "error",
            }
        ]
        return StepOutcome("succeeded", rows=3, quality_checks=checks)


@pytest.fixture
def steps() -> Steps:
    return Steps()


def _app(settings: Settings, catalog: Catalog, steps: Steps, workers: int = 2) -> Any:
    app = create_app(settings, catalog=catalog)
    runner = Runner(catalog.sessions, settings, step_functions={"quality": steps})
    app.state.executor = InProcessExecutor(
        catalog.sessions, settings, max_workers=workers, runner=runner, watchdog_interval_s=0.05
    )
    return app


@pytest.fixture
def client(api_settings: Settings, catalog: Catalog, steps: Steps) -> Iterator[TestClient]:
    """The app with a real executor whose quality steps are :class:`Steps`."""
    with TestClient(_app(api_settings, catalog, steps)) as test_client:
        yield test_client
    steps.release.set()


def job_body(name: str = "q", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "steps": [
            {
                "type": "quality",
                "dataset": "orders",
                "checks": [{"type": "not_null", "column": "id"}],
            }
        ],
        **extra,
    }


@pytest.fixture
def acme(make_tenant: Callable[..., TenantHandle]) -> TenantHandle:
    return make_tenant("acme")


def _job(client: TestClient, tenant: TenantHandle, **extra: Any) -> str:
    response = client.post("/api/v1/jobs", json=job_body(**extra), headers=tenant.headers("admin"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _wait(
    client: TestClient,
    headers: dict[str, str],
    run_id: str,
    until: Callable[[dict[str, Any]], bool],
) -> dict[str, Any]:
    end = time.monotonic() + 10
    while time.monotonic() < end:
        run = client.get(f"/api/v1/runs/{run_id}", headers=headers).json()
        if until(run):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} never reached the condition: {run}")


def _terminal(run: dict[str, Any]) -> bool:
    return bool(run["is_terminal"])


def test_trigger_runs_the_job_and_reports_steps_and_quality(
    client: TestClient, acme: TenantHandle
) -> None:
    job_id = _job(client, acme)
    response = client.post(f"/api/v1/jobs/{job_id}/runs", headers=acme.headers("operator"))
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued" and body["href"] == f"/api/v1/runs/{body['id']}"
    assert response.headers["Location"] == body["href"]
    run = _wait(client, acme.headers("viewer"), body["id"], _terminal)
    assert run["status"] == "succeeded" and run["error"] is None
    assert (run["job_id"], run["job_version"]) == (job_id, 1)
    assert [(s["type"], s["name"], s["status"], s["rows"]) for s in run["steps"]] == [
        ("quality", "orders", "succeeded", 3)
    ]
    assert run["quality"]["status"] == "pass"
    assert [c["name"] for c in run["quality"]["checks"]] == ["nn"]
    assert run["started_at"] and run["finished_at"]
    assert run["started_at"].endswith(("Z", "+00:00"))


def test_error_severity_failure_fails_the_run(
    client: TestClient, acme: TenantHandle, steps: Steps
) -> None:
    steps.mode = "fail"
    job_id = _job(client, acme)
    run_id = client.post(f"/api/v1/jobs/{job_id}/runs", headers=acme.headers("admin")).json()["id"]
    run = _wait(client, acme.headers("viewer"), run_id, _terminal)
    assert run["status"] == "failed"
    assert run["quality"]["status"] == "fail"
    assert "error-severity checks failed" in run["error"]


def test_runs_reference_the_version_they_ran(client: TestClient, acme: TenantHandle) -> None:
    job_id = _job(client, acme)
    first = client.post(f"/api/v1/jobs/{job_id}/runs", headers=acme.headers("admin")).json()["id"]
    client.put(f"/api/v1/jobs/{job_id}", json=job_body(timeout_s=60), headers=acme.headers("admin"))
    second = client.post(f"/api/v1/jobs/{job_id}/runs", headers=acme.headers("admin")).json()["id"]
    headers = acme.headers("viewer")
    assert _wait(client, headers, first, _terminal)["job_version"] == 1
    assert _wait(client, headers, second, _terminal)["job_version"] == 2


def test_idempotency_key_returns_the_same_run(client: TestClient, acme: TenantHandle) -> None:
    job_id = _job(client, acme)
    headers = {**acme.headers("operator"), "Idempotency-Key": "adf-run-42"}
    first = client.post(
        f"/api/v1/jobs/{job_id}/runs", headers=headers, json={"parameters": {"d": 1}}
    )
    second = client.post(
        f"/api/v1/jobs/{job_id}/runs", headers=headers, json={"parameters": {"d": 1}}
    )
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    other = client.post(
        f"/api/v1/jobs/{job_id}/runs",
        headers={**acme.headers("operator"), "Idempotency-Key": "adf-run-43"},
    )
    assert other.json()["id"] != first.json()["id"]
    listed = client.get(f"/api/v1/runs?job_id={job_id}", headers=acme.headers("viewer")).json()
    assert len(listed["items"]) == 2


def test_quota_exceeded_is_429_with_retry_after(
    client: TestClient, acme: TenantHandle, admin_headers: dict[str, str]
) -> None:
    response = client.put(
        f"/api/v1/tenants/{acme.id}/quotas", json={"max_runs_per_minute": 1}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    job_id = _job(client, acme)
    headers = {**acme.headers("operator"), "Idempotency-Key": "k"}
    assert client.post(f"/api/v1/jobs/{job_id}/runs", headers=headers).status_code == 202
    # an idempotent replay is not a new run: no quota spent, no 429
    assert client.post(f"/api/v1/jobs/{job_id}/runs", headers=headers).status_code == 202
    refused = client.post(f"/api/v1/jobs/{job_id}/runs", headers=acme.headers("operator"))
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


def test_cancel_a_running_run(client: TestClient, acme: TenantHandle, steps: Steps) -> None:
    steps.mode = "block"
    job_id = _job(client, acme)
    run_id = client.post(f"/api/v1/jobs/{job_id}/runs", headers=acme.headers("operator")).json()[
        "id"
    ]
    viewer, operator = acme.headers("viewer"), acme.headers("operator")
    _wait(client, viewer, run_id, lambda r: r["status"] == "running")
    assert client.post(f"/api/v1/runs/{run_id}:cancel", headers=viewer).status_code == 403
    cancel = client.post(f"/api/v1/runs/{run_id}:cancel", headers=operator)
    assert cancel.status_code == 200
    assert cancel.json()["status"] in {"cancelling", "cancelled"}
    run = _wait(client, viewer, run_id, _terminal)
    assert run["status"] == "cancelled"
    assert run["steps"][0]["status"] == "cancelled"
    again = client.post(f"/api/v1/runs/{run_id}:cancel", headers=operator)
    assert again.status_code == 200 and again.json()["status"] == "cancelled"  # idempotent


def test_cancel_a_queued_run(
    api_settings: Settings, catalog: Catalog, steps: Steps, make_tenant: Callable[..., TenantHandle]
) -> None:
    steps.mode = "block"
    with TestClient(_app(api_settings, catalog, steps, workers=1)) as client:
        tenant = make_tenant("acme")  # the conftest factory uses its own client on the same catalog
        job_id = _job(client, tenant)
        operator = tenant.headers("operator")
        busy = client.post(f"/api/v1/jobs/{job_id}/runs", headers=operator).json()["id"]
        waiting = client.post(f"/api/v1/jobs/{job_id}/runs", headers=operator).json()["id"]
        _wait(client, operator, busy, lambda r: r["status"] == "running")
        cancelled = client.post(f"/api/v1/runs/{waiting}:cancel", headers=operator).json()
        assert cancelled["status"] == "cancelled" and cancelled["is_terminal"]
        steps.release.set()
        assert _wait(client, operator, busy, _terminal)["status"] == "succeeded"
        assert (
            client.get(f"/api/v1/runs/{waiting}", headers=operator).json()["status"] == "cancelled"
        )


def test_timeout_ends_timed_out(client: TestClient, acme: TenantHandle, steps: Steps) -> None:
    steps.mode = "block"
    job_id = _job(client, acme, timeout_s=1)
    run_id = client.post(f"/api/v1/jobs/{job_id}/runs", headers=acme.headers("operator")).json()[
        "id"
    ]
    run = _wait(client, acme.headers("viewer"), run_id, _terminal)
    assert run["status"] == "timed_out"
    assert run["error"] == "timed out after 1s"


def test_crash_recovery_at_startup(
    api_settings: Settings, catalog: Catalog, steps: Steps, make_tenant: Callable[..., TenantHandle]
) -> None:
    tenant = make_tenant("acme")
    with TestClient(_app(api_settings, catalog, steps)) as client:
        job_id = _job(client, tenant)
    with catalog.transaction() as session:  # what a killed server leaves behind
        from lakegate.catalog.models.jobs import JobDefinition
        from lakegate.jobs import manager

        job = session.get(JobDefinition, job_id)
        assert job is not None
        run = manager.create_run(session, job).run
        run.status, run.worker = "running", "gone-host:1"
        run.heartbeat_at = run.started_at = None
        run_id = run.id
    with TestClient(_app(api_settings, catalog, steps)) as client:
        run_json = client.get(f"/api/v1/runs/{run_id}", headers=tenant.headers("viewer")).json()
    assert run_json["status"] == "failed" and run_json["is_terminal"]
    assert "died" in run_json["error"]


def test_list_filters_and_paginates(client: TestClient, acme: TenantHandle) -> None:
    job_id = _job(client, acme)
    other_job = _job(client, acme, name="other")
    operator, viewer = acme.headers("operator"), acme.headers("viewer")
    ids = [
        client.post(f"/api/v1/jobs/{job_id}/runs", headers=operator).json()["id"] for _ in range(3)
    ]
    client.post(f"/api/v1/jobs/{other_job}/runs", headers=operator)
    for run_id in ids:
        _wait(client, viewer, run_id, _terminal)
    first = client.get(f"/api/v1/runs?job_id={job_id}&limit=2", headers=viewer).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get(
        f"/api/v1/runs?job_id={job_id}&limit=2&cursor={first['next_cursor']}", headers=viewer
    ).json()
    assert rest["next_cursor"] is None
    seen = [r["id"] for r in first["items"] + rest["items"]]
    assert sorted(seen) == sorted(ids)  # every run once, none twice
    created = [r["created_at"] for r in first["items"] + rest["items"]]
    assert created == sorted(created, reverse=True)
    succeeded = client.get("/api/v1/runs?status=succeeded", headers=viewer).json()["items"]
    assert len(succeeded) >= 3 and {r["status"] for r in succeeded} == {"succeeded"}


@pytest.mark.parametrize(
    "query", ["status=paused", "limit=0", "limit=100000", "cursor=%%%", "cursor=bm9wZQ"]
)
def test_bad_list_queries_are_422(client: TestClient, acme: TenantHandle, query: str) -> None:
    response = client.get(f"/api/v1/runs?{query}", headers=acme.headers("viewer"))
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "body", [{"callBackUri": "not a url"}, {"parameters": "x"}, {"unknown": 1}, [1]]
)
def test_bad_trigger_bodies_are_422(client: TestClient, acme: TenantHandle, body: Any) -> None:
    job_id = _job(client, acme)
    response = client.post(
        f"/api/v1/jobs/{job_id}/runs", json=body, headers=acme.headers("operator")
    )
    assert response.status_code == 422
    with client.app.state.catalog.session() as session:  # type: ignore[attr-defined]
        assert session.query(Run).count() == 0  # nothing started


def test_too_long_idempotency_key_is_422(client: TestClient, acme: TenantHandle) -> None:
    job_id = _job(client, acme)
    headers = {**acme.headers("operator"), "Idempotency-Key": "k" * 300}
    assert client.post(f"/api/v1/jobs/{job_id}/runs", headers=headers).status_code == 422


def test_logs(client: TestClient, acme: TenantHandle) -> None:
    job_id = _job(client, acme)
    run_id = client.post(f"/api/v1/jobs/{job_id}/runs", headers=acme.headers("operator")).json()[
        "id"
    ]
    _wait(client, acme.headers("viewer"), run_id, _terminal)
    logs = client.get(f"/api/v1/runs/{run_id}/logs", headers=acme.headers("viewer")).json()
    messages = [line["message"] for line in logs["lines"]]
    assert messages[0].startswith("run queued")
    assert any("status running" in m for m in messages)
    assert messages[-1] == "status succeeded"


def test_roles_and_auth(client: TestClient, acme: TenantHandle) -> None:
    job_id = _job(client, acme)
    assert (
        client.post(f"/api/v1/jobs/{job_id}/runs", headers=acme.headers("viewer")).status_code
        == 403
    )
    assert client.post(f"/api/v1/jobs/{job_id}/runs").status_code == 401
    assert client.get("/api/v1/runs").status_code == 401
    assert client.get("/api/v1/runs", headers={"Authorization": "Bearer lg_x_y"}).status_code == 401


def test_another_tenants_run_is_404(
    client: TestClient, acme: TenantHandle, make_tenant: Callable[..., TenantHandle]
) -> None:
    job_id = _job(client, acme)
    run_id = client.post(f"/api/v1/jobs/{job_id}/runs", headers=acme.headers("operator")).json()[
        "id"
    ]
    other = make_tenant("globex").headers("admin")
    assert client.get(f"/api/v1/runs/{run_id}", headers=other).status_code == 404
    assert client.get(f"/api/v1/runs/{run_id}/logs", headers=other).status_code == 404
    assert client.post(f"/api/v1/runs/{run_id}:cancel", headers=other).status_code == 404
    assert client.get("/api/v1/runs", headers=other).json()["items"] == []
    assert client.get(f"/api/v1/runs?job_id={job_id}", headers=other).json()["items"] == []
    assert client.get("/api/v1/runs/nope", headers=acme.headers("viewer")).status_code == 404


def test_api_runs_feature_off_is_403_naming_the_flag(
    client: TestClient, acme: TenantHandle, admin_headers: dict[str, str]
) -> None:
    job_id = _job(client, acme)
    off = client.put(
        f"/api/v1/tenants/{acme.id}/features",
        json={"features": {"api_runs": False}},
        headers=admin_headers,
    )
    assert off.status_code == 200, off.text
    refused = client.post(f"/api/v1/jobs/{job_id}/runs", headers=acme.headers("operator"))
    assert refused.status_code == 403
    assert "api_runs" in refused.json()["detail"]
