"""One ingestion job through dlt into the lake.

One dlt pipeline per job (``<source_name>__<job_id>``), its working folder under
``settings.state_dir/<lake key>/``. The lake is the source of truth: a load counts when
dlt has committed it there (a ``_dlt_loads`` marker or a state file for its load id).
Before every run, anything not committed is discarded (local pending packages, files
of an interrupted load) and the state is restored from the lake when the local folder
is missing, so a fresh container, a crash or a failed load never loses, duplicates or
skips rows, and a failed load never advances a watermark.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lakegate.errors import (
    ConfigError,
    LakegateError,
    MultipleConfigError,
    SecretNotFoundError,
)
from lakegate.ingest.failures import describe_failure
from lakegate.ingest.models import IngestJob, LoadResult, LoadType, SourceType
from lakegate.ingest.schema_changes import SchemaDiff, diff_columns, file_columns, stored_columns
from lakegate.lake.storage import Lake
from lakegate.observability.logging import get_logger
from lakegate.secrets.credentials import SourceCredentials, resolve_source_credentials
from lakegate.settings import Settings

ProgressCallback = Callable[[str, int], None]
"""Called as ``progress(job_id, rows_so_far)`` while a job extracts."""

_log = get_logger(__name__)
_init_lock = threading.Lock()
_NAME = re.compile(r"[^a-z0-9_]+")
# dlt file names: <schema or pipeline>__<load_id>[__<hash>].jsonl, load_id = epoch seconds
_COLUMNS_KEY = "lakegate_source_columns"
_LOAD_ID = re.compile(r"__(\d{9,}\.\d+)(?:__|\.jsonl)")


_WARM_CORE = (
    "pyarrow",
    "pyarrow.parquet",
    "pyarrow.compute",
    "sqlalchemy",
    "dlt",
    "dlt.common.libs.pyarrow",
    "dlt.destinations.impl.filesystem.filesystem",
    "dlt.extract",
    "dlt.normalize",
    "dlt.load",
)
_WARM_GROUPS: dict[str, tuple[str, ...]] = {
    "sql": ("dlt.sources.sql_database", "dlt.sources.sql_database.helpers", "connectorx"),
    # pandas costs seconds to import: only for the paths that import it (not connectorx/adbc)
    "pandas": ("pandas", "dlt.common.libs.pandas", "dlt.sources.sql_database.arrow_helpers"),
    "rest": ("dlt.sources.rest_api",),
}
_warmed: set[str] = set()


def warm_imports(job: IngestJob) -> None:
    """Import the modules ``job``'s load imports lazily, once per group, under a lock.

    Two threads importing the same package for the first time can see a partially
    initialised module (``partially initialized module 'pandas' has no attribute
    'DataFrame'``, met when three jobs started at once); run_job calls this first.
    """
    groups = ["core"]
    if job.source_type is SourceType.rest_api:
        groups += ["rest", "pandas"]
    else:
        from lakegate.ingest.sql_source import default_backend

        groups.append("sql")
        if (job.backend or default_backend(job.source_type)) not in {"connectorx", "adbc"}:
            groups.append("pandas")
    missing = [g for g in groups if g not in _warmed]
    if not missing:
        return
    import importlib

    with _init_lock:
        for group in missing:
            if group in _warmed:
                continue
            for name in _WARM_CORE if group == "core" else _WARM_GROUPS[group]:
                with contextlib.suppress(ImportError):
                    importlib.import_module(name)
            if group == "core":
                logging.getLogger("dlt").addFilter(_quiet_arrow_hint_notice)
            _warmed.add(group)


def _quiet_arrow_hint_notice(record: logging.LogRecord) -> bool:
    """Drop dlt's per-batch notice that reflected hints differ from the Arrow schema.

    It is expected with Arrow backends (e.g. decimal precision from reflection vs
    connectorx's decimal128(38, 10)), says nothing actionable and is logged once per
    batch, which drowned the CLI's progress lines.
    """
    return "when merging arrow schema with dlt schema" not in record.getMessage()


def pipeline_name(job: IngestJob) -> str:
    """Stable dlt pipeline name of a job: ``<source_name>__<job_id>``, snake_case."""
    return _NAME.sub("_", f"{job.source_name}__{job.job_id}".lower()).strip("_")


def pipelines_dir(settings: Settings, lake: Lake) -> Path:
    """Local working folders for pipelines writing to ``lake`` (one folder per lake)."""
    key = hashlib.sha256(lake.url.encode()).hexdigest()[:12]
    return Path(settings.state_dir).expanduser() / key


def check_credentials(jobs: Sequence[IngestJob]) -> None:
    """Resolve every job's source credentials before anything loads.

    A missing secret (secrets.toml, environment or Key Vault) is bad configuration:
    every problem is reported at once, one line each, and nothing runs (exit 2).
    """
    from lakegate.ingest.sql_source import build_url

    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for job in jobs:
        key = (job.source_type.value, job.source_name)
        if job.source_type is SourceType.rest_api or key in seen:
            continue
        seen.add(key)
        try:
            build_url(job.source_type, resolve_source_credentials(job.source_name))
        except (ConfigError, SecretNotFoundError) as exc:
            problems.append(f"job {job.job_id}: {exc}")
    if problems:
        raise MultipleConfigError(problems)


def run_job(
    job: IngestJob,
    *,
    lake: Lake,
    settings: Settings,
    run_id: str,
    tags: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
) -> LoadResult:
    """Load one table into ``lake`` and return what happened.

    Never raises for a failure of the job itself (unreachable source, unknown table,
    permission denied): the result has ``status="failed"`` and a one-line ``error``
    without secrets, and the watermark is not advanced. ``tags`` (tenant_id, job_id,
    run_id, environment, source) are attached to every file written. Raises
    :class:`ConfigError` for the user's configuration (missing credentials fields,
    INCREMENTAL without watermark column, a bad endpoint_config file).
    """
    if (
        job.load_type is LoadType.INCREMENTAL
        and job.source_type is not SourceType.rest_api
        and not job.watermark_column
    ):
        raise ConfigError(f"job {job.job_id}: INCREMENTAL needs a watermark_column")
    result = LoadResult(
        run_id=run_id,
        job_id=job.job_id,
        source_name=job.source_name,
        table_name=job.target,
        load_type=job.load_type.value,
        status="failed",
        started_at=datetime.now(UTC),
        watermark_column=job.watermark_column,
    )
    warm_imports(job)
    creds = resolve_source_credentials(job.source_name)
    try:
        _JobRun(job, lake, settings, creds, result, progress).execute()
        result.status = "success"
    except ConfigError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        # BaseException too: connectorx reports source errors met while streaming as a
        # pyo3 PanicException, which does not derive from Exception.
        result.status = "failed"
        result.watermark_to = result.watermark_from  # never advanced by a failed load
        result.error = describe_failure(exc, job, creds)
        with contextlib.suppress(Exception):  # a broken log sink must not raise from here
            _log.warning("ingest job failed", job_id=job.job_id, error=result.error)
    finally:
        result.finished_at = datetime.now(UTC)
    if result.status == "success" and result.file_paths:
        try:
            state_paths = list(result.extra.get("state_paths", []))
            lake.tag_files([*result.file_paths, *state_paths], dict(tags or {}))
        except Exception as exc:
            # the load is committed (watermark advanced): the job succeeded, tags are missing
            result.extra["tag_error"] = describe_failure(exc, job, creds)
            with contextlib.suppress(Exception):
                _log.warning("tagging files failed", job_id=job.job_id, error=str(exc))
    return result


class _JobRun:
    """The steps of one run; holds the dlt pipeline between them."""

    def __init__(
        self,
        job: IngestJob,
        lake: Lake,
        settings: Settings,
        creds: SourceCredentials,
        result: LoadResult,
        progress: ProgressCallback | None,
    ) -> None:
        self.job, self.lake, self.settings, self.creds = job, lake, settings, creds
        self.result, self.progress = result, progress
        self.name = pipeline_name(job)
        self.pipeline: Any = None
        self.table = job.target

    def execute(self) -> None:
        import dlt

        from lakegate.ingest.destination import lake_destination

        destination, dataset = lake_destination(
            self.lake, compression=self.settings.lake.parquet_compression
        )
        self.dataset_path = self.lake.path()
        self.pipeline = dlt.pipeline(
            pipeline_name=self.name,
            pipelines_dir=str(pipelines_dir(self.settings, self.lake)),
            destination=destination,
            dataset_name=dataset,
        )
        state_before = self._state_files()
        self._reset_to_lake()
        self.table = self._normalise(self.job.target)
        previous_columns = self._previous_columns()
        self.result.watermark_from = self._watermark()
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        resource, current_columns, engine = self._resource()
        timings["reflect_s"] = round(time.perf_counter() - t0, 3)
        try:
            diff = SchemaDiff()
            if current_columns is not None:
                diff = diff_columns(previous_columns, current_columns)
                self._record_diff(diff)
            try:
                t1 = time.perf_counter()
                info = self.pipeline.run(
                    resource,
                    loader_file_format="parquet",
                    schema_contract={"columns": "freeze"}
                    if self.job.schema_contract == "freeze"
                    else None,
                )
                timings["run_s"] = round(time.perf_counter() - t1, 3)
            except BaseException:
                self._discard_uncommitted()
                raise
        finally:
            if engine is not None:
                engine.dispose()
        if current_columns is None:
            after = stored_columns(self.pipeline.default_schema, self.table) or []
            self._record_diff(diff_columns(previous_columns, after))
        self._collect(info, timings)
        # dlt's own files of this load (load marker, pipeline state, schema version) are
        # files the platform writes too: they get the same blob metadata as the data.
        self.result.extra["state_paths"] = sorted(self._state_files() - state_before)

    # -- state and lake hygiene -------------------------------------------------

    def _committed_load_ids(self) -> set[str]:
        """Load ids dlt finished in the lake (loads marker or state file written)."""
        ids: set[str] = set()
        for folder in ("_dlt_loads", "_dlt_pipeline_state"):
            for path in self.lake.glob(f"{folder}/*"):
                match = _LOAD_ID.search(path.rsplit("/", 1)[-1])
                if match:
                    ids.add(match[1])
        return ids

    def _state_files(self) -> set[str]:
        """dlt's bookkeeping files in the lake (listed only where files carry metadata)."""
        if not self.lake.is_azure:
            return set()
        found = set(self.lake.glob("init"))
        for folder in ("_dlt_loads", "_dlt_pipeline_state", "_dlt_version"):
            found.update(self.lake.glob(f"{folder}/*"))
        return found

    def _table_files(self) -> list[str]:
        return self.lake.glob(f"{self.table}/*/*/*/*.parquet")

    @staticmethod
    def _load_id_of(path: str) -> str:
        # <load_id>.<file_id>.parquet, where load_id itself contains a dot
        return path.rsplit("/", 1)[-1].rsplit(".", 2)[0]

    def _remove_uncommitted_files(self) -> None:
        committed = self._committed_load_ids()
        stale = [p for p in self._table_files() if self._load_id_of(p) not in committed]
        for path in stale:
            self.lake.fs.rm(path)
        if stale:
            _log.info(
                "removed files of an unfinished load", job_id=self.job.job_id, files=len(stale)
            )

    def _initialise_lake(self) -> None:
        """Create dlt's dataset folder once, under a lock: dlt checks-then-creates it, so
        parallel jobs starting on a fresh lake would race (``FileExistsError``)."""
        with _init_lock:
            if self.lake.exists("init"):
                return
            with self.pipeline.destination_client() as client:
                client.initialize_storage()

    def _reset_to_lake(self) -> None:
        """Make the local pipeline agree with what the lake has committed."""
        self._initialise_lake()
        has_remote_state = bool(self.lake.glob(f"_dlt_pipeline_state/{self.name}__*"))
        local_state = not self.pipeline.first_run or self.pipeline.has_pending_data
        if self.pipeline.has_pending_data or (local_state and not has_remote_state):
            # leftovers of a crash, or a lake that was emptied: the lake wins
            self.pipeline = self.pipeline.drop()
        self.pipeline.sync_destination()
        self.table = self._normalise(self.job.target)
        self._remove_uncommitted_files()

    def _discard_uncommitted(self) -> None:
        """After a failure: forget the local state and remove the failed load's files."""
        try:
            # drop() wipes the working folder: pending packages and the advanced state
            self.pipeline = self.pipeline.drop()
            self._remove_uncommitted_files()
        except Exception as exc:  # the next run repeats this clean-up anyway
            _log.warning("clean-up after a failed load incomplete", error=str(exc))

    def _normalise(self, name: str) -> str:
        schema = self.pipeline.default_schema if self.pipeline.default_schema_name else None
        if schema is not None:
            return str(schema.naming.normalize_table_identifier(name))
        from dlt.common.normalizers.naming.snake_case import NamingConvention

        return str(NamingConvention().normalize_table_identifier(name))

    def _normalise_column(self, name: str) -> str:
        from dlt.common.normalizers.naming.snake_case import NamingConvention

        return str(NamingConvention().normalize_identifier(name))

    def _previous_columns(self) -> list[str] | None:
        # SQL jobs record the source's columns in the resource state, committed with the
        # load; Parquet footers are the fallback (they keep dropped columns as nulls).
        remembered = _find_resource_key(self.pipeline.state, self.job.table_name, _COLUMNS_KEY)
        if isinstance(remembered, list):
            return [str(c) for c in remembered]
        files = self._table_files()
        if not files:
            return None
        newest = max(files, key=self._load_id_of)
        return file_columns(self.lake.fs, newest)

    def _watermark(self) -> str | None:
        value = _find_last_value(self.pipeline.state, self.job.table_name)
        return None if value is None else _as_text(value)

    # -- the resource -----------------------------------------------------------

    def _resource(self) -> tuple[Any, list[str] | None, Any]:
        """(resource with hints, current source columns or None, engine to dispose)."""
        job = self.job
        if job.source_type is SourceType.rest_api:
            from lakegate.ingest.rest_source import rest_resource

            resource = rest_resource(job, self.creds)
            current, engine = None, None
        else:
            from lakegate.ingest.sql_source import sql_table_resource

            table = sql_table_resource(job, self.creds)
            resource, engine = table.resource, table.engine
            current = [self._normalise_column(c) for c in table.source_columns]
            self.result.extra["backend"] = table.backend
            resource.add_map(_RememberColumns(current))
        resource.apply_hints(
            table_name=job.target,
            write_disposition="replace" if job.load_type is LoadType.FULL else "append",
            primary_key=job.primary_key or None,
        )
        if self.progress is not None:
            resource.add_map(_RowCounter(job.job_id, self.progress))
        return resource, current, engine

    def _record_diff(self, diff: SchemaDiff) -> None:
        self.result.schema_changed = diff.changed
        self.result.schema_changes = diff.describe()
        if diff.changed and self.job.schema_contract == "freeze":
            raise _SchemaFrozenError(
                f"schema of {self.job.table_name} changed ({', '.join(diff.describe())}) "
                "and schema_contract is freeze: nothing loaded"
            )

    # -- the outcome --------------------------------------------------------------

    def _collect(self, info: Any, timings: dict[str, float]) -> None:
        trace = self.pipeline.last_trace
        normalize = trace.last_normalize_info if trace else None
        counts = normalize.row_counts if normalize else {}
        load_ids = list(getattr(info, "loads_ids", []) or [])
        self.result.rows_loaded = int(counts.get(self.table, 0))
        self.result.load_id = load_ids[-1] if load_ids else None
        ids = set(load_ids)
        paths = [p for p in self._table_files() if self._load_id_of(p) in ids]
        self.result.file_paths = paths
        self.result.files = len(paths)
        self.result.watermark_to = self._watermark() or self.result.watermark_from
        for step in getattr(trace, "steps", None) or []:
            if step.step in {"extract", "normalize", "load"} and step.finished_at:
                seconds = (step.finished_at - step.started_at).total_seconds()
                timings[f"{step.step}_s"] = round(seconds, 3)
        self.result.extra.update(timings)
        self.result.extra["pipeline"] = self.name
        self._forget_loaded_packages(load_ids)

    def _forget_loaded_packages(self, load_ids: list[str]) -> None:
        """Delete the local copies dlt keeps of loaded packages: the lake has them, and
        keeping them would double the disk used by every load."""
        try:
            storage = self.pipeline._get_load_storage()
            for load_id in load_ids:
                storage.delete_loaded_package(load_id)
        except Exception as exc:  # only disk space is at stake
            _log.debug("could not delete loaded packages", error=str(exc))


class _SchemaFrozenError(LakegateError):
    """The source's columns changed and the job's schema_contract is freeze."""


class _RowCounter:
    """A map step that reports rows as they pass (Arrow tables, lists or single rows)."""

    def __init__(self, job_id: str, progress: ProgressCallback) -> None:
        self.job_id, self.progress, self.rows = job_id, progress, 0

    def __call__(self, item: Any) -> Any:
        rows = getattr(item, "num_rows", None)
        if rows is None:
            rows = len(item) if isinstance(item, list) else 1
        if not rows:
            return item
        self.rows += int(rows)
        self.progress(self.job_id, self.rows)
        return item


class _RememberColumns:
    """A map step that records the source's columns in the resource state (committed with
    the load, so the next run compares against what was really loaded last)."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self.done = False

    def __call__(self, item: Any) -> Any:
        if not self.done:
            import dlt

            dlt.current.resource_state()[_COLUMNS_KEY] = list(self.columns)
            self.done = True
        return item


def _find_resource_key(state: Mapping[str, Any], resource_name: str, key: str) -> Any:
    """``key`` of ``resource_name``'s state in any source section of the pipeline state."""
    for source in (state.get("sources") or {}).values():
        entry = ((source or {}).get("resources") or {}).get(resource_name) or {}
        if key in entry:
            return entry[key]
    return None


def _find_last_value(state: Mapping[str, Any], resource_name: str) -> Any:
    """The incremental ``last_value`` of ``resource_name`` anywhere in the pipeline state."""
    for source in (state.get("sources") or {}).values():
        resources = (source or {}).get("resources") or {}
        entry = resources.get(resource_name) or {}
        for cursor in (entry.get("incremental") or {}).values():
            if isinstance(cursor, dict) and cursor.get("last_value") is not None:
                return cursor["last_value"]
    return None


def _as_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
