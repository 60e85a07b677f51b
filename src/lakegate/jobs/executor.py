"""The in-process executor: a bounded thread pool owned by ``lakegate serve``.

* :meth:`InProcessExecutor.start` first ends the runs a crashed process left
  ``running`` (:func:`lakegate.jobs.manager.recover_orphans`), then re-submits the runs
  still ``queued`` in the catalog (the in-memory queue died with that process).
* :meth:`~InProcessExecutor.submit` queues a run; at most ``max_workers`` execute at once.
  Claiming is a conditional UPDATE, so a run submitted twice (or by two processes
  sharing a catalog) executes once.
* A watchdog thread enforces each run's ``timeout_s``: past it the run is recorded
  ``timed_out`` at once and its :class:`~lakegate.jobs.runner.StopToken` is set, so the
  runner stops at its next checkpoint (between tables, between extracted chunks).
* :meth:`~InProcessExecutor.cancel` sets the token of a run executing here; the API has
  already recorded ``cancelling``. Other processes notice it through the catalog.

Python threads cannot be killed: a step blocked inside one driver call stops when that
call returns. The run's status does not wait for it — it is already terminal.
"""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import structlog
from sqlalchemy.orm import Session, sessionmaker

from lakegate.catalog.models.runs import Run
from lakegate.jobs import manager
from lakegate.jobs.runner import Runner, StopToken
from lakegate.jobs.states import RunStatus
from lakegate.settings import Settings

log = structlog.get_logger(__name__)

HEARTBEAT_S = 30.0
"""How often the watchdog stamps the heartbeat of every run executing here."""


@dataclass
class _Handle:
    run_id: str
    token: StopToken = field(default_factory=StopToken)
    deadline: float | None = None
    timeout_s: int | None = None
    future: Future[str | None] | None = None


class InProcessExecutor:
    """Runs queued runs on a bounded pool of threads in this process."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        max_workers: int = 4,
        runner: Runner | None = None,
        watchdog_interval_s: float = 0.2,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.runner = runner or Runner(sessions, settings)
        self.max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None
        self._handles: dict[str, _Handle] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._interval = watchdog_interval_s

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> list[str]:
        """Recover crashed runs, start the pool and the watchdog, re-submit queued runs.

        Returns the ids of the runs recovered (marked failed or cancelled).
        """
        with self.sessions() as session:
            recovered = manager.recover_orphans(session)
            queued = manager.queued_run_ids(session)
        self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="lakegate-run")
        self._stop.clear()
        self._watchdog = threading.Thread(
            target=self._watch, name="lakegate-run-watchdog", daemon=True
        )
        self._watchdog.start()
        for run_id in queued:
            self.submit(run_id)
        log.info("executor.started", workers=self.max_workers, recovered=len(recovered))
        return recovered

    def shutdown(self, *, wait: bool = True, timeout_s: float = 30.0) -> None:
        """Stop: runs executing here are interrupted (they end ``failed``), queued stay queued."""
        with self._lock:
            handles = list(self._handles.values())
        for handle in handles:
            # Started (claimed, or its thread already inside the runner about to claim):
            # interrupt it. A thread between claiming and ``on_claimed`` has no deadline yet.
            started = handle.future is not None and handle.future.running()
            if handle.deadline is not None or started:
                handle.token.stop("shutdown")
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            if wait:
                end = time.monotonic() + timeout_s
                for handle in handles:
                    if handle.future is not None and not handle.future.cancelled():
                        remaining = max(0.0, end - time.monotonic())
                        # A run's own failure is already recorded on it; only wait here.
                        with contextlib.suppress(Exception):
                            handle.future.result(timeout=remaining)
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join(timeout=5)
        log.info("executor.stopped")

    # -- runs ------------------------------------------------------------------------

    def submit(self, run_id: str) -> None:
        """Queue ``run_id`` for execution (a no-op if it is already here).

        Before :meth:`start` or after :meth:`shutdown` the run simply stays ``queued`` in
        the catalog: the next start re-submits it.
        """
        pool = self._pool
        if pool is None:
            log.info("run.left_queued", run_id=run_id, reason="executor not running")
            return
        with self._lock:
            if run_id in self._handles:
                return
            handle = _Handle(run_id)
            self._handles[run_id] = handle
        try:
            handle.future = pool.submit(self._work, handle)
        except RuntimeError:  # shut down meanwhile: the run stays queued for the next start
            with self._lock:
                self._handles.pop(run_id, None)

    def cancel(self, run_id: str) -> bool:
        """Stop a run executing in this process; False when it is not here."""
        with self._lock:
            handle = self._handles.get(run_id)
        if handle is None:
            return False
        handle.token.stop("cancel")
        return True

    def active_run_ids(self) -> list[str]:
        """Runs submitted here and not finished."""
        with self._lock:
            return list(self._handles)

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Block until no run is executing here (tests); False on timeout."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if not self.active_run_ids():
                return True
            time.sleep(0.05)
        return False

    def _on_claimed(self, handle: _Handle, run: Run) -> None:
        handle.timeout_s = run.timeout_s
        handle.deadline = time.monotonic() + run.timeout_s if run.timeout_s else float("inf")

    def _work(self, handle: _Handle) -> str | None:
        try:
            return self.runner.execute(
                handle.run_id,
                handle.token,
                on_claimed=lambda run: self._on_claimed(handle, run),
            )
        finally:
            with self._lock:
                self._handles.pop(handle.run_id, None)

    def _watch(self) -> None:
        last_beat = time.monotonic()
        while not self._stop.wait(self._interval):
            now = time.monotonic()
            with self._lock:
                claimed = [h for h in self._handles.values() if h.deadline is not None]
            for handle in claimed:
                if now >= (handle.deadline or 0) and not handle.token.stopped:
                    self._time_out(handle)
            if now - last_beat >= HEARTBEAT_S and claimed:
                # A step blocked in one long driver call does not reach a checkpoint; the
                # heartbeat still says this process is alive (see manager.is_orphaned).
                last_beat = now
                self._beat([h.run_id for h in claimed])

    def _beat(self, run_ids: list[str]) -> None:
        try:
            with self.sessions() as session:
                for run_id in run_ids:
                    manager.heartbeat(session, run_id)
        except Exception as exc:  # a missed beat is retried at the next interval
            log.warning("run.heartbeat_failed", error=str(exc))

    def _time_out(self, handle: _Handle) -> None:
        handle.token.stop("timeout")
        try:
            with self.sessions() as session:
                run = manager.get_run(session, handle.run_id)
                manager.finish(
                    session,
                    run,
                    RunStatus.timed_out,
                    error=f"timed out after {handle.timeout_s}s",
                )
                session.commit()
            log.warning("run.timed_out", run_id=handle.run_id, timeout_s=handle.timeout_s)
        except Exception as exc:  # the runner still records the stop at its checkpoint
            log.error("run.timeout_record_failed", run_id=handle.run_id, error=str(exc))
