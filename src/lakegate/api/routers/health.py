"""``/healthz`` (the process answers) and ``/readyz`` (catalog reachable, migrations current)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from lakegate.api.deps import CatalogDep
from lakegate.catalog.migrate import current_revision, head_revision
from lakegate.observability.redact import redact

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process is up")
def healthz() -> dict[str, str]:
    """Always ``{"status": "ok"}`` while the process serves requests."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: catalog reachable and migrated",
    responses={503: {"description": "Catalog unreachable or migrations pending"}},
)
def readyz(catalog: CatalogDep) -> JSONResponse:
    """200 when the catalog answers and is at the head migration; 503 saying why otherwise."""
    checks: dict[str, Any] = {}
    try:
        with catalog.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["catalog"] = "ok"
        current, head = current_revision(catalog.engine), head_revision()
        checks["migrations"] = (
            "ok" if current == head else f"at {current or 'none'}, head is {head}"
        )
    except Exception as exc:  # any driver error means "not ready", never a 500
        checks["catalog"] = redact(f"unreachable: {type(exc).__name__}")
    ready = all(value == "ok" for value in checks.values()) and "migrations" in checks
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
