"""Correlation ids for API requests.

Each request gets a trace id — the W3C ``traceparent`` trace id when the caller sends one,
else ``X-Request-ID`` when it is a sane token, else a new one — bound with
:func:`~lakegate.observability.logging.bind_correlation` for every log line of the
request and returned in the ``X-Request-ID`` response header.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import FastAPI, Request

from lakegate.observability.logging import bind_correlation

REQUEST_ID_HEADER = "X-Request-ID"
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-(?P<trace>[0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_trace_id(request: Request) -> str:
    """The trace id of ``request`` (see the module docstring)."""
    parent = _TRACEPARENT.match(request.headers.get("traceparent", "").strip().lower())
    if parent:
        return parent["trace"]
    given = request.headers.get(REQUEST_ID_HEADER, "").strip()
    return given if _SAFE_ID.match(given) else uuid.uuid4().hex


async def _correlate(request: Request, call_next: Any) -> Any:
    trace_id = request_trace_id(request)
    request.state.trace_id = trace_id
    with bind_correlation(trace_id=trace_id):
        response = await call_next(request)
    response.headers[REQUEST_ID_HEADER] = trace_id
    return response


def install_correlation(app: FastAPI) -> None:
    """Bind a trace id around every request and echo it in ``X-Request-ID``."""
    app.middleware("http")(_correlate)
