"""Tenants and what hangs off them: API keys, quotas, feature flags."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lakegate.catalog.base import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow

TenantEnvironment = Literal["prod", "sandbox"]
TenantStatus = Literal["active", "deactivated"]
Role = Literal["admin", "operator", "viewer"]
ENVIRONMENTS: tuple[str, ...] = ("prod", "sandbox")
API_KEY_ROLES: tuple[str, ...] = ("admin", "operator", "viewer")


class Tenant(IdMixin, TimestampMixin, Base):
    """A customer of the platform. ``slug`` names its lake prefix and secret namespace."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("environment IN ('prod', 'sandbox')", name="environment"),
        CheckConstraint("status IN ('active', 'deactivated')", name="status"),
    )

    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    environment: Mapped[str] = mapped_column(String(16), default="prod")
    status: Mapped[str] = mapped_column(String(16), default="active")
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    api_keys: Mapped[list[ApiKey]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", passive_deletes=True
    )
    quota: Mapped[Quota | None] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", passive_deletes=True
    )
    feature_flags: Mapped[list[FeatureFlag]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_active(self) -> bool:
        """False once deactivated: its keys get 403 and its schedules stop."""
        return self.status == "active"


class ApiKey(IdMixin, Base):
    """A tenant API key. Only ``sha256(token)`` is stored; the token is shown once.

    Tokens look like ``lg_<prefix>_<secret>``; ``prefix`` finds the row, the hash proves it.
    """

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint("role IN ('admin', 'operator', 'viewer')", name="role"),)

    tenant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    tenant: Mapped[Tenant] = relationship(back_populates="api_keys")


class Quota(TimestampMixin, Base):
    """Limits of one tenant; ``None`` means unlimited."""

    __tablename__ = "quotas"

    tenant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    max_runs_per_minute: Mapped[int | None] = mapped_column(Integer)
    max_runs_per_hour: Mapped[int | None] = mapped_column(Integer)
    max_concurrent_runs: Mapped[int | None] = mapped_column(Integer)
    max_dataset_bytes: Mapped[int | None] = mapped_column(BigInteger)
    max_storage_bytes: Mapped[int | None] = mapped_column(BigInteger)

    tenant: Mapped[Tenant] = relationship(back_populates="quota")


class FeatureFlag(IdMixin, TimestampMixin, Base):
    """A per-tenant override of a feature flag's default."""

    __tablename__ = "feature_flags"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_feature_flags_tenant_name"),)

    tenant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean)

    tenant: Mapped[Tenant] = relationship(back_populates="feature_flags")
