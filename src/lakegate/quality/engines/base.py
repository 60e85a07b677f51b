"""The engine interface: what runs a compiled :class:`~lakegate.quality.compiler.Plan`.

An engine receives sqlglot trees, never SQL strings, and renders them in its own dialect
(``self.dialect``: ``duckdb``, ``postgres``, ``sqlite``, ``spark``...). The plan refers to
the checked dataset as the table ``lg_dataset`` and to other datasets as ``lg_ref_<n>``;
:meth:`Engine.bind` makes a dataset readable under such a name, either by registering a
view (DuckDB, Spark: ``createOrReplaceTempView``) or by remembering the real table to
substitute at render time (SQL pushdown, see :func:`~lakegate.quality.compiler.bind_tables`).

The service drives an engine like this::

    with engine:
        columns = engine.bind("lg_dataset", dataset)        # name -> type, from metadata
        plan = compile_rules(rules, columns, ...)
        stats = engine.metadata_statistics("lg_dataset", columns)  # checks decided by footers
        scan = engine.fetch(plan.scan_for(aliases))[0]       # the ONE aggregate scan (the rest)
        extra = [engine.fetch(q) for q in plan.queries]      # group-by, joins, custom SQL
        samples = engine.fetch_samples(planned.samples, 10)  # failing checks only

``metadata_row_count`` and ``metadata_statistics`` are optional: an engine that cannot
read metadata returns None and every check is measured by the scan. A Spark engine
implements the same four methods (``bind`` registers a temp view over
``spark.read.parquet``; ``fetch`` runs ``spark.sql(self.render(query))`` and collects at
most ``limit`` rows, never a whole dataset) with ``dialect = "spark"``. Engines raise
:class:`~lakegate.errors.DatasetError` for an unreadable dataset and
:class:`EngineQueryError` for a query that fails at run time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, ClassVar

from sqlglot import exp

from lakegate.errors import LakegateError
from lakegate.quality.compiler import render
from lakegate.quality.datasets import Dataset
from lakegate.quality.statistics import DatasetStatistics


class EngineQueryError(LakegateError):
    """A query failed while running (bad custom SQL, a cast that fails on the data)."""

    title = "Quality query failed"


def limited(query: exp.Query, limit: int) -> exp.Query:
    """``query`` with ``LIMIT limit`` (a set operation is wrapped in a subquery first)."""
    if isinstance(query, exp.Select):
        return query.limit(limit)
    return exp.select("*").from_(query.subquery("limited")).limit(limit)


class Engine(ABC):
    """Runs plan queries against bound datasets."""

    name: ClassVar[str]
    """Engine name as given to ``--engine``."""
    dialect: ClassVar[str]
    """sqlglot dialect every query is rendered in."""

    def __init__(self) -> None:
        self.tables: dict[str, Any] = {}
        """Placeholder -> real table (str or sqlglot expression) substituted at render time;
        empty for engines that register views under the placeholder names."""

    @abstractmethod
    def bind(self, placeholder: str, dataset: Dataset) -> Mapping[str, str]:
        """Make ``dataset`` readable as ``placeholder``; return its columns (name -> type)
        from metadata, without scanning the data."""

    def metadata_row_count(self, placeholder: str) -> int | None:
        """Row count from metadata (Parquet footers), or None when not available."""
        return None

    def metadata_statistics(
        self, placeholder: str, columns: Mapping[str, str]
    ) -> DatasetStatistics | None:
        """Row count and complete per-column statistics of ``columns`` (name -> type)
        from metadata alone, or None when the engine cannot read them."""
        return None

    @abstractmethod
    def execute(self, sql: str, limit: int | None) -> list[dict[str, Any]]:
        """Run SQL text already in :attr:`dialect`; at most ``limit`` rows as dicts."""

    def render(self, query: exp.Expr) -> str:
        """SQL text of a plan query in this engine's dialect."""
        return render(query, self.dialect, self.tables)

    def fetch(self, query: exp.Query, limit: int | None = None) -> list[dict[str, Any]]:
        """Run a plan query; ``limit`` is added to the SQL so only that much is read."""
        if limit is not None:
            query = limited(query, limit)
        return self.execute(self.render(query), limit)

    def fetch_samples(self, query: exp.Query, limit: int) -> list[dict[str, Any]]:
        """Run a failed-rows query (LIMIT ``limit``); engines may tune it for early exit."""
        return self.fetch(query, limit)

    def fetch_samples_many(
        self, queries: Sequence[exp.Query], limit: int
    ) -> list[list[dict[str, Any]] | EngineQueryError]:
        """Failed rows of several checks (LIMIT ``limit`` each), in the order given; a
        query that fails gives its error in its place. Engines may run them at once."""
        found: list[list[dict[str, Any]] | EngineQueryError] = []
        for query in queries:
            try:
                found.append(self.fetch_samples(query, limit))
            except EngineQueryError as exc:
                found.append(exc)
        return found

    def close(self) -> None:  # noqa: B027 - optional hook, most engines need it
        """Release connections."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
