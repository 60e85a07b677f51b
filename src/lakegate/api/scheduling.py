"""Job schedules inside ``lakegate serve`` when ``LAKEGATE_SCHEDULER_ENABLED=true``.

Lifecycle hooks called by the app's lifespan after :mod:`lakegate.api.routers.runs` has
started the executor (and, at shutdown, before it stops it): the scheduler thread hands
the runs it creates to ``app.state.executor`` and counts them against ``app.state.quotas``
like API triggers. Several servers may enable it on one catalog: a fire time still gives
one run (:mod:`lakegate.jobs.periodic`).
"""

from __future__ import annotations

from fastapi import FastAPI

from lakegate.jobs.periodic import PeriodicScheduler


def on_startup(app: FastAPI) -> None:
    """Start ``app.state.scheduler`` when the settings enable it."""
    settings = app.state.settings
    if not settings.scheduler_enabled:
        return
    executor = getattr(app.state, "executor", None)
    scheduler = PeriodicScheduler(
        app.state.catalog.sessions,
        limiter=app.state.quotas,
        features=app.state.features,
        submit=executor.submit if executor is not None else None,
    )
    app.state.scheduler = scheduler
    scheduler.start(interval_s=settings.scheduler_interval_s)


def on_shutdown(app: FastAPI) -> None:
    """Stop the scheduler thread before the executor stops."""
    scheduler = getattr(app.state, "scheduler", None)
    if scheduler is not None:
        scheduler.stop()
