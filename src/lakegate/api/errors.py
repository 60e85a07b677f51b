"""One place that turns errors into ``application/problem+json`` responses (RFC 9457).

* :class:`~lakegate.errors.LakegateError` -> its ``http_status``, ``title``, one-line
  ``detail`` (secrets masked); an error with ``retry_after_s`` (quota exceeded, rate
  limiting unavailable) adds ``Retry-After``.
* Request validation -> 422 with ``errors: [{field, message}]``, the field as a dotted path
  (``body.steps.0.connection``); the submitted values are never echoed (they may be secrets).
* Starlette HTTP errors (404 route, 405 method) -> the same shape.
* Anything else -> 500 with a generic detail, logged with its traceback (masked).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lakegate.errors import LakegateError
from lakegate.observability.logging import get_logger
from lakegate.observability.redact import redact

PROBLEM_JSON = "application/problem+json"
log = get_logger(__name__)


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": redact(detail)}
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


async def _lakegate_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LakegateError)
    headers: dict[str, str] = {}
    retry_after = getattr(exc, "retry_after_s", None)  # quotas, unavailable rate limiting
    if isinstance(retry_after, int | float):
        headers["Retry-After"] = str(max(1, int(retry_after)))
    if exc.http_status >= 500:
        log.warning("request_failed", path=request.url.path, error=str(exc))
    return problem(exc.http_status, exc.title, str(exc), headers=headers or None)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_path(err.get("loc", ())), "message": redact(str(err.get("msg", "")))}
        for err in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    return problem(422, "Invalid request", detail, errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
    headers = dict(exc.headers) if exc.headers else None
    return problem(exc.status_code, title, str(exc.detail), headers=headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled_error", path=request.url.path, exc_info=exc)
    return problem(500, "Internal error", "unexpected server error (see the server log)")


_NUL_MARKERS = (b"\\u0000", b"\x00", b"%00")


async def _reject_nul_characters(request: Request, call_next: Any) -> Any:
    # PostgreSQL text cannot hold NUL: refuse it at the door (422), never let it become a 500.
    raw_target = request.url.path.encode() + b"?" + request.url.query.encode()
    if any(marker in raw_target for marker in _NUL_MARKERS[1:]):
        return problem(422, "Invalid request", "NUL characters are not accepted in the URL")
    if request.method in {"POST", "PUT", "PATCH"}:
        body = await request.body()
        if any(marker in body for marker in _NUL_MARKERS[:2]):
            return problem(422, "Invalid request", "NUL characters are not accepted in the body")
    return await call_next(request)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers (and the NUL-character guard) on ``app``."""
    app.middleware("http")(_reject_nul_characters)
    app.add_exception_handler(LakegateError, _lakegate_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
