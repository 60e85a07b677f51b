"""FastAPI dependencies, as ``Annotated`` aliases: session -> principal -> tenant -> role.

Use them in routers (the job platform's too)::

    @router.post("/jobs", dependencies=[Depends(require_role("admin"))])
    def create_job(body: JobIn, session: SessionDep, tenant: TenantDep) -> JobOut: ...

* :data:`SettingsDep` — the :class:`~lakegate.settings.Settings` the app was built with.
* :data:`CatalogDep` — the app's :class:`~lakegate.catalog.session.Catalog`.
* :data:`SessionDep` — a catalog session for this request; the *service* commits,
  the session is rolled back (if still in a transaction) and closed after the response.
* :data:`PrincipalDep` — the authenticated caller (401 without a valid bearer token).
* :data:`TenantDep` — the tenant the request acts on: the caller's own tenant, or for the
  platform admin the tenant named by the ``X-Lakegate-Tenant`` header (id or slug).
  A deactivated tenant gives 403.
* :func:`require_role` — ``Depends(require_role("operator"))``: 403 below that role.
* :func:`require_feature` — ``Depends(require_feature("webhooks"))``: 403 naming the flag.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from lakegate.api.auth import ROLE_RANK, Principal, authenticate
from lakegate.catalog.models import Tenant
from lakegate.catalog.repositories import TenantRepository
from lakegate.catalog.session import Catalog
from lakegate.errors import ConfigError, NotFoundError, PermissionDeniedError
from lakegate.settings import Settings

TENANT_HEADER = "X-Lakegate-Tenant"
_bearer = HTTPBearer(auto_error=False, description="Admin token, tenant API key or OIDC JWT")


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_catalog(request: Request) -> Catalog:
    """The app's catalog."""
    catalog: Catalog = request.app.state.catalog
    return catalog


SettingsDep = Annotated[Settings, Depends(get_settings)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]


def get_session(catalog: CatalogDep) -> Iterator[Session]:
    """One session per request; whatever the service did not commit is rolled back."""
    session = catalog.session()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def get_principal(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The authenticated caller; 401 when the token is missing or wrong."""
    token = credentials.credentials if credentials is not None else None
    return authenticate(token, session, settings)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def find_tenant(session: Session, ref: str) -> Tenant | None:
    """A tenant by id, or else by slug."""
    return TenantRepository(session).get(ref)


def get_tenant(
    principal: PrincipalDep,
    session: SessionDep,
    tenant_header: Annotated[
        str | None,
        Header(
            alias=TENANT_HEADER,
            description="Platform admin only: the tenant (id or slug) to act on.",
        ),
    ] = None,
) -> Tenant:
    """The tenant this request acts on (see the module docstring)."""
    if principal.tenant_id is not None:
        tenant = session.get(Tenant, principal.tenant_id)
        if tenant is None:  # the tenant was deleted while a key was in flight
            raise PermissionDeniedError("tenant no longer exists")
    else:
        if not tenant_header:
            raise ConfigError(
                f"the platform admin must name a tenant with the {TENANT_HEADER} header"
            )
        tenant = find_tenant(session, tenant_header)
        if tenant is None:
            raise NotFoundError(f"tenant {tenant_header!r} not found")
    if not tenant.is_active:
        raise PermissionDeniedError(f"tenant {tenant.slug!r} is deactivated")
    return tenant


TenantDep = Annotated[Tenant, Depends(get_tenant)]


def require_role(role: str) -> Callable[[Principal], Principal]:
    """A dependency that lets through callers with ``role`` or a stronger one (else 403)."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    def check(principal: PrincipalDep) -> Principal:
        if not principal.has_role(role):
            raise PermissionDeniedError(
                f"this needs role {role!r}; the caller has {principal.role!r}"
            )
        return principal

    check.__name__ = f"require_role_{role}"
    return check


def require_platform_admin(principal: PrincipalDep) -> Principal:
    """Only the bearer of LAKEGATE_ADMIN_TOKEN (403 for everyone else)."""
    if not principal.is_platform_admin:
        raise PermissionDeniedError("this needs the platform administrator")
    return principal


PlatformAdminDep = Annotated[Principal, Depends(require_platform_admin)]


def require_feature(name: str) -> Callable[[Request, Tenant], None]:
    """A dependency that answers 403 naming ``name`` when the flag is off for the tenant."""

    def check(request: Request, tenant: TenantDep) -> None:
        from lakegate.tenants.features import FeatureFlags

        flags: FeatureFlags = request.app.state.features
        if not flags.is_enabled(tenant, name):
            raise PermissionDeniedError(f"feature {name!r} is disabled for tenant {tenant.slug!r}")

    check.__name__ = f"require_feature_{name}"
    return check


def get_path_tenant(tenant_id: str, principal: PrincipalDep, session: SessionDep) -> Tenant:
    """The tenant of a ``/tenants/{tenant_id}/...`` route (id or slug).

    The platform admin reaches every tenant; a tenant's own principals reach only theirs
    (another tenant's id is a 404, as if it did not exist).
    """
    tenant = find_tenant(session, tenant_id)
    if tenant is None or (not principal.is_platform_admin and principal.tenant_id != tenant.id):
        raise NotFoundError(f"tenant {tenant_id!r} not found")
    return tenant


PathTenantDep = Annotated[Tenant, Depends(get_path_tenant)]
