"""Tenant connections: a named source (database, REST API) with encrypted secrets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lakegate.catalog.base import Base, IdMixin, TimestampMixin


class Connection(IdMixin, TimestampMixin, Base):
    """A source a tenant's jobs read from.

    ``config`` is plain (host, database, ...). ``secret_names`` lists the secret fields so
    reads can show names without decrypting. The values are either ``secrets_ciphertext``
    (one Fernet token of the JSON object) or Key Vault secrets (``secrets_store``).
    """

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_connections_tenant_name"),)

    tenant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secret_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    secrets_ciphertext: Mapped[str | None] = mapped_column(Text)
    secrets_store: Mapped[str] = mapped_column(String(16), default="catalog")
    """Where the values are: ``catalog`` (Fernet, above) or ``keyvault``."""
