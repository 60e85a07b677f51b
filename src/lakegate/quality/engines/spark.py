"""The Spark engine: the same compiled plan, rendered by sqlglot in Spark SQL, on pyspark.

For datasets beyond one machine. Each bound dataset is a temporary view over
``spark.read.parquet(<path or glob>)`` registered under the plan's placeholder name
(``lg_dataset``, ``lg_ref_<n>``), so the plan's trees render unchanged with
``dialect="spark"``. Only aggregate rows and bounded samples are collected to the driver;
a dataset is never brought into Python.

The SparkSession is shared by the process (Spark allows one active session per JVM):
``master``, driver memory and shuffle partitions come from ``settings.spark`` when the
session is first created. Timestamps are read in UTC (``spark.sql.session.timeZone``) so
freshness is judged the same way as on DuckDB.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lakegate.errors import DatasetError
from lakegate.quality.datasets import Dataset
from lakegate.quality.engines.base import Engine, EngineQueryError
from lakegate.settings import Settings, SparkSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["MAX_RESULT_ROWS", "SparkEngine", "spark_path", "spark_session"]

MAX_RESULT_ROWS = 10_000
"""Upper bound of rows collected by a query run without a limit (plan queries return one)."""

_lock = threading.Lock()


def spark_session(settings: SparkSettings | None = None) -> SparkSession:
    """The process's SparkSession, created on first use from ``settings``."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise DatasetError(
            "engine spark: pyspark is not installed (pip install 'lakegate[spark]')"
        ) from exc
    conf = settings or SparkSettings()
    with _lock:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        builder = (
            SparkSession.builder.master(conf.master)
            .appName("lakegate-quality")
            .config("spark.driver.memory", conf.driver_memory)
            .config("spark.sql.shuffle.partitions", str(conf.shuffle_partitions))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.ansi.enabled", "false")
            # Quality checks never need Hive; keep start-up short.
            .config("spark.sql.catalogImplementation", "in-memory")
        )
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # Java missing, bad master URL...
            raise DatasetError(f"engine spark: cannot start Spark ({_first_line(exc)})") from exc
        session.sparkContext.setLogLevel("ERROR")
        return session


def spark_path(source: str) -> tuple[str, dict[str, str]]:
    """Path and reader options for a dataset glob.

    Hadoop globs know ``*``, ``?``, ``[...]`` and ``{a,b}`` but not the recursive ``**``
    that folder datasets resolve to (``folder/**/*.parquet``): that becomes the folder read
    with ``recursiveFileLookup`` and a file-name filter."""
    head, sep, tail = source.partition("/**/")
    if not sep:
        return source, {}
    if any(char in head for char in "*?[{") or "/" in tail:
        raise DatasetError(
            f"dataset {source}: the spark engine supports '**' only as folder/**/name"
        )
    return head, {"recursiveFileLookup": "true", "pathGlobFilter": tail}


class SparkEngine(Engine):
    """Runs plan queries with Spark SQL; datasets are temp views over Parquet."""

    name = "spark"
    dialect = "spark"

    def __init__(
        self, settings: Settings | None = None, *, spark: SparkSession | None = None
    ) -> None:
        super().__init__()
        self.spark = spark or spark_session(settings.spark if settings is not None else None)
        self._views: list[str] = []
        self._local_files: dict[str, list[str]] = {}

    def bind(self, placeholder: str, dataset: Dataset) -> Mapping[str, str]:
        """Register ``placeholder`` as a temp view over the Parquet files; return the schema."""
        if dataset.kind != "parquet":
            raise DatasetError(
                f"dataset {dataset.spec}: the spark engine reads Parquet; "
                "database tables are checked by pushdown (engine 'sql')"
            )
        if dataset.is_remote and dataset.protocol in ("az", "abfs", "adl"):
            raise DatasetError(
                f"dataset {dataset.spec}: the spark engine reads Azure through abfss:// "
                "URLs configured in Spark itself, not fsspec az:// paths"
            )
        path, options = spark_path(dataset.source)
        try:
            frame = self.spark.read.options(**options).parquet(path)
            frame.createOrReplaceTempView(placeholder)
        except Exception as exc:
            raise DatasetError(
                f"dataset {dataset.spec}: cannot read Parquet ({_first_line(exc)})"
            ) from exc
        self._views.append(placeholder)
        if dataset.protocol == "file":
            self._local_files[placeholder] = frame.inputFiles()
        return {field.name: field.dataType.simpleString() for field in frame.schema.fields}

    def metadata_row_count(self, placeholder: str) -> int | None:
        """Sum of the Parquet footers' row counts for local files (no Spark job at all);
        None for remote datasets, where Spark's own count is as cheap."""
        files = self._local_files.get(placeholder)
        if not files:
            return None
        import pyarrow.parquet as pq

        try:
            return sum(
                int(pq.ParquetFile(path.removeprefix("file://")).metadata.num_rows)
                for path in files
            )
        except (OSError, ValueError):
            return None

    def execute(self, sql: str, limit: int | None) -> list[dict[str, Any]]:
        """Run Spark SQL; collect at most ``limit`` rows (or :data:`MAX_RESULT_ROWS`)."""
        try:
            frame = self.spark.sql(sql)
            rows = frame.take(limit if limit is not None else MAX_RESULT_ROWS)
        except Exception as exc:
            raise EngineQueryError(f"spark: {_first_line(exc)}") from exc
        return [row.asDict(recursive=True) for row in rows]

    def close(self) -> None:
        """Drop this engine's temp views (the shared session stays up for the next run)."""
        for view in self._views:
            # A view that is already gone (session restarted) is fine.
            with contextlib.suppress(Exception):
                self.spark.catalog.dropTempView(view)
        self._views.clear()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    # Spark errors carry a JVM stack trace after the first line; the class tag is enough.
    return text.splitlines()[0][:300] if text else type(exc).__name__
