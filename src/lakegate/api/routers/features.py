"""``/tenants/{id}/features``: feature flags per tenant (OpenFeature)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select

from lakegate.api.deps import PathTenantDep, PlatformAdminDep, SessionDep
from lakegate.api.schemas.tenants import FeaturesIn, FeaturesOut
from lakegate.catalog.models import FeatureFlag, Tenant
from lakegate.catalog.repositories import AuditRepository
from lakegate.tenants.features import FeatureFlags, set_flags

router = APIRouter(prefix="/tenants/{tenant_id}", tags=["features"])


def _features_out(request: Request, session: SessionDep, tenant: Tenant) -> FeaturesOut:
    flags: FeatureFlags = request.app.state.features
    overrides = {
        flag.name: flag.enabled
        for flag in session.scalars(select(FeatureFlag).where(FeatureFlag.tenant_id == tenant.id))
    }
    return FeaturesOut(
        tenant_id=tenant.id, features=flags.evaluate_all(tenant), overrides=overrides
    )


@router.get("/features", summary="A tenant's feature flags")
def get_features(request: Request, tenant: PathTenantDep, session: SessionDep) -> FeaturesOut:
    """Every known flag's value for the tenant and the tenant's overrides."""
    return _features_out(request, session, tenant)


@router.put("/features", summary="Set feature flags of a tenant")
def put_features(
    request: Request,
    body: FeaturesIn,
    tenant: PathTenantDep,
    session: SessionDep,
    admin: PlatformAdminDep,
) -> FeaturesOut:
    """Store overrides (422 naming an unknown flag); flags not named keep their value."""
    set_flags(session, tenant, body.features)
    AuditRepository(session).record(
        actor=admin.subject,
        action="features.updated",
        resource_type="feature_flags",
        resource_id=tenant.id,
        tenant_id=tenant.id,
        details=dict(body.features),
    )
    session.commit()
    return _features_out(request, session, tenant)
