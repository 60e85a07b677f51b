"""Connections of one tenant."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakegate.catalog.models import Connection


class ConnectionRepository:
    """Connection rows of one tenant."""

    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def list(self) -> Sequence[Connection]:
        """The tenant's connections by name."""
        return self.session.scalars(
            select(Connection)
            .where(Connection.tenant_id == self.tenant_id)
            .order_by(Connection.name)
        ).all()

    def get(self, name: str) -> Connection | None:
        """One connection of this tenant by name."""
        return self.session.scalar(
            select(Connection).where(
                Connection.tenant_id == self.tenant_id, Connection.name == name
            )
        )

    def add(self, connection: Connection) -> Connection:
        """Stage a new connection."""
        connection.tenant_id = self.tenant_id
        self.session.add(connection)
        self.session.flush()
        return connection

    def delete(self, connection: Connection) -> None:
        """Remove a connection."""
        self.session.delete(connection)
        self.session.flush()
