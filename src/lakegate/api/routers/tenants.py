"""``/tenants``: the platform administrator manages tenants."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response, status

from lakegate.api.deps import PlatformAdminDep, SessionDep
from lakegate.api.schemas.tenants import TenantCreate, TenantOut, TenantUpdate
from lakegate.catalog.models import Tenant
from lakegate.tenants import service
from lakegate.tenants.service import lake_prefix, secret_namespace

router = APIRouter(prefix="/tenants", tags=["tenants"])


def tenant_out(tenant: Tenant) -> TenantOut:
    """API view of a tenant."""
    return TenantOut(
        id=tenant.id,
        slug=tenant.slug,
        name=tenant.name,
        environment=tenant.environment,
        status=tenant.status,
        lake_prefix=lake_prefix(tenant),
        secret_namespace=secret_namespace(tenant),
        created_at=tenant.created_at,
        updated_at=tenant.updated_at,
        deactivated_at=tenant.deactivated_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a tenant")
def create_tenant(
    body: TenantCreate, session: SessionDep, admin: PlatformAdminDep, response: Response
) -> TenantOut:
    """A new active tenant (409 when the slug exists)."""
    tenant = service.create_tenant(
        session, slug=body.slug, name=body.name, environment=body.environment, actor=admin.subject
    )
    response.headers["Location"] = f"/api/v1/tenants/{tenant.id}"
    return tenant_out(tenant)


@router.get("", summary="List tenants")
def list_tenants(
    session: SessionDep,
    _admin: PlatformAdminDep,
    status_: Literal["active", "deactivated"] | None = Query(default=None, alias="status"),
) -> list[TenantOut]:
    """Every tenant, oldest first."""
    return [tenant_out(t) for t in service.list_tenants(session, status_)]


@router.get("/{tenant_id}", summary="Get a tenant")
def get_tenant(tenant_id: str, session: SessionDep, _admin: PlatformAdminDep) -> TenantOut:
    """One tenant by id or slug."""
    return tenant_out(service.get_tenant(session, tenant_id))


@router.patch("/{tenant_id}", summary="Rename a tenant")
def update_tenant(
    tenant_id: str, body: TenantUpdate, session: SessionDep, admin: PlatformAdminDep
) -> TenantOut:
    """Change the display name (slug and environment name storage paths and are fixed)."""
    return tenant_out(
        service.update_tenant(session, tenant_id, name=body.name, actor=admin.subject)
    )


@router.post("/{tenant_id}:deactivate", summary="Deactivate a tenant")
def deactivate_tenant(tenant_id: str, session: SessionDep, admin: PlatformAdminDep) -> TenantOut:
    """Its keys get 403 and its schedules stop; idempotent."""
    return tenant_out(service.set_active(session, tenant_id, active=False, actor=admin.subject))


@router.post("/{tenant_id}:reactivate", summary="Reactivate a tenant")
def reactivate_tenant(tenant_id: str, session: SessionDep, admin: PlatformAdminDep) -> TenantOut:
    """Undo a deactivation; idempotent."""
    return tenant_out(service.set_active(session, tenant_id, active=True, actor=admin.subject))


@router.delete(
    "/{tenant_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a deactivated tenant"
)
def delete_tenant(tenant_id: str, session: SessionDep, admin: PlatformAdminDep) -> Response:
    """409 unless the tenant is deactivated; deletes everything it owns in the catalog."""
    service.delete_tenant(session, tenant_id, actor=admin.subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
