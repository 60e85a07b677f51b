"""DATASET resolution: what ``lakegate check ... DATASET`` points at.

Accepted forms, tried in this order:

* ``postgresql://user@host/db#schema.table`` or ``sqlite:///path.db#table``: a table of a
  database; checks are pushed down to it (``#`` separates the URL from the table).
* ``az://container/path`` (also ``abfs://``, ``abfss://``): Parquet on Azure, read through
  fsspec (a folder means every ``*.parquet`` below it).
* a lake table name (``orders``): ``<lake>/orders/**/*.parquet`` when it exists in the lake.
* a local Parquet file, a glob (``data/*.parquet``) or a folder (every ``*.parquet`` below).

Nothing is read here beyond listing files; a path that matches no Parquet file is a
:class:`~lakegate.errors.DatasetError` (exit 2).
"""

from __future__ import annotations

import glob as globlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lakegate.errors import DatasetError
from lakegate.lake.storage import AZURE_PROTOCOLS, Lake
from lakegate.observability.redact import redact, register_secret

SQL_SCHEMES = ("postgresql", "postgres", "sqlite", "mysql", "mariadb")
_GLOB_CHARS = set("*?[")


@dataclass
class Dataset:
    """A resolved dataset."""

    spec: str
    """As the user wrote it (credentials redacted)."""
    name: str
    """Short name for results and the history store (table name, file stem...)."""
    kind: Literal["parquet", "sql"]
    source: str = ""
    """Parquet: a file, glob or URL glob readable by DuckDB. SQL: the table (``schema.t``)."""
    url: str | None = None
    """SQL: the SQLAlchemy URL (with credentials; never printed)."""
    folder: str | None = None
    """Parquet: the folder whose Parquet files (recursively) make the dataset, when the
    dataset is a folder or a lake table (engines without ``**`` globs, like Spark, can
    read it with recursive file lookup); None for a file or an explicit glob."""
    protocol: str = "file"
    storage_options: dict[str, Any] = field(default_factory=dict, repr=False)
    lake: Lake | None = field(default=None, repr=False)

    @property
    def is_remote(self) -> bool:
        """True for Parquet read through fsspec (Azure)."""
        return self.kind == "parquet" and self.protocol != "file"


def is_sql_url(spec: str) -> bool:
    """True when ``spec`` is a database URL (``scheme[+driver]:...``)."""
    scheme = spec.split(":", 1)[0].split("+", 1)[0].lower()
    return ":" in spec and scheme in SQL_SCHEMES


def sqlalchemy_url(url: str) -> str:
    """The URL with a driver SQLAlchemy can load (psycopg 3 for PostgreSQL, pymysql)."""
    scheme, sep, rest = url.partition("://")
    base = scheme.split("+", 1)[0].lower()
    if "+" in scheme:
        return url
    if base in ("postgresql", "postgres"):
        return f"postgresql+psycopg{sep}{rest}"
    if base in ("mysql", "mariadb"):
        return f"mysql+pymysql{sep}{rest}"
    return url


def _sql_dataset(spec: str) -> Dataset:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url, _, table = spec.partition("#")
    if not table:
        raise DatasetError(
            f"dataset {redact(spec)}: name the table after '#' (e.g. postgresql://host/db#orders)"
        )
    try:
        parsed = make_url(sqlalchemy_url(url))
    except ArgumentError as exc:
        raise DatasetError(f"dataset {redact(spec)}: not a database URL ({exc})") from exc
    register_secret(parsed.password if isinstance(parsed.password, str) else None)
    return Dataset(
        spec=redact(spec),
        name=table.rsplit(".", 1)[-1],
        kind="sql",
        source=table,
        url=sqlalchemy_url(url),
        protocol=parsed.get_backend_name(),
    )


def _folder_of(path: str) -> str | None:
    """The folder of a dataset path, when it names a folder (not a file or a glob)."""
    if path.endswith(".parquet") or any(c in path for c in _GLOB_CHARS):
        return None
    return path.rstrip("/")


def _parquet_glob(path: str) -> str:
    """A folder becomes every Parquet file below it; files and globs stay."""
    if path.endswith(".parquet") or any(c in path for c in _GLOB_CHARS):
        return path
    return path.rstrip("/") + "/**/*.parquet"


def _remote_dataset(spec: str, lake: Lake | None, settings: Any) -> Dataset:
    protocol = spec.split("://", 1)[0].lower()
    if lake is not None and lake.protocol == protocol:
        remote = lake
    else:
        container = spec.split("://", 1)[1].split("/", 1)[0]
        remote = Lake.from_url(f"{protocol}://{container}", settings)
    pattern = _parquet_glob(spec)
    try:
        found = remote.fs.glob(pattern.split("://", 1)[1])
    except Exception as exc:
        raise DatasetError(f"dataset {spec}: cannot list files ({type(exc).__name__})") from exc
    if not found:
        raise DatasetError(f"dataset {spec}: no Parquet files found")
    return Dataset(
        spec=spec,
        name=_name_of(spec),
        kind="parquet",
        source=pattern,
        folder=_folder_of(spec),
        protocol=protocol,
        storage_options=remote.storage_options,
        lake=remote,
    )


def _name_of(path: str) -> str:
    parts = [p for p in path.rstrip("/").split("/") if p and not any(c in p for c in _GLOB_CHARS)]
    last = parts[-1] if parts else "dataset"
    return last.removesuffix(".parquet")


def _local_matches(pattern: str) -> bool:
    if any(c in pattern for c in _GLOB_CHARS):
        return any(True for _ in globlib.iglob(pattern, recursive=True))  # noqa: PTH207
    return Path(pattern).is_file()


def resolve_dataset(spec: str, *, lake: Lake | None = None, settings: Any = None) -> Dataset:
    """Resolve a DATASET argument (see the module docstring); DatasetError when unreadable."""
    spec = spec.strip()
    if not spec:
        raise DatasetError("dataset: empty name")
    if is_sql_url(spec):
        return _sql_dataset(spec)
    if "://" in spec and spec.split("://", 1)[0].lower() in AZURE_PROTOCOLS:
        return _remote_dataset(spec, lake, settings)
    if "://" in spec and not spec.startswith("file://"):
        raise DatasetError(f"dataset {redact(spec)}: unsupported scheme")
    plain = spec.removeprefix("file://")
    is_name = "/" not in plain and not plain.endswith(".parquet") and not (set(plain) & _GLOB_CHARS)
    if is_name and lake is not None and lake.exists(plain):
        if lake.is_local:
            pattern = _parquet_glob(lake.path(plain))
            if not _local_matches(pattern):
                raise DatasetError(f"dataset {spec}: lake table has no Parquet files")
            return Dataset(
                spec=spec,
                name=plain,
                kind="parquet",
                source=pattern,
                folder=lake.path(plain),
                lake=lake,
            )
        return _remote_dataset(lake.url_of(plain), lake, settings)
    path = str(Path(plain).expanduser().resolve()) if not set(plain) & _GLOB_CHARS else plain
    pattern = _parquet_glob(path)
    if Path(path).is_dir() or _local_matches(pattern):
        if not _local_matches(pattern):
            raise DatasetError(f"dataset {spec}: folder has no Parquet files")
        return Dataset(
            spec=spec,
            name=_name_of(path),
            kind="parquet",
            source=pattern,
            folder=_folder_of(path),
            lake=lake,
        )
    where = f" or lake table under {lake.url}" if lake is not None and is_name else ""
    raise DatasetError(f"dataset {spec}: no such Parquet file, glob, folder{where}")


def resolve_related(spec: str, main: Dataset, *, lake: Lake | None, settings: Any) -> Dataset:
    """Resolve another dataset named by a check (referential, reconcile).

    For a database dataset, a bare table name means a table of the same database.
    """
    if main.kind == "sql" and not is_sql_url(spec) and "/" not in spec:
        return Dataset(
            spec=spec,
            name=spec.rsplit(".", 1)[-1],
            kind="sql",
            source=spec,
            url=main.url,
            protocol=main.protocol,
        )
    return resolve_dataset(spec, lake=lake, settings=settings)
