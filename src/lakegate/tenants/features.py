"""Feature flags per tenant, evaluated through the OpenFeature SDK.

:class:`CatalogFlagProvider` is an OpenFeature provider whose flag values come from the
``feature_flags`` table (a per-tenant override) or else from :data:`DEFAULT_FLAGS`. The
evaluation context's ``targeting_key`` is the tenant id. :class:`FeatureFlags` registers
the provider under a domain of its own and is what the API and services call.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider import AbstractProvider, Metadata
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lakegate.catalog.models import FeatureFlag, Tenant
from lakegate.catalog.repositories import AuditRepository
from lakegate.errors import ConfigError

DEFAULT_FLAGS: dict[str, bool] = {
    "api_runs": True,
    "schedules": True,
    "webhooks": True,
    "quality_checks": True,
    "spark_engine": False,
    "lineage": False,
}
"""Every known flag and its value for a tenant without an override."""

FLAG_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def validate_flag_name(name: str) -> str:
    """Reject anything that is not a known flag name (422 naming it)."""
    if name not in DEFAULT_FLAGS:
        known = ", ".join(sorted(DEFAULT_FLAGS))
        raise ConfigError(f"features.{name}: unknown feature flag (known: {known})")
    return name


class CatalogFlagProvider(AbstractProvider):
    """OpenFeature provider reading per-tenant overrides from the catalog."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        super().__init__()
        self._sessions = sessions

    def get_metadata(self) -> Metadata:
        """Provider name shown by OpenFeature."""
        return Metadata(name="lakegate-catalog")

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        """The tenant's override, else the flag's default, else ``default_value``."""
        tenant_id = evaluation_context.targeting_key if evaluation_context else None
        if tenant_id:
            with self._sessions() as session:
                enabled = session.scalar(
                    select(FeatureFlag.enabled).where(
                        FeatureFlag.tenant_id == tenant_id, FeatureFlag.name == flag_key
                    )
                )
            if enabled is not None:
                return FlagResolutionDetails(
                    value=bool(enabled), reason=Reason.TARGETING_MATCH, variant=str(enabled)
                )
        if flag_key in DEFAULT_FLAGS:
            value = DEFAULT_FLAGS[flag_key]
            return FlagResolutionDetails(value=value, reason=Reason.STATIC, variant=str(value))
        return FlagResolutionDetails(
            value=default_value,
            reason=Reason.ERROR,
            error_code=ErrorCode.FLAG_NOT_FOUND,
            error_message=f"unknown flag {flag_key}",
        )

    def _not_boolean(self, default_value: Any) -> FlagResolutionDetails[Any]:
        return FlagResolutionDetails(
            value=default_value,
            reason=Reason.ERROR,
            error_code=ErrorCode.TYPE_MISMATCH,
            error_message="Lakegate flags are boolean",
        )

    def resolve_string_details(
        self, flag_key: str, default_value: str, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[str]:
        """Lakegate flags are boolean: always the default."""
        return self._not_boolean(default_value)

    def resolve_integer_details(
        self, flag_key: str, default_value: int, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[int]:
        """Lakegate flags are boolean: always the default."""
        return self._not_boolean(default_value)

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        """Lakegate flags are boolean: always the default."""
        return self._not_boolean(default_value)

    def resolve_object_details(  # type: ignore[override]
        self,
        flag_key: str,
        default_value: Sequence[Any] | Mapping[str, Any],
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Sequence[Any] | Mapping[str, Any]]:
        """Lakegate flags are boolean: always the default."""
        return self._not_boolean(default_value)


class FeatureFlags:
    """Flag evaluation for one catalog (one OpenFeature domain per catalog URL)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        bind = sessions.kw.get("bind")
        url = bind.url.render_as_string(hide_password=True) if bind is not None else "default"
        self.domain = "lakegate-" + hashlib.sha256(url.encode()).hexdigest()[:12]
        api.set_provider(CatalogFlagProvider(sessions), domain=self.domain)
        self._client = api.get_client(self.domain)

    def is_enabled(self, tenant: Tenant, name: str) -> bool:
        """The flag's value for ``tenant`` (unknown flags are off)."""
        context = EvaluationContext(targeting_key=tenant.id, attributes={"slug": tenant.slug})
        return bool(self._client.get_boolean_value(name, DEFAULT_FLAGS.get(name, False), context))

    def evaluate_all(self, tenant: Tenant) -> dict[str, bool]:
        """Every known flag's value for ``tenant``."""
        return {name: self.is_enabled(tenant, name) for name in sorted(DEFAULT_FLAGS)}


def set_flags(session: Session, tenant: Tenant, values: Mapping[str, bool]) -> None:
    """Store overrides for ``tenant`` (the caller commits)."""
    for name, enabled in values.items():
        validate_flag_name(name)
        flag = session.scalar(
            select(FeatureFlag).where(FeatureFlag.tenant_id == tenant.id, FeatureFlag.name == name)
        )
        if flag is None:
            session.add(FeatureFlag(tenant_id=tenant.id, name=name, enabled=bool(enabled)))
        else:
            flag.enabled = bool(enabled)
    session.flush()


def update_flags(
    session: Session, tenant: Tenant, values: Mapping[str, bool], *, actor: str
) -> None:
    """Store overrides for ``tenant``, audit the change and commit."""
    set_flags(session, tenant, values)
    AuditRepository(session).record(
        actor=actor,
        action="features.updated",
        resource_type="feature_flags",
        resource_id=tenant.id,
        tenant_id=tenant.id,
        details=dict(values),
    )
    session.commit()


def overrides(session: Session, tenant: Tenant) -> dict[str, bool]:
    """The tenant's stored overrides, by flag name."""
    rows = session.scalars(select(FeatureFlag).where(FeatureFlag.tenant_id == tenant.id))
    return {flag.name: flag.enabled for flag in rows}
