"""Bodies of /tenants, quotas, usage, features and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Slug = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
Name = Field(min_length=1, max_length=200)


class TenantCreate(BaseModel):
    """POST /tenants."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Slug
    """Unique, lowercase; names the lake prefix ``<slug>/<environment>``."""
    name: str = Name
    environment: Literal["prod", "sandbox"] = "prod"


class TenantUpdate(BaseModel):
    """PATCH /tenants/{id}: only the display name can change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)


class TenantOut(BaseModel):
    """A tenant."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    slug: str
    name: str
    environment: str
    status: str
    lake_prefix: str
    secret_namespace: str
    created_at: datetime
    updated_at: datetime
    deactivated_at: datetime | None = None


class QuotaIn(BaseModel):
    """PUT /tenants/{id}/quotas: every limit (null or absent = unlimited)."""

    model_config = ConfigDict(extra="forbid")

    max_runs_per_minute: int | None = Field(default=None, ge=0, le=1_000_000)
    max_runs_per_hour: int | None = Field(default=None, ge=0, le=1_000_000)
    max_concurrent_runs: int | None = Field(default=None, ge=0, le=100_000)
    max_dataset_bytes: int | None = Field(default=None, ge=0, le=2**62)
    max_storage_bytes: int | None = Field(default=None, ge=0, le=2**62)


class QuotaOut(QuotaIn):
    """A tenant's quotas."""

    model_config = ConfigDict(from_attributes=True)

    tenant_id: str


class UsageOut(BaseModel):
    """GET /tenants/{id}/usage: current usage beside the limits."""

    tenant_id: str
    runs_last_minute: int
    runs_last_hour: int
    active_runs: int
    storage_bytes: int | None
    quotas: QuotaOut


class FeaturesOut(BaseModel):
    """Every flag's effective value for the tenant, and which ones are overridden."""

    tenant_id: str
    features: dict[str, bool]
    overrides: dict[str, bool]


class FeaturesIn(BaseModel):
    """PUT /tenants/{id}/features: overrides to set, e.g. ``{"features": {"webhooks": false}}``."""

    model_config = ConfigDict(extra="forbid")

    features: dict[str, bool]


class ApiKeyCreate(BaseModel):
    """POST /tenants/{id}/api-keys."""

    model_config = ConfigDict(extra="forbid")

    name: str = Name
    role: Literal["admin", "operator", "viewer"] = "viewer"


class ApiKeyOut(BaseModel):
    """An API key as listed: never the token or its hash."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    role: str
    created_at: datetime
    last_used_at: datetime | None = None


class ApiKeyCreated(ApiKeyOut):
    """The POST response: the only time ``token`` is shown."""

    token: str
