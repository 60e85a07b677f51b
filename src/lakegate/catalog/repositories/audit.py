"""Audit events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakegate.catalog.models import AuditEvent


class AuditRepository:
    """Append-only audit trail."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        *,
        actor: str,
        action: str,
        resource_type: str,
        resource_id: str | None,
        tenant_id: str | None,
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Stage one event (``details`` must never hold a secret value)."""
        event = AuditEvent(
            actor=actor,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            tenant_id=tenant_id,
            details=details or {},
        )
        self.session.add(event)
        return event

    def list(self, tenant_id: str | None = None, limit: int = 100) -> Sequence[AuditEvent]:
        """Newest events first, optionally of one tenant."""
        query = select(AuditEvent).order_by(AuditEvent.created_at.desc()).limit(limit)
        if tenant_id is not None:
            query = query.where(AuditEvent.tenant_id == tenant_id)
        return self.session.scalars(query).all()
