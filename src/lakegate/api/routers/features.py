"""``/tenants/{id}/features``: feature flags per tenant (OpenFeature)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from lakegate.api.deps import PathTenantDep, PlatformAdminDep, SessionDep
from lakegate.api.schemas.tenants import FeaturesIn, FeaturesOut
from lakegate.catalog.models import Tenant
from lakegate.tenants.features import FeatureFlags, overrides, update_flags

router = APIRouter(prefix="/tenants/{tenant_id}", tags=["features"])


def _features_out(request: Request, session: Session, tenant: Tenant) -> FeaturesOut:
    flags: FeatureFlags = request.app.state.features
    return FeaturesOut(
        tenant_id=tenant.id,
        features=flags.evaluate_all(tenant),
        overrides=overrides(session, tenant),
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
    update_flags(session, tenant, body.features, actor=admin.subject)
    return _features_out(request, session, tenant)
