"""Alembic environment of the catalog: the target is ``Base.metadata`` with every model."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from lakegate.catalog.base import Base, UTCDateTime
from lakegate.catalog.models import import_all_models
from lakegate.catalog.session import create_catalog_engine

import_all_models()
target_metadata = Base.metadata
config = context.config


def _render_item(type_: str, obj: Any, _autogen_context: AutogenContext) -> str | Literal[False]:
    # UTCDateTime is DateTime(timezone=True) in the database: render it as such so the
    # migration scripts depend on SQLAlchemy only.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or "sqlite:///./lakegate.db"
    engine = create_catalog_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                # SQLite cannot ALTER most things: batch mode recreates tables instead.
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
                render_item=_render_item,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
