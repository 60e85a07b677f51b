"""The FastAPI application, built by :func:`create_app` (never at import).

Routes live under ``/api/v1`` (one router per resource); ``/healthz`` and ``/readyz`` at
the root; OpenAPI at ``/openapi.json``; Prometheus at ``/metrics``. ``app.state`` carries
what the dependencies in :mod:`lakegate.api.deps` hand out:

* ``settings`` — :class:`~lakegate.settings.Settings`
* ``catalog`` — :class:`~lakegate.catalog.session.Catalog`
* ``features`` — :class:`~lakegate.tenants.features.FeatureFlags`
* ``quotas`` — :class:`~lakegate.tenants.quotas.RunRateLimiter`
* ``secret_store`` — where connection secrets go
  (:func:`~lakegate.connections.secret_store.secret_store_for`)

Startup seam for the job platform: if ``lakegate.api.routers.jobs`` or ``.runs`` define
``on_startup(app)`` / ``on_shutdown(app)``, the lifespan calls them (executor pool,
crash recovery) after the catalog is ready.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from types import ModuleType

from fastapi import FastAPI

from lakegate.api import scheduling
from lakegate.api.correlation import install_correlation
from lakegate.api.errors import install_error_handlers
from lakegate.api.metrics import API_PREFIX, install_metrics
from lakegate.api.routers import (
    api_keys,
    connections,
    features,
    health,
    jobs,
    quotas,
    runs,
    tenants,
)
from lakegate.catalog.session import Catalog
from lakegate.connections.secret_store import secret_store_for
from lakegate.settings import Settings, get_settings
from lakegate.tenants.features import FeatureFlags
from lakegate.tenants.quotas import RunRateLimiter

# scheduling after runs: its scheduler hands runs to the executor runs starts (and stops first)
_LIFECYCLE_MODULES: tuple[ModuleType, ...] = (jobs, runs, scheduling)


def create_app(settings: Settings | None = None, *, catalog: Catalog | None = None) -> FastAPI:
    """The Lakegate API for ``settings`` (from the environment when omitted).

    ``catalog`` may be passed to share one (tests); otherwise the app builds its own from
    ``settings.database_url`` and disposes it at shutdown.
    """
    settings = settings or get_settings()
    owns_catalog = catalog is None
    catalog = catalog or Catalog.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for module in _LIFECYCLE_MODULES:
            hook = getattr(module, "on_startup", None)
            if callable(hook):
                hook(app)
        try:
            yield
        finally:
            for module in reversed(_LIFECYCLE_MODULES):
                hook = getattr(module, "on_shutdown", None)
                if callable(hook):
                    hook(app)
            if owns_catalog:
                catalog.dispose()

    app = FastAPI(
        title="Lakegate",
        version=version("lakegate"),
        description="Multi-tenant ingestion and data-quality platform.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.catalog = catalog
    app.state.features = FeatureFlags(catalog.sessions)
    app.state.quotas = RunRateLimiter.from_settings(settings)
    app.state.secret_store = secret_store_for(settings)
    install_error_handlers(app)
    install_metrics(app)
    install_correlation(app)  # added last: outermost, so every log line of a request has it
    app.include_router(health.router)
    for module in (tenants, quotas, features, api_keys, connections, jobs, runs):
        app.include_router(module.router, prefix=API_PREFIX)
    return app
