"""SQL sources: connection URLs per source type, default backends, the dlt ``sql_table`` resource.

Extraction is dlt's ``sql_table`` with one of its table backends; this module only
decides the URL, the backend and the hints (columns, incremental, primary key) from an
:class:`~lakegate.ingest.models.IngestJob`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from lakegate.errors import ConfigError, SourceError
from lakegate.ingest.models import IngestJob, LoadType, SourceType
from lakegate.secrets.credentials import SourceCredentials
from lakegate.secrets.keyvault import missing_source_secret

if TYPE_CHECKING:
    from dlt.extract.resource import DltResource

DRIVERS: dict[SourceType, str] = {
    SourceType.postgresql: "postgresql+psycopg",
    SourceType.mysql: "mysql+pymysql",
    SourceType.mssql: "mssql+pymssql",
    SourceType.oracle: "oracle+oracledb",
    SourceType.sqlite: "sqlite",
}
"""SQLAlchemy dialect+driver per source type (oracledb runs in thin mode: no client libs)."""

DEFAULT_PORTS: dict[SourceType, int] = {
    SourceType.postgresql: 5432,
    SourceType.mysql: 3306,
    SourceType.mssql: 1433,
    SourceType.oracle: 1521,
}

DEFAULT_BACKENDS: dict[SourceType, str] = {
    SourceType.postgresql: "connectorx",
    SourceType.mysql: "connectorx",
    SourceType.sqlite: "pyarrow",
    SourceType.mssql: "pyarrow",
    SourceType.oracle: "pyarrow",
}
"""Fastest backend measured per source type (figures in docs/sources.md).

connectorx for PostgreSQL and MySQL/MariaDB (Rust, binary protocol, Arrow out);
pyarrow (SQLAlchemy cursor -> Arrow) where connectorx needs native client libraries
(Oracle), was not measured against a real server (SQL Server), or guesses types from
values (SQLite: it fails on a column whose first value is NULL).
"""

CONNECTORX_TYPES = frozenset(
    {SourceType.postgresql, SourceType.mysql, SourceType.sqlite, SourceType.mssql}
)
"""Source types connectorx can read without native client libraries."""

DEFAULT_CHUNK_SIZE = 100_000
"""Rows per Arrow batch: big enough for fast Parquet writes, small enough for flat memory."""

_LAG = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[smhdw]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def build_url(source_type: SourceType, creds: SourceCredentials) -> sa.URL:
    """SQLAlchemy URL of a source from its credentials (passwords are never escaped by hand).

    Oracle takes ``sid`` (``host:port/SID``) or ``service_name``
    (``?service_name=...``), not both; SQLite takes ``database`` as a file path.
    """
    where = f"sources.{creds.source_name}"
    if source_type is SourceType.rest_api:
        raise ConfigError(f"{where}: rest_api sources have no database URL")
    drivername = DRIVERS[source_type]
    if source_type is SourceType.sqlite:
        if not creds.database:
            raise missing_source_secret(creds.source_name, "database")
        path = Path(creds.database).expanduser()
        return sa.URL.create(drivername, database=str(path.resolve()))
    if not creds.host:
        raise missing_source_secret(creds.source_name, "host")
    query: dict[str, str] = {}
    database = creds.database
    if source_type is SourceType.oracle:
        if creds.sid and creds.service_name:
            raise ConfigError(f"{where}: give either sid or service_name for Oracle, not both")
        if creds.sid:
            database = creds.sid
        elif creds.service_name:
            database = None
            query["service_name"] = creds.service_name
        else:
            raise ConfigError(f"{where}: Oracle needs sid or service_name")
    elif not database:
        raise missing_source_secret(creds.source_name, "database")
    return sa.URL.create(
        drivername,
        username=creds.username,
        password=creds.password,
        host=creds.host,
        port=creds.port or DEFAULT_PORTS[source_type],
        database=database,
        query=query,
    )


def default_backend(source_type: SourceType) -> str:
    """The backend used when a job names none."""
    return DEFAULT_BACKENDS[source_type]


def choose_backend(job: IngestJob) -> str:
    """The job's backend, or the default of its source type; rejects impossible pairs."""
    backend = job.backend or default_backend(job.source_type)
    if backend == "connectorx" and job.source_type not in CONNECTORX_TYPES:
        raise ConfigError(
            f"job {job.job_id}: backend connectorx cannot read {job.source_type.value} "
            "without native client libraries; use pyarrow"
        )
    if backend == "adbc" and job.source_type is not SourceType.postgresql:
        raise ConfigError(f"job {job.job_id}: backend adbc is only wired for postgresql")
    return backend


def parse_lag(lag: str | None, cursor_kind: str) -> float | None:
    """dlt's ``lag`` value for a job's ``lag`` text.

    ``2h``, ``30m``, ``1d``, ``90`` (seconds) for timestamp cursors; dlt counts days for
    date cursors (``1d`` -> 1) and the cursor's own unit for numbers (``500`` -> 500).
    """
    if lag is None or not str(lag).strip():
        return None
    match = _LAG.match(str(lag))
    if not match:
        raise ConfigError(f"lag {lag!r} is not a duration like 30m, 2h, 1d or a number")
    number, unit = float(match["n"]), match["unit"].lower()
    if cursor_kind == "number":
        if unit:
            raise ConfigError(f"lag {lag!r}: a numeric watermark takes a plain number")
        return number
    seconds = number * _UNIT_SECONDS[unit]
    if cursor_kind == "date":
        return seconds / 86400
    return seconds


def _cursor_kind(data_type: str | None) -> str:
    if data_type in {"timestamp", "time"}:
        return "timestamp"
    if data_type == "date":
        return "date"
    return "number" if data_type in {"bigint", "double", "decimal"} else "timestamp"


@dataclass
class SqlTable:
    """A configured ``sql_table`` resource and what was learnt while reflecting it."""

    resource: DltResource
    engine: sa.Engine
    backend: str
    source_columns: list[str]
    """Column names at the source now (after the include list), in table order."""


def make_engine(job: IngestJob, creds: SourceCredentials) -> sa.Engine:
    """A SQLAlchemy engine for the job's source (SQLite files must already exist)."""
    url = build_url(job.source_type, creds)
    if job.source_type is SourceType.sqlite and not Path(str(url.database)).is_file():
        raise SourceError(f"SQLite database file {url.database} does not exist")
    return sa.create_engine(url, pool_pre_ping=True)


def sql_table_resource(job: IngestJob, creds: SourceCredentials) -> SqlTable:
    """Reflect the job's table and return the dlt resource that extracts it.

    Connects to the source (reflection), so an unreachable server or unknown table
    raises here, before anything is extracted.
    """
    import dlt
    from dlt.sources.sql_database import sql_table

    backend = choose_backend(job)
    engine = make_engine(job, creds)
    chunk_size = job.chunk_size or DEFAULT_CHUNK_SIZE
    backend_kwargs: dict[str, Any] = {}
    table_loader_class: Any = None
    if backend == "connectorx":
        # Stream Arrow batches instead of materialising the whole table: flat memory.
        backend_kwargs = {"return_type": "arrow_stream", "batch_size": chunk_size}
        if job.partitions and job.partitions > 1:
            if len(job.primary_key) != 1:
                raise ConfigError(
                    f"job {job.job_id}: partitions need a single-column numeric primary_key"
                )
            backend_kwargs.update(partition_on=job.primary_key[0], partition_num=job.partitions)
    elif backend == "adbc":
        table_loader_class = adbc_loader_class()
        backend = "pyarrow"  # the loader class decides how rows are read; Arrow either way
    resource = sql_table(
        credentials=engine,
        table=job.table_name,
        schema=job.schema_name,
        chunk_size=chunk_size,
        backend=backend,  # type: ignore[arg-type]
        backend_kwargs=backend_kwargs,
        included_columns=job.columns,
        reflection_level="full_with_precision",
        table_loader_class=table_loader_class,
    )
    columns = resource.columns
    reflected = list(columns) if isinstance(columns, dict) else []
    if job.columns:
        missing = [c for c in job.columns if c not in reflected]
        if missing:
            raise SourceError(
                f"column(s) {', '.join(missing)} not found in table {_qualified(job)}"
            )
    if job.load_type is LoadType.INCREMENTAL:
        if not job.watermark_column:
            raise ConfigError(f"job {job.job_id}: INCREMENTAL needs a watermark_column")
        if job.columns and job.watermark_column not in job.columns:
            raise ConfigError(
                f"job {job.job_id}: watermark_column {job.watermark_column} "
                "must be one of the included columns"
            )
        if job.watermark_column not in reflected:
            raise SourceError(
                f"watermark column {job.watermark_column} not found in table {_qualified(job)}"
            )
        hint = columns[job.watermark_column] if isinstance(columns, dict) else {}
        lag = parse_lag(job.lag, _cursor_kind(hint.get("data_type")))
        resource.apply_hints(
            incremental=dlt.sources.incremental(
                job.watermark_column, lag=lag, on_cursor_value_missing="include"
            )
        )
    return SqlTable(
        resource=resource,
        engine=engine,
        backend=job.backend or default_backend(job.source_type),
        source_columns=reflected,
    )


def adbc_loader_class() -> type[Any]:
    """A dlt table loader reading through ADBC's PostgreSQL driver (libpq COPY, Arrow out).

    Plugged in with ``sql_table(table_loader_class=...)``, dlt's extension point for
    backends: dlt still builds the query (incremental filters, include list).
    """
    from dlt.sources.sql_database.helpers import BaseTableLoader

    class AdbcTableLoader(BaseTableLoader):  # type: ignore[misc]
        def load_rows(self, backend_kwargs: dict[str, Any] | None = None) -> Any:
            import adbc_driver_postgresql.dbapi as adbc
            import pyarrow as pa

            query = self.compile_query(self.make_query())
            with adbc.connect(self.get_connection_url()) as conn, conn.cursor() as cursor:
                cursor.execute(query)
                pending: list[Any] = []
                rows = 0
                for batch in cursor.fetch_record_batch():
                    pending.append(batch)
                    rows += batch.num_rows
                    if rows >= self.chunk_size:
                        yield _plain_arrow(pa.Table.from_batches(pending), self.columns)
                        pending, rows = [], 0
                if pending:
                    yield _plain_arrow(pa.Table.from_batches(pending), self.columns)

    return AdbcTableLoader


def _plain_arrow(table: Any, hints: Any) -> Any:
    """Replace ADBC's opaque extension columns (PostgreSQL numeric...) with plain types.

    numeric arrives as an opaque string extension; it is cast to the decimal precision
    and scale dlt reflected (decimal128(38, 9) when the column has none).
    """
    import pyarrow as pa

    for index, column_field in enumerate(table.schema):
        if not isinstance(column_field.type, pa.BaseExtensionType):
            continue
        column = table.column(index)
        storage = pa.chunked_array(
            [chunk.storage for chunk in column.chunks], type=column_field.type.storage_type
        )
        hint = (hints or {}).get(column_field.name, {})
        if hint.get("data_type") == "decimal":
            precision, scale = hint.get("precision") or 38, hint.get("scale")
            storage = storage.cast(pa.decimal128(precision, 9 if scale is None else scale))
        table = table.set_column(index, column_field.name, storage)
    return table


def _qualified(job: IngestJob) -> str:
    return f"{job.schema_name}.{job.table_name}" if job.schema_name else job.table_name
