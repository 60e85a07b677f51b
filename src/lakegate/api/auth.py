"""Who is calling: the platform admin token, tenant API keys, or OIDC bearer JWTs.

* ``LAKEGATE_ADMIN_TOKEN`` -> the platform administrator (no tenant, every role).
* ``lg_<prefix>_<secret>`` -> a tenant API key; only ``sha256`` of the token is stored.
* A JWT when ``LAKEGATE_OIDC_ISSUER`` is set -> validated against the issuer's JWKS
  (signature, ``iss``, ``aud``, ``exp``); the tenant comes from the ``lakegate_tenant``
  claim (tenant id or slug) and the role from ``lakegate_role`` or the ``roles`` list.
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx
import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from lakegate.catalog.base import utcnow
from lakegate.catalog.models import ApiKey, Tenant
from lakegate.catalog.repositories import TenantRepository
from lakegate.errors import AuthenticationError, PermissionDeniedError
from lakegate.observability.redact import register_secret
from lakegate.settings import Settings
from lakegate.tenants.keys import hash_token, split_api_key

LAST_USED_RESOLUTION_S = 60
"""``api_keys.last_used_at`` is refreshed at most this often."""
ROLE_RANK = {"viewer": 0, "operator": 1, "admin": 2}
"""Roles in increasing power: each role can do what the lower ones can."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller.

    ``tenant_id`` is None only for the platform administrator, who may act on any tenant.
    """

    subject: str
    """Who, for audit: ``platform-admin``, ``api-key:<prefix>`` or ``oidc:<sub>``."""
    role: str
    tenant_id: str | None
    kind: str
    """``admin`` | ``api_key`` | ``oidc``."""

    @property
    def is_platform_admin(self) -> bool:
        """True for the bearer of LAKEGATE_ADMIN_TOKEN."""
        return self.kind == "admin"

    def has_role(self, role: str) -> bool:
        """True when this principal's role is ``role`` or a more powerful one."""
        return self.is_platform_admin or ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]


def authenticate(token: str | None, session: Session, settings: Settings) -> Principal:
    """Turn a bearer token into a :class:`Principal`; raise AuthenticationError (401) or
    PermissionDeniedError (403: the key's tenant is deactivated)."""
    if not token:
        raise AuthenticationError("missing bearer token (Authorization: Bearer <token>)")
    # Only tokens that authenticate are registered with the redactor: registering every
    # presented string would let any caller grow the redaction set without bound.
    admin = settings.admin_token.get_secret_value() if settings.admin_token else None
    if admin and hmac.compare_digest(token.encode(), admin.encode()):
        register_secret(admin)
        return Principal(subject="platform-admin", role="admin", tenant_id=None, kind="admin")
    prefix = split_api_key(token)
    if prefix is not None:
        return _authenticate_api_key(prefix, token, session)
    if settings.oidc_issuer and token.count(".") == 2:
        return _authenticate_jwt(token, session, settings)
    raise AuthenticationError("invalid bearer token")


def _authenticate_api_key(prefix: str, token: str, session: Session) -> Principal:
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or not hmac.compare_digest(key.token_hash, hash_token(token)):
        raise AuthenticationError("invalid API key")
    register_secret(token)
    tenant = session.get(Tenant, key.tenant_id)
    if tenant is None:
        raise AuthenticationError("invalid API key")
    if not tenant.is_active:
        raise PermissionDeniedError(f"tenant {tenant.slug!r} is deactivated")
    now = utcnow()
    last = key.last_used_at
    if last is None or (now - last).total_seconds() > LAST_USED_RESOLUTION_S:
        # one write per key per minute at most: reads must not contend for the catalog
        key.last_used_at = now
        session.commit()
    return Principal(
        subject=f"api-key:{prefix}", role=key.role, tenant_id=tenant.id, kind="api_key"
    )


class _JwksClients:
    """One PyJWKClient per JWKS URL (it caches keys), discovered from the issuer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, jwt.PyJWKClient] = {}

    def for_issuer(self, issuer: str) -> jwt.PyJWKClient:
        with self._lock:
            client = self._clients.get(issuer)
            if client is None:
                client = jwt.PyJWKClient(_jwks_uri(issuer), cache_keys=True, timeout=5)
                self._clients[issuer] = client
            return client


@lru_cache(maxsize=16)
def _jwks_uri(issuer: str) -> str:
    """The issuer's ``jwks_uri`` from its OpenID discovery document."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=5)
        response.raise_for_status()
        return str(response.json()["jwks_uri"])
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        raise AuthenticationError(f"OIDC discovery failed at {url}: {type(exc).__name__}") from exc


_jwks = _JwksClients()


def _authenticate_jwt(token: str, session: Session, settings: Settings) -> Principal:
    issuer = settings.oidc_issuer or ""
    try:
        signing_key = _jwks.for_issuer(issuer).get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            signing_key.key,
            algorithms=["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"],
            audience=settings.oidc_audience,
            issuer=issuer,
            options={"require": ["exp", "iss", "sub"], "verify_aud": bool(settings.oidc_audience)},
        )
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"invalid token: {exc}") from exc
    tenant_ref = claims.get("lakegate_tenant")
    if not isinstance(tenant_ref, str) or not tenant_ref:
        raise PermissionDeniedError("token has no lakegate_tenant claim")
    tenant = TenantRepository(session).get(tenant_ref)
    if tenant is None:
        raise PermissionDeniedError(f"token names unknown tenant {tenant_ref!r}")
    if not tenant.is_active:
        raise PermissionDeniedError(f"tenant {tenant.slug!r} is deactivated")
    role = _role_from_claims(claims)
    return Principal(subject=f"oidc:{claims['sub']}", role=role, tenant_id=tenant.id, kind="oidc")


def _role_from_claims(claims: dict[str, Any]) -> str:
    candidates: list[str] = []
    if isinstance(claims.get("lakegate_role"), str):
        candidates.append(claims["lakegate_role"])
    roles = claims.get("roles")
    if isinstance(roles, list):
        candidates.extend(str(r).lower().removeprefix("lakegate.") for r in roles)
    known = [r for r in candidates if r in ROLE_RANK]
    if not known:
        raise PermissionDeniedError("token carries no Lakegate role (admin, operator, viewer)")
    return max(known, key=ROLE_RANK.__getitem__)
