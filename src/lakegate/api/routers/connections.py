"""``/connections``: the tenant's sources. Secrets go in; only their names come out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status

from lakegate.api.deps import PrincipalDep, SessionDep, SettingsDep, TenantDep, require_role
from lakegate.api.schemas.connections import (
    ConnectionCreate,
    ConnectionOut,
    ConnectionTestOut,
    ConnectionUpdate,
)
from lakegate.connections import service

router = APIRouter(prefix="/connections", tags=["connections"])
_admin = [Depends(require_role("admin"))]
_operator = [Depends(require_role("operator"))]


@router.post(
    "", status_code=status.HTTP_201_CREATED, dependencies=_admin, summary="Create a connection"
)
def create_connection(
    request: Request,
    body: ConnectionCreate,
    tenant: TenantDep,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> ConnectionOut:
    """Store a connection; secrets are encrypted (409 when the name exists)."""
    conn = service.create(
        session,
        tenant,
        settings,
        name=body.name,
        type=body.type,
        config=body.config,
        secrets=body.secrets,
        actor=principal.subject,
        store=request.app.state.secret_store,
    )
    return ConnectionOut.model_validate(conn)


@router.get("", summary="List connections")
def list_connections(tenant: TenantDep, session: SessionDep) -> list[ConnectionOut]:
    """The tenant's connections (secret names only)."""
    return [ConnectionOut.model_validate(c) for c in service.list_connections(session, tenant)]


@router.get("/{name}", summary="Get a connection")
def get_connection(name: str, tenant: TenantDep, session: SessionDep) -> ConnectionOut:
    """One connection (secret names only)."""
    return ConnectionOut.model_validate(service.get(session, tenant, name))


@router.put("/{name}", dependencies=_admin, summary="Replace a connection")
def update_connection(
    request: Request,
    name: str,
    body: ConnectionUpdate,
    tenant: TenantDep,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> ConnectionOut:
    """Replace type and config; secrets are replaced when given, kept when omitted."""
    conn = service.update(
        session,
        tenant,
        settings,
        name,
        type=body.type,
        config=body.config,
        secrets=body.secrets,
        actor=principal.subject,
        store=request.app.state.secret_store,
    )
    return ConnectionOut.model_validate(conn)


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=_admin,
    summary="Delete a connection",
)
def delete_connection(
    name: str, tenant: TenantDep, session: SessionDep, principal: PrincipalDep
) -> Response:
    """Remove a connection."""
    service.delete(session, tenant, name, actor=principal.subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{name}:test", dependencies=_operator, summary="Test a connection")
def test_connection(
    request: Request, name: str, tenant: TenantDep, session: SessionDep, settings: SettingsDep
) -> ConnectionTestOut:
    """``{ok: true}`` when the source answers within a few seconds, else ``{ok: false, error}``."""
    ok, error, elapsed_ms = service.test(
        session, tenant, name, settings, request.app.state.secret_store
    )
    return ConnectionTestOut(ok=ok, error=error, elapsed_ms=elapsed_ms)
