"""Prometheus exposition at ``/metrics`` and per-route request metrics.

Metrics go to prometheus_client's default registry, so anything else in the process
(the executor, the ingestion engine) that registers metrics there is exposed too.
Labels use the route *template* (``/api/v1/connections/{name}``), never the raw path, so
tenant-chosen names cannot explode the label cardinality.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

REQUESTS = Counter(
    "lakegate_http_requests_total",
    "HTTP requests answered by the API.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "lakegate_http_request_duration_seconds",
    "Time to answer an API request.",
    ["method", "route"],
)


API_PREFIX = "/api/v1"
"""Prefix of every versioned route (the app includes its routers under it)."""


def route_template(request: Request) -> str:
    """The matched route's template with its ``/api/v1`` prefix, or ``unmatched``."""
    template = getattr(request.scope.get("route"), "path", None)
    if not template:
        return "unmatched"
    # routes of included routers carry their own prefix but not the include's prefix
    if request.url.path.startswith(API_PREFIX + "/") and not template.startswith(API_PREFIX):
        template = API_PREFIX + template
    return str(template)


async def _measure(request: Request, call_next: Any) -> Any:
    started = time.perf_counter()
    response = await call_next(request)
    template = route_template(request)
    if not request.url.path.startswith("/metrics"):
        REQUESTS.labels(request.method, template, str(response.status_code)).inc()
        LATENCY.labels(request.method, template).observe(time.perf_counter() - started)
    return response


def install_metrics(app: FastAPI) -> None:
    """Mount ``/metrics`` and count every request by method, route template and status."""
    app.middleware("http")(_measure)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        """Prometheus text exposition of the default registry."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
