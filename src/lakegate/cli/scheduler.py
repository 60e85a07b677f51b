"""``lakegate scheduler``: fire job schedules and execute the runs they create.

A thin door onto :class:`lakegate.jobs.periodic.PeriodicScheduler` and the in-process
executor: it parses the options, starts both, prints what fired and stops cleanly on
SIGTERM/SIGINT (running runs end ``failed`` "interrupted", queued runs stay queued).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lakegate.cli.common import Output, OutputOption, emit_json, stdout
from lakegate.errors import ConfigError, ExitCode, LakegateError

if TYPE_CHECKING:
    from lakegate.catalog.session import Catalog
    from lakegate.jobs.periodic import Fire, TickReport
    from lakegate.settings import Settings


class CatalogUnavailableError(LakegateError):
    """The catalog database cannot be reached (transient: retry when it is back)."""

    transient = True
    http_status = 503
    title = "Catalog unavailable"


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` (main thread only) instead of killing the process.

    A second signal gets the previous handler back (a second Ctrl-C interrupts at once).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        stop.set()
        signal.signal(signum, previous[signum])

    previous: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _open_catalog(settings: Settings, migrate: bool | None) -> Catalog:
    """The catalog, migrated on SQLite by default; refused when its schema is behind."""
    from sqlalchemy.exc import SQLAlchemyError

    from lakegate.catalog import migrate as migrations
    from lakegate.catalog.session import Catalog, normalize_database_url

    is_sqlite = normalize_database_url(settings.database_url).get_backend_name() == "sqlite"
    catalog = Catalog.from_settings(settings)
    try:
        if migrate if migrate is not None else is_sqlite:
            migrations.upgrade(settings.database_url)
        current = migrations.current_revision(catalog.engine)
    except SQLAlchemyError as exc:
        catalog.dispose()
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise CatalogUnavailableError(f"catalog database unreachable: {reason}") from exc
    head = migrations.head_revision()
    if current != head:
        catalog.dispose()
        raise ConfigError(
            f"catalog is at revision {current or 'none'}, not the newest ({head}): "
            "run `lakegate db upgrade`"
        )
    return catalog


def _print_fires(fires: list[Fire]) -> None:
    for fire in fires:
        line = f"{fire.outcome}: {fire.tenant_slug}/{fire.job_name} at {fire.fire_time.isoformat()}"
        if fire.run_id:
            line += f" -> run {fire.run_id}"
        if fire.reason:
            line += f" ({fire.reason})"
        stdout.print(line, highlight=False, markup=False)


def scheduler(
    interval: Annotated[
        float | None,
        typer.Option(
            "--interval",
            min=0.5,
            max=3600,
            help="Longest sleep between two ticks, in seconds (the loop also wakes at the "
            "next fire time). New or edited schedules are seen within it. "
            "Default: $LAKEGATE_SCHEDULER_INTERVAL_S or 30.",
            show_default=False,
        ),
    ] = None,
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="Fire what is due now, wait for those runs to finish, print them and exit "
            "(exit 1 when a due job could not be triggered for an error other than a quota).",
        ),
    ] = False,
    migrate: Annotated[
        bool | None,
        typer.Option(
            "--migrate/--no-migrate",
            help="Run `db upgrade` first. Default: only on a SQLite catalog.",
            show_default=False,
        ),
    ] = None,
    output: OutputOption = Output.table,
) -> None:
    """Trigger runs of scheduled jobs on time (once per fire time) and execute them.

    Several schedulers (or `lakegate serve` with LAKEGATE_SCHEDULER_ENABLED=true) may
    share a catalog: each fire time still gives exactly one run. Stops on SIGTERM/SIGINT.
    """
    from lakegate.jobs.executor import InProcessExecutor
    from lakegate.jobs.periodic import PeriodicScheduler
    from lakegate.settings import get_settings
    from lakegate.tenants.quotas import RunRateLimiter

    settings = get_settings()
    interval_s = interval if interval is not None else settings.scheduler_interval_s
    catalog = _open_catalog(settings, migrate)
    executor = InProcessExecutor(catalog.sessions, settings, max_workers=settings.run_workers)
    periodic = PeriodicScheduler(
        catalog.sessions,
        limiter=RunRateLimiter.from_settings(settings),
        submit=executor.submit,
    )
    stop = threading.Event()
    try:
        with _stop_on_signals(stop):
            executor.start()
            if once:
                report = periodic.tick()
                _wait_for_runs(executor, stop)
                _present_once(catalog, report, output)
                if any(fire.outcome == "error" for fire in report.fires):
                    raise typer.Exit(int(ExitCode.FAILED))
                return
            if output is Output.table:
                stdout.print(f"scheduler running (tick at most every {interval_s:g}s)")
            periodic.run(
                interval_s=interval_s,
                stop=stop,
                on_tick=lambda report: _present_tick(report, output),
            )
    finally:
        executor.shutdown()
        catalog.dispose()


def _wait_for_runs(executor: Any, stop: threading.Event) -> None:
    while executor.active_run_ids() and not stop.is_set():
        stop.wait(0.2)


def _present_tick(report: TickReport, output: Output) -> None:
    if not report.fires:
        return
    if output is Output.json:  # one JSON document per tick that did something
        emit_json({"at": report.at.isoformat(), "fires": [f.as_dict() for f in report.fires]})
    else:
        _print_fires(report.fires)


def _present_once(catalog: Catalog, report: TickReport, output: Output) -> None:
    from lakegate.catalog.models.runs import Run

    statuses: dict[str, str] = {}
    with catalog.session() as session:
        for fire in report.fires:
            run = session.get(Run, fire.run_id) if fire.run_id else None
            if run is not None:
                statuses[run.id] = run.status
    if output is Output.json:
        emit_json(
            {
                "at": report.at.isoformat(),
                "scheduled_jobs": report.scheduled,
                "fires": [
                    {**fire.as_dict(), "run_status": statuses.get(fire.run_id or "")}
                    for fire in report.fires
                ],
                "next_fire": report.next_fire.isoformat() if report.next_fire else None,
            }
        )
        return
    _print_fires(report.fires)
    for run_id, status in statuses.items():
        stdout.print(f"run {run_id}: {status}", highlight=False, markup=False)
    stdout.print(
        f"{report.scheduled} scheduled job(s), {len(report.created)} run(s) created; "
        f"next fire time {report.next_fire.isoformat() if report.next_fire else 'none'}",
        highlight=False,
        markup=False,
    )
