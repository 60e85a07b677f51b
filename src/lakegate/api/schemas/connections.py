"""Bodies of /connections. Secrets go in, only their names come out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ConnectionName = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SecretValues: Any = Field(
    default_factory=dict,
    description="Secret values (password, token...): stored encrypted, never returned.",
)


class ConnectionCreate(BaseModel):
    """POST /connections."""

    model_config = ConfigDict(extra="forbid")

    name: str = ConnectionName
    type: str = Field(min_length=1, max_length=32)
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = SecretValues


class ConnectionUpdate(BaseModel):
    """PUT /connections/{name}: replaces type and config; ``secrets`` replaces the stored
    secrets when given, keeps them when omitted."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=32)
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] | None = Field(
        default=None, description="New secret values; omitted = keep the stored ones."
    )


class ConnectionOut(BaseModel):
    """A connection: config and the *names* of its secrets."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    type: str
    config: dict[str, Any]
    secret_names: list[str]
    created_at: datetime
    updated_at: datetime


class ConnectionTestOut(BaseModel):
    """POST /connections/{name}:test."""

    ok: bool
    error: str | None = None
    elapsed_ms: int
