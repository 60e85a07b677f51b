"""``lakegate serve`` fires job schedules when ``LAKEGATE_SCHEDULER_ENABLED=true``.

The real app with its lifespan (TestClient as a context manager): the scheduler thread
creates the due run and the app's own executor executes it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from lakegate.api.app import create_app
from lakegate.catalog.models import Tenant
from lakegate.catalog.models.jobs import JobDefinition, JobVersion
from lakegate.catalog.models.runs import Run
from lakegate.catalog.session import Catalog
from lakegate.jobs import registry
from lakegate.jobs.models import JobDefinitionSpec
from lakegate.jobs.periodic import fire_key
from lakegate.settings import Settings

YEARLY = {
    "name": "yearly",
    "steps": [
        {"type": "quality", "dataset": "orders", "checks": [{"type": "row_count", "min": 1}]}
    ],
    "schedule": {"cron": "0 0 1 1 *", "timezone": "UTC"},
}


def _due_job(catalog: Catalog) -> str:
    """A tenant with a yearly job that exists since 2025: this year's fire time is due."""
    with catalog.transaction() as session:
        tenant = Tenant(slug="acme", name="Acme", environment="prod", status="active")
        session.add(tenant)
    with catalog.session() as session:
        job_id = registry.create_job(
            session, tenant.id, JobDefinitionSpec.model_validate(YEARLY)
        ).job.id
    long_ago = datetime(2025, 1, 1, tzinfo=UTC)
    with catalog.transaction() as session:
        session.execute(update(JobDefinition).values(created_at=long_ago))
        session.execute(update(JobVersion).values(created_at=long_ago))
    return job_id


def _runs(catalog: Catalog) -> list[Run]:
    with catalog.session() as session:
        return list(session.scalars(select(Run)))


def test_serve_runs_the_scheduler_when_enabled(api_settings: Settings, catalog: Catalog) -> None:
    job_id = _due_job(catalog)
    settings = api_settings.model_copy(
        update={"scheduler_enabled": True, "scheduler_interval_s": 0.2}
    )
    app = create_app(settings, catalog=catalog)
    with TestClient(app):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            runs = _runs(catalog)
            if runs and runs[0].status in {"succeeded", "failed"}:
                break
            time.sleep(0.1)
        assert app.state.scheduler.running
    (run,) = _runs(catalog)
    assert run.trigger == "schedule" and run.job_id == job_id
    assert run.idempotency_key == fire_key(
        job_id, datetime(datetime.now(UTC).year, 1, 1, tzinfo=UTC)
    )
    # the app's executor took it: it ran to a terminal status (no 'orders' dataset: failed)
    assert run.status in {"succeeded", "failed"} and run.worker
    assert not app.state.scheduler.running  # stopped with the app


def test_serve_does_not_schedule_by_default(api_settings: Settings, catalog: Catalog) -> None:
    _due_job(catalog)
    app = create_app(api_settings, catalog=catalog)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        time.sleep(0.3)
        assert getattr(app.state, "scheduler", None) is None
    assert _runs(catalog) == []
