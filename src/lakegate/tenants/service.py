"""Tenant lifecycle: create, update, deactivate, reactivate, delete; API keys.

Services own the transaction: each public function commits what it changed and records
an audit event. ``actor`` is the caller's ``Principal.subject``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lakegate.catalog.base import utcnow
from lakegate.catalog.models import API_KEY_ROLES, ENVIRONMENTS, ApiKey, Tenant
from lakegate.catalog.repositories import ApiKeyRepository, AuditRepository, TenantRepository
from lakegate.errors import ConfigError, ConflictError, NotFoundError
from lakegate.lake.layout import tenant_prefix
from lakegate.observability.redact import register_secret
from lakegate.tenants.keys import hash_token, new_api_key_token

_PROD_REFERENCE = re.compile(r"(?i)(^|[/_\-.:@])prod(uction)?([/_\-.:@]|$)")


def lake_prefix(tenant: Tenant) -> str:
    """The tenant's lake prefix, ``<slug>/<environment>``."""
    return tenant_prefix(tenant.slug, tenant.environment)


def secret_namespace(tenant: Tenant) -> str:
    """Prefix of the tenant's secret names in Key Vault: ``<slug>-<environment>``."""
    return f"{tenant.slug}-{tenant.environment}"


def check_no_prod_reference(tenant: Tenant, values: Mapping[str, Any], where: str) -> None:
    """Sandbox tenants cannot name prod resources: reject any string value that names
    a ``prod`` path segment, database or secret namespace (ConfigError naming the field)."""
    if tenant.environment != "sandbox":
        return
    for key, value in values.items():
        if isinstance(value, Mapping):
            check_no_prod_reference(tenant, value, f"{where}.{key}")
        elif isinstance(value, str) and _PROD_REFERENCE.search(value):
            raise ConfigError(f"{where}.{key}: a sandbox tenant cannot name prod resources")


def _validate_slug(slug: str) -> str:
    try:
        tenant_prefix(slug, "prod")
    except ValueError:
        raise ConfigError(
            f"slug: {slug!r} must be 1-63 lowercase letters, digits or '-' starting with a "
            "letter or digit"
        ) from None
    return slug


def _validate_environment(environment: str) -> str:
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"environment: {environment!r} is not prod or sandbox")
    return environment


def get_tenant(session: Session, ref: str) -> Tenant:
    """A tenant by id or slug; NotFoundError (404) otherwise."""
    tenant = TenantRepository(session).get(ref)
    if tenant is None:
        raise NotFoundError(f"tenant {ref!r} not found")
    return tenant


def list_tenants(session: Session, status: str | None = None) -> Sequence[Tenant]:
    """Every tenant (optionally active or deactivated only)."""
    return TenantRepository(session).list(status=status)


def create_tenant(
    session: Session, *, slug: str, name: str, environment: str = "prod", actor: str
) -> Tenant:
    """A new active tenant; ConflictError (409) when the slug is taken."""
    repo = TenantRepository(session)
    _validate_slug(slug)
    _validate_environment(environment)
    if repo.by_slug(slug) is not None:
        raise ConflictError(f"slug: tenant {slug!r} already exists")
    try:
        tenant = repo.add(Tenant(slug=slug, name=name, environment=environment))
    except IntegrityError:  # a concurrent create won the race
        session.rollback()
        raise ConflictError(f"slug: tenant {slug!r} already exists") from None
    AuditRepository(session).record(
        actor=actor,
        action="tenant.created",
        resource_type="tenant",
        resource_id=tenant.id,
        tenant_id=tenant.id,
        details={"slug": slug, "environment": environment},
    )
    session.commit()
    return tenant


def update_tenant(session: Session, ref: str, *, name: str | None, actor: str) -> Tenant:
    """Rename a tenant (slug and environment are fixed: they name storage paths)."""
    tenant = get_tenant(session, ref)
    if name is not None:
        tenant.name = name
    AuditRepository(session).record(
        actor=actor,
        action="tenant.updated",
        resource_type="tenant",
        resource_id=tenant.id,
        tenant_id=tenant.id,
        details={"name": name},
    )
    session.commit()
    return tenant


def set_active(session: Session, ref: str, *, active: bool, actor: str) -> Tenant:
    """Deactivate (keys get 403, schedules stop) or reactivate a tenant; idempotent."""
    tenant = get_tenant(session, ref)
    tenant.status = "active" if active else "deactivated"
    tenant.deactivated_at = None if active else (tenant.deactivated_at or utcnow())
    AuditRepository(session).record(
        actor=actor,
        action="tenant.reactivated" if active else "tenant.deactivated",
        resource_type="tenant",
        resource_id=tenant.id,
        tenant_id=tenant.id,
    )
    session.commit()
    return tenant


def delete_tenant(session: Session, ref: str, *, actor: str) -> None:
    """Delete a deactivated tenant and everything it owns; ConflictError (409) if active."""
    tenant = get_tenant(session, ref)
    if tenant.is_active:
        raise ConflictError(f"tenant {tenant.slug!r} is active: deactivate it before deleting")
    AuditRepository(session).record(
        actor=actor,
        action="tenant.deleted",
        resource_type="tenant",
        resource_id=tenant.id,
        tenant_id=None,
        details={"slug": tenant.slug},
    )
    TenantRepository(session).delete(tenant)
    session.commit()


def create_api_key(
    session: Session, tenant: Tenant, *, name: str, role: str, actor: str
) -> tuple[ApiKey, str]:
    """A new key for ``tenant``; returns ``(row, token)``. The token is never stored."""
    if role not in API_KEY_ROLES:
        raise ConfigError(f"role: {role!r} is not one of {', '.join(API_KEY_ROLES)}")
    prefix, token = new_api_key_token()
    register_secret(token)
    key = ApiKeyRepository(session, tenant.id).add(
        ApiKey(name=name, prefix=prefix, token_hash=hash_token(token), role=role)
    )
    AuditRepository(session).record(
        actor=actor,
        action="api_key.created",
        resource_type="api_key",
        resource_id=key.id,
        tenant_id=tenant.id,
        details={"prefix": prefix, "role": role},
    )
    session.commit()
    return key, token


def list_api_keys(session: Session, tenant: Tenant) -> Sequence[ApiKey]:
    """The tenant's keys (hashes are never shown)."""
    return ApiKeyRepository(session, tenant.id).list()


def delete_api_key(session: Session, tenant: Tenant, key_id: str, *, actor: str) -> None:
    """Revoke a key of ``tenant``; NotFoundError (404) for another tenant's key."""
    repo = ApiKeyRepository(session, tenant.id)
    key = repo.get(key_id)
    if key is None:
        raise NotFoundError(f"API key {key_id!r} not found")
    AuditRepository(session).record(
        actor=actor,
        action="api_key.deleted",
        resource_type="api_key",
        resource_id=key.id,
        tenant_id=tenant.id,
        details={"prefix": key.prefix},
    )
    repo.delete(key)
    session.commit()
