"""Tenants and their API keys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakegate.catalog.models import ApiKey, Tenant


class TenantRepository:
    """Tenant rows."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, ref: str) -> Tenant | None:
        """A tenant by id or slug."""
        tenant = self.session.get(Tenant, ref)
        if tenant is None:
            tenant = self.by_slug(ref.lower())
        return tenant

    def by_slug(self, slug: str) -> Tenant | None:
        """A tenant by slug."""
        return self.session.scalar(select(Tenant).where(Tenant.slug == slug))

    def list(self, *, status: str | None = None) -> Sequence[Tenant]:
        """Every tenant, oldest first, optionally of one status."""
        query = select(Tenant).order_by(Tenant.created_at, Tenant.id)
        if status is not None:
            query = query.where(Tenant.status == status)
        return self.session.scalars(query).all()

    def add(self, tenant: Tenant) -> Tenant:
        """Stage a new tenant."""
        self.session.add(tenant)
        self.session.flush()
        return tenant

    def delete(self, tenant: Tenant) -> None:
        """Delete a tenant and (by cascade) everything it owns."""
        self.session.delete(tenant)
        self.session.flush()


class ApiKeyRepository:
    """API keys of one tenant."""

    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def list(self) -> Sequence[ApiKey]:
        """The tenant's keys, oldest first."""
        return self.session.scalars(
            select(ApiKey).where(ApiKey.tenant_id == self.tenant_id).order_by(ApiKey.created_at)
        ).all()

    def get(self, key_id: str) -> ApiKey | None:
        """One key of this tenant, by id or prefix."""
        return self.session.scalar(
            select(ApiKey).where(
                ApiKey.tenant_id == self.tenant_id,
                (ApiKey.id == key_id) | (ApiKey.prefix == key_id),
            )
        )

    def add(self, key: ApiKey) -> ApiKey:
        """Stage a new key."""
        key.tenant_id = self.tenant_id
        self.session.add(key)
        self.session.flush()
        return key

    def delete(self, key: ApiKey) -> None:
        """Remove a key (it stops working at once)."""
        self.session.delete(key)
        self.session.flush()
