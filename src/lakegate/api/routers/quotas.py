"""``/tenants/{id}/quotas`` and ``/tenants/{id}/usage``."""

from __future__ import annotations

from fastapi import APIRouter

from lakegate.api.deps import PathTenantDep, PlatformAdminDep, SessionDep, SettingsDep
from lakegate.api.schemas.tenants import QuotaIn, QuotaOut, UsageOut
from lakegate.catalog.models import Quota
from lakegate.tenants import quotas

router = APIRouter(prefix="/tenants/{tenant_id}", tags=["quotas"])


def quota_out(quota: Quota) -> QuotaOut:
    """API view of a quota row."""
    return QuotaOut(
        tenant_id=quota.tenant_id, **{f: getattr(quota, f) for f in quotas.QUOTA_FIELDS}
    )


@router.get("/quotas", summary="Get a tenant's quotas")
def get_quotas(tenant: PathTenantDep, session: SessionDep) -> QuotaOut:
    """Every limit; null means unlimited."""
    return quota_out(quotas.get_quota(session, tenant))


@router.put("/quotas", summary="Set a tenant's quotas")
def put_quotas(
    body: QuotaIn, tenant: PathTenantDep, session: SessionDep, admin: PlatformAdminDep
) -> QuotaOut:
    """Replace every limit (platform admin)."""
    return quota_out(quotas.update_quota(session, tenant, body.model_dump(), actor=admin.subject))


@router.get("/usage", summary="A tenant's current usage")
def get_usage(tenant: PathTenantDep, session: SessionDep, settings: SettingsDep) -> UsageOut:
    """Runs in the last minute and hour, active runs, bytes under the lake prefix."""
    used = quotas.usage(tenant, session, settings)
    return UsageOut(
        tenant_id=tenant.id,
        runs_last_minute=used.runs_last_minute,
        runs_last_hour=used.runs_last_hour,
        active_runs=used.active_runs,
        storage_bytes=used.storage_bytes,
        quotas=quota_out(quotas.get_quota(session, tenant)),
    )
