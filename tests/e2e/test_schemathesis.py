"""Property-based API testing: schemathesis against the app's own ``/openapi.json``.

Every operation gets up to ``MAX_EXAMPLES`` generated requests (valid and invalid
bodies, paths, queries and headers) as the platform administrator acting on a real
tenant with a job, a connection and a run, over a real SQLite catalog. The check is
``not_a_server_error``: whatever the input, the API never answers 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from lakegate.api.app import create_app
from lakegate.catalog.migrate import upgrade
from lakegate.catalog.session import Catalog
from lakegate.jobs.executor import InProcessExecutor
from lakegate.jobs.runner import PlannedStep, Runner, StepContext, StepOutcome
from lakegate.settings import Settings

ADMIN_TOKEN = "fuzz-admin-token-0123456789abcdef"
MAX_EXAMPLES = 25
HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Lakegate-Tenant": "acme"}


def _noop(context: StepContext, step: PlannedStep) -> StepOutcome:
    return StepOutcome("succeeded")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The real app on a fresh SQLite catalog, seeded with a tenant, connection, job, run."""
    home = tmp_path_factory.mktemp("fuzz")
    app_settings = Settings(
        environment="test",
        database_url=f"sqlite:///{home / 'catalog.db'}",
        admin_token=ADMIN_TOKEN,  # type: ignore[arg-type]
        secret_key="fuzz-secret-key-0123456789abcdef",  # type: ignore[arg-type]
        lake={"url": str(home / "lake")},  # type: ignore[arg-type]
    )
    upgrade(app_settings.database_url)  # migrated like `lakegate serve`, so /readyz is ready
    catalog = Catalog.from_settings(app_settings)
    application = create_app(app_settings, catalog=catalog)
    # Runs triggered while fuzzing execute with steps that do nothing: this test is about
    # the HTTP surface, not the engines.
    runner = Runner(
        catalog.sessions, app_settings, step_functions={"ingest": _noop, "quality": _noop}
    )
    application.state.executor = InProcessExecutor(catalog.sessions, app_settings, runner=runner)
    client = TestClient(application)
    assert (
        client.post(
            "/api/v1/tenants", json={"slug": "acme", "name": "Acme"}, headers=HEADERS
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/connections",
            json={"name": "erp", "type": "sqlite", "config": {"database": str(home / "x.db")}},
            headers=HEADERS,
        ).status_code
        == 201
    )
    job = client.post(
        "/api/v1/jobs",
        json={
            "name": "daily",
            "steps": [
                {
                    "type": "quality",
                    "dataset": "orders",
                    "checks": [{"type": "row_count", "min": 1}],
                }
            ],
        },
        headers=HEADERS,
    )
    assert job.status_code == 201, job.text
    assert client.post(f"/api/v1/jobs/{job.json()['id']}/runs", headers=HEADERS).status_code == 202
    yield application
    catalog.dispose()


def _operations() -> list[tuple[str, str]]:
    """(path, method) of every operation, read from a throwaway app at collection time."""
    spec = create_app(Settings(database_url="sqlite://")).openapi()
    methods = {"get", "post", "put", "patch", "delete"}
    return [
        (path, method.upper())
        for path, item in sorted(spec["paths"].items())
        for method in sorted(item)
        if method in methods
    ]


@pytest.fixture(scope="module")
def api_schema(app: FastAPI) -> Any:
    """The schema as schemathesis reads it from the app's /openapi.json."""
    return schemathesis.openapi.from_asgi("/openapi.json", app)


# schemathesis' own pytest integration (``from_fixture``) reads a private pytest attribute
# that pytest 9 removed, so each operation is driven through Hypothesis here instead.
@pytest.mark.parametrize(("path", "method"), _operations(), ids=lambda v: str(v))
def test_no_server_errors(api_schema: Any, path: str, method: str) -> None:
    """No generated request to this operation, valid or not, gets a 5xx."""
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers=HEADERS, checks=[not_a_server_error])

    check()
