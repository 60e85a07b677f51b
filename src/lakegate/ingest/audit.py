"""The daily audit CSV: one row per job run in ``<metadata_dir>/audit_YYYYMMDD.csv``.

One file per UTC day, appended, header written once. ``metadata_dir`` is a local folder
or any fsspec URL (the lake may be remote). Every text field goes through
:func:`~lakegate.observability.redact.redact` and is folded onto one line, so neither a
secret nor a multi-line traceback reaches the file.

Concurrency: an :class:`AuditLog` serialises its writers with a lock; on a local folder
the append also holds an exclusive ``flock`` on the file, so separate processes (two
containers on one volume, a scheduler and a CLI run) cannot interleave rows or write the
header twice. Object stores have no append: there the file is read and rewritten under
the lock, which is safe for the one writer per run the runner guarantees.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from lakegate.errors import StorageError
from lakegate.ingest.models import LoadResult
from lakegate.observability.redact import redact

if TYPE_CHECKING:
    from lakegate.settings import Settings

AUDIT_COLUMNS: tuple[str, ...] = (
    "run_id",
    "job_id",
    "source_name",
    "table_name",
    "load_type",
    "status",
    "rows_loaded",
    "files",
    "started_at",
    "finished_at",
    "duration_s",
    "watermark_column",
    "watermark_from",
    "watermark_to",
    "schema_changed",
    "error",
    "dq_status",
    "dq_failed_checks",
    "schema_changes",
    "dq_error",
)
"""Columns of the audit file, in order (documented in docs/audit.md)."""

LIST_SEPARATOR = "; "
"""How list fields (``dq_failed_checks``, ``schema_changes``) are joined in one cell."""


def audit_file_name(day: date) -> str:
    """``audit_YYYYMMDD.csv`` for ``day``."""
    return f"audit_{day:%Y%m%d}.csv"


def one_line(text: str | None) -> str:
    """``text`` redacted and folded onto one line (audit cells, printed errors)."""
    if not text:
        return ""
    return " ".join(redact(str(text)).split())


def audit_row(result: LoadResult) -> dict[str, str]:
    """The audit row of one job run, every value a string."""

    def ts(value: datetime | None) -> str:
        return value.astimezone(UTC).isoformat() if value else ""

    return {
        "run_id": result.run_id,
        "job_id": one_line(result.job_id),
        "source_name": one_line(result.source_name),
        "table_name": one_line(result.table_name),
        "load_type": str(result.load_type),
        "status": result.status,
        "rows_loaded": str(int(result.rows_loaded)),
        "files": str(int(result.files)),
        "started_at": ts(result.started_at),
        "finished_at": ts(result.finished_at),
        "duration_s": f"{result.duration_s:.3f}",
        "watermark_column": one_line(result.watermark_column),
        "watermark_from": one_line(result.watermark_from),
        "watermark_to": one_line(result.watermark_to),
        "schema_changed": "true" if result.schema_changed else "false",
        "error": one_line(result.error),
        "dq_status": result.dq_status or "",
        "dq_failed_checks": one_line(LIST_SEPARATOR.join(result.dq_failed_checks)),
        "schema_changes": one_line(LIST_SEPARATOR.join(result.schema_changes)),
        "dq_error": one_line(str(result.extra.get("dq_error") or "")),
    }


class AuditLog:
    """Appends job results to the daily audit files under ``metadata_dir``."""

    def __init__(self, metadata_dir: str | Path, storage_options: dict[str, Any] | None = None):
        import fsspec.core

        self.location = str(metadata_dir)
        fs, root = fsspec.core.url_to_fs(self.location, **(storage_options or {}))
        self._fs = fs
        self._root = str(root).rstrip("/")
        self._local = "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditLog:
        """The audit under ``settings.metadata_dir``, with the lake's credentials for
        remote URLs (``az://...`` uses the same Azure settings as the lake)."""
        from lakegate.lake.storage import Lake

        where = Lake.from_url(settings.metadata_dir, settings)
        return cls(where.url, where.storage_options)

    def path_for(self, day: date) -> str:
        """Path (as the filesystem sees it) of the audit file of ``day``."""
        return f"{self._root}/{audit_file_name(day)}"

    def write(self, result: LoadResult) -> str:
        """Append the row of ``result`` to the file of its start day (UTC); returns the path."""
        return self.write_many([result])

    def write_many(self, results: Sequence[LoadResult]) -> str:
        """Append rows (all to the file of the first result's start day); returns the path."""
        if not results:
            return ""
        started = results[0].started_at or datetime.now(UTC)
        path = self.path_for(started.astimezone(UTC).date())
        rows = [audit_row(r) for r in results]
        try:
            with self._lock:
                if self._local:
                    self._append_local(Path(path), rows)
                else:
                    self._rewrite_remote(path, rows)
        except OSError as exc:
            raise StorageError(f"audit {self.location}: cannot write {path}: {exc}") from exc
        return path

    def read(self, day: date) -> list[dict[str, str]]:
        """Rows of the audit file of ``day`` (empty when there is none)."""
        path = self.path_for(day)
        if not self._fs.exists(path):
            return []
        with self._fs.open(path, "r", encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    def _append_local(self, path: Path, rows: Iterable[dict[str, str]]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8", newline="") as handle, _locked(handle):
            # Under the file lock: another process may have written the header meanwhile.
            handle.seek(0, io.SEEK_END)
            _write_rows(handle, rows, header=handle.tell() == 0)
            handle.flush()

    def _rewrite_remote(self, path: str, rows: Iterable[dict[str, str]]) -> None:
        existing = ""
        if self._fs.exists(path):
            with self._fs.open(path, "r", encoding="utf-8", newline="") as handle:
                existing = handle.read()
        buffer = io.StringIO()
        buffer.write(existing)
        _write_rows(buffer, rows, header=not existing)
        self._fs.makedirs(self._root, exist_ok=True)
        with self._fs.open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(buffer.getvalue())


def _write_rows(handle: IO[str], rows: Iterable[dict[str, str]], *, header: bool) -> None:
    writer = csv.DictWriter(handle, fieldnames=list(AUDIT_COLUMNS), lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)


@contextmanager
def _locked(handle: IO[str]) -> Iterator[None]:
    """Exclusive advisory lock on an open local file (no-op where flock is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the thread lock still applies
        yield
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
