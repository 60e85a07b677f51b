"""Declarative base of every catalog table, with a naming convention Alembic can diff."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timezone-aware now, the only clock the catalog uses."""
    return datetime.now(UTC)


def new_id() -> str:
    """A new primary key: a UUID4 as 32 hex characters."""
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    """Base class of the catalog's SQLAlchemy models."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    """String UUID primary key."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)


class TimestampMixin:
    """created_at / updated_at, set by the ORM."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
