"""``/tenants/{id}/api-keys``: created by the platform admin, the token shown once."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from lakegate.api.deps import PathTenantDep, PlatformAdminDep, SessionDep
from lakegate.api.schemas.tenants import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from lakegate.tenants import service

router = APIRouter(prefix="/tenants/{tenant_id}/api-keys", tags=["api-keys"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create an API key")
def create_api_key(
    body: ApiKeyCreate, tenant: PathTenantDep, session: SessionDep, admin: PlatformAdminDep
) -> ApiKeyCreated:
    """A new key with a role; ``token`` is in this response only (store it now)."""
    key, token = service.create_api_key(
        session, tenant, name=body.name, role=body.role, actor=admin.subject
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(key).model_dump(), token=token)


@router.get("", summary="List API keys")
def list_api_keys(
    tenant: PathTenantDep, session: SessionDep, _admin: PlatformAdminDep
) -> list[ApiKeyOut]:
    """The tenant's keys: names, prefixes, roles; never tokens or hashes."""
    return [ApiKeyOut.model_validate(k) for k in service.list_api_keys(session, tenant)]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke an API key")
def delete_api_key(
    key_id: str, tenant: PathTenantDep, session: SessionDep, admin: PlatformAdminDep
) -> Response:
    """The key stops working at once (id or prefix)."""
    service.delete_api_key(session, tenant, key_id, actor=admin.subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
