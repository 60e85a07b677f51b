"""SQL pushdown: the plan runs inside the database (PostgreSQL, SQLite) via SQLAlchemy.

Queries are rendered by sqlglot in the database's dialect with the placeholder tables
replaced by the real (quoted) tables; every query runs in a transaction that is rolled
back, so a check can never change data. Nothing but aggregates and LIMITed samples
leaves the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlglot import exp

from lakegate.errors import DatasetError
from lakegate.observability.redact import redact
from lakegate.quality.datasets import Dataset
from lakegate.quality.engines.base import Engine, EngineQueryError

DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite", "mysql": "mysql", "mariadb": "mysql"}
"""SQLAlchemy backend -> sqlglot dialect."""


def _sqlite_regexp(pattern: str | None, value: Any) -> bool | None:
    if pattern is None or value is None:
        return None
    return re.search(pattern, str(value)) is not None


def _split_table(table: str) -> tuple[str | None, str]:
    schema, _, name = table.rpartition(".")
    return (schema or None), name


class SqlEngine(Engine):
    """Pushdown to the database of a ``postgresql:``/``sqlite:`` dataset."""

    name = "sql"
    dialect = "postgres"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self._connection: sa.Connection | None = None
        backend = self.engine.url.get_backend_name()
        if backend not in DIALECTS:
            raise DatasetError(f"pushdown to {backend} is not supported")
        self.dialect = DIALECTS[backend]  # type: ignore[misc]
        if backend == "sqlite":
            # SQLite has REGEXP syntax but no implementation; sqlglot renders `x REGEXP p`.
            @sa.event.listens_for(self.engine, "connect")
            def _add_regexp(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.create_function("regexp", 2, _sqlite_regexp)

    def bind(self, placeholder: str, dataset: Dataset) -> Mapping[str, str]:
        """Substitute the real table for ``placeholder``; columns from the catalog."""
        if dataset.kind != "sql":
            raise DatasetError(
                f"dataset {dataset.spec}: pushdown checks need tables of the same database"
            )
        schema, name = _split_table(dataset.source)
        try:
            columns = sa.inspect(self.engine).get_columns(name, schema=schema)
        except sa.exc.NoSuchTableError as exc:
            raise DatasetError(
                f"dataset {dataset.spec}: table {dataset.source!r} not found"
            ) from exc
        except sa.exc.SQLAlchemyError as exc:
            raise DatasetError(
                f"dataset {dataset.spec}: cannot connect ({redact(_first_line(exc))})"
            ) from exc
        if not columns:
            raise DatasetError(f"dataset {dataset.spec}: table {dataset.source!r} not found")
        self.tables[placeholder] = exp.table_(name, db=schema, quoted=True)
        return {str(c["name"]): str(c["type"]) for c in columns}

    def execute(self, sql: str, limit: int | None) -> list[dict[str, Any]]:
        """Run ``sql`` in a rolled-back transaction; rows as dicts."""
        try:
            if self._connection is None:  # one connection for the whole run
                self._connection = self.engine.connect()
            connection = self._connection
            try:
                # exec_driver_sql: the text is final SQL, no bind-parameter parsing of ':'.
                result = connection.exec_driver_sql(self._escape(sql))
                names = list(result.keys())
                rows = result.fetchmany(limit) if limit is not None else result.fetchall()
            finally:
                connection.rollback()
        except sa.exc.SQLAlchemyError as exc:
            raise EngineQueryError(f"{self.dialect}: {redact(_first_line(exc))}") from exc
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _escape(self, sql: str) -> str:
        # Drivers with format/pyformat parameters (psycopg, pymysql) read '%' as a marker.
        if self.engine.dialect.paramstyle in ("format", "pyformat"):
            return sql.replace("%", "%%")
        return sql

    def close(self) -> None:
        """Close the connection and dispose of the engine."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.engine.dispose()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
