"""How a run looks to people and machines: progress while it runs, the summary after.

* :class:`RichProgress` (a terminal) and :class:`PlainProgress` (logs, CI, pipes) both
  implement :class:`~lakegate.ingest.runner.RunProgress`; :func:`make_progress` picks one.
* :func:`render_table` (rich), :func:`render_plain` (aligned text) and
  :func:`report_to_dict` (``--output json``) present a
  :class:`~lakegate.ingest.runner.RunReport`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from lakegate.ingest.models import IngestJob, LoadResult
from lakegate.ingest.runner import RunProgress, RunReport

SUMMARY_COLUMNS = ("job", "table", "load type", "rows", "files", "seconds", "status", "dq")


def failure_line(result: LoadResult) -> str:
    """The one line printed for a failed job: which job, and why."""
    return f"job {result.job_id} failed: {result.error or 'unknown error'}"


def result_to_dict(result: LoadResult) -> dict[str, Any]:
    """One job's result as JSON-ready data (no traceback, secrets already masked)."""
    extra = {k: v for k, v in result.extra.items() if k != "traceback"}
    return {
        "job_id": result.job_id,
        "source_name": result.source_name,
        "table": result.table_name,
        "load_type": str(result.load_type),
        "status": result.status,
        "rows_loaded": result.rows_loaded,
        "files": result.files,
        "duration_s": result.duration_s,
        "started_at": result.started_at.isoformat() if result.started_at else None,
        "finished_at": result.finished_at.isoformat() if result.finished_at else None,
        "watermark_column": result.watermark_column,
        "watermark_from": result.watermark_from,
        "watermark_to": result.watermark_to,
        "schema_changed": result.schema_changed,
        "schema_changes": list(result.schema_changes),
        "error": result.error,
        "load_id": result.load_id,
        "file_paths": list(result.file_paths),
        "dq_status": result.dq_status,
        "dq_failed_checks": list(result.dq_failed_checks),
        "extra": extra,
    }


def report_to_dict(report: RunReport) -> dict[str, Any]:
    """The ``--output json`` document of a run."""
    return {
        "run_id": report.run_id,
        "status": report.status,
        "exit_code": int(report.exit_code),
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat() if report.finished_at else None,
        "audit_file": report.audit_path,
        "audit_errors": list(report.audit_errors),
        "jobs": [result_to_dict(r) for r in report.results],
    }


def _cells(result: LoadResult) -> list[str]:
    dq = result.dq_status or "-"
    if result.dq_failed_checks:
        dq += f" ({len(result.dq_failed_checks)} failed)"
    return [
        result.job_id,
        result.table_name,
        str(result.load_type),
        f"{result.rows_loaded:,}",
        str(result.files),
        f"{result.duration_s:.1f}",
        result.status,
        dq,
    ]


def render_table(report: RunReport, console: Console) -> None:
    """The summary as a rich table (a terminal)."""
    table = Table(
        title=f"ingest run {report.run_id}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
    )
    for name in SUMMARY_COLUMNS:
        numeric = name in {"rows", "files", "seconds"}
        # Names may wrap on a narrow terminal; numbers and statuses never do.
        wraps = name in {"job", "table"}
        table.add_column(
            name, justify="right" if numeric else "left", no_wrap=not wraps, overflow="fold"
        )
    for result in report.results:
        style = "green" if result.status == "success" else "red"
        cells = [escape(c) for c in _cells(result)]
        cells[6] = f"[{style}]{cells[6]}[/{style}]"
        table.add_row(*cells)
    console.print(table)
    _print_footer(report, lambda line: console.print(line, markup=False, highlight=False))


def render_plain(report: RunReport, stream: IO[str]) -> None:
    """The summary as aligned plain text (pipes, logs, CI)."""
    rows = [list(SUMMARY_COLUMNS), *(_cells(r) for r in report.results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(SUMMARY_COLUMNS))]
    right = {3, 4, 5}
    for row in rows:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        stream.write("  ".join(cells).rstrip() + "\n")
    _print_footer(report, lambda line: stream.write(f"{line}\n"))
    stream.flush()


def schema_change_lines(report: RunReport) -> list[str]:
    """One line per job whose source schema changed: ``schema of orders changed: ...``."""
    return [
        f"schema of {r.table_name} changed: {'; '.join(r.schema_changes) or 'columns differ'}"
        for r in report.results
        if r.schema_changed or r.schema_changes
    ]


def _print_footer(report: RunReport, write: Any) -> None:
    for line in schema_change_lines(report):
        write(line)
    ok = len(report.results) - len(report.failed)
    line = f"{ok} of {len(report.results)} jobs succeeded (run {report.run_id})"
    if report.audit_path:
        line += f"; audit: {report.audit_path}"
    write(line)
    for problem in report.audit_errors:
        write(f"audit not written: {problem}")


class PlainProgress:
    """Progress as plain lines on a stream: start, row counts every few seconds, end."""

    def __init__(self, stream: IO[str], every_s: float = 5.0) -> None:
        self._stream = stream
        self._every = every_s
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}

    def _say(self, line: str) -> None:
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def job_started(self, job: IngestJob) -> None:
        """Print that ``job`` started."""
        self._last[job.job_id] = time.monotonic()
        self._say(f"job {job.job_id}: started ({job.load_type} {job.source_name} -> {job.target})")

    def job_rows(self, job_id: str, rows: int) -> None:
        """Print the row count at most every few seconds per job."""
        now = time.monotonic()
        if now - self._last.get(job_id, 0.0) >= self._every:
            self._last[job_id] = now
            self._say(f"job {job_id}: {rows:,} rows so far")

    def job_finished(self, result: LoadResult) -> None:
        """Print the outcome: a summary line, or the failure line."""
        if result.status == "success":
            dq = f", dq {result.dq_status}" if result.dq_status else ""
            self._say(
                f"job {result.job_id}: success, {result.rows_loaded:,} rows, "
                f"{result.files} files, {result.duration_s:.1f} s{dq}"
            )
        else:
            self._say(failure_line(result))


class RichProgress:
    """A live rich progress display: one spinner line per running job with its row count."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[job]}[/bold]"),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[rows]} rows"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def job_started(self, job: IngestJob) -> None:
        """Add a line for ``job``."""
        with self._lock:
            self._tasks[job.job_id] = self._progress.add_task(
                f"{job.load_type} -> {job.target}", total=None, job=job.job_id, rows="0"
            )

    def job_rows(self, job_id: str, rows: int) -> None:
        """Update the row count of ``job_id``."""
        task = self._tasks.get(job_id)
        if task is not None:
            self._progress.update(task, rows=f"{rows:,}")

    def job_finished(self, result: LoadResult) -> None:
        """Remove the job's line and print its outcome above the live display."""
        task = self._tasks.pop(result.job_id, None)
        if task is not None:
            self._progress.remove_task(task)
        if result.status == "success":
            self._progress.console.print(
                f"[green]✓[/green] {escape(result.job_id)}: {result.rows_loaded:,} rows, "
                f"{result.files} files, {result.duration_s:.1f} s",
                highlight=False,
            )
        else:
            self._progress.console.print(
                f"[red]✗[/red] {escape(failure_line(result))}", highlight=False, markup=True
            )


@contextmanager
def make_progress(console: Console, *, quiet: bool = False) -> Iterator[RunProgress]:
    """Rich progress when ``console`` is a terminal, plain lines otherwise."""
    if console.is_terminal and not quiet:
        with RichProgress(console) as progress:
            yield progress
    else:
        yield PlainProgress(console.file)
