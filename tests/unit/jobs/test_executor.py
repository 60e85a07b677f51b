"""The in-process executor: bounded pool, timeouts, cancel, start-up recovery, shutdown."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from lakegate.catalog.models.runs import Run
from lakegate.catalog.session import Catalog
from lakegate.jobs import manager
from lakegate.jobs.executor import InProcessExecutor
from lakegate.jobs.registry import JobView
from lakegate.jobs.runner import PlannedStep, Runner, StepContext, StepOutcome
from lakegate.settings import Settings


def _queue(catalog: Catalog, view: JobView) -> str:
    with catalog.session() as session:
        created = manager.create_run(session, session.merge(view.job))
        session.commit()
        return created.run.id


def _status(catalog: Catalog, run_id: str) -> Run:
    with catalog.session() as session:
        run = manager.get_run(session, run_id)
        _ = run.steps
        return run


def _wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def _busy(context: StepContext, step: PlannedStep) -> StepOutcome:
    """A step that works in small chunks, checking for cancel/timeout between them."""
    for _ in range(500):
        context.checkpoint()
        time.sleep(0.02)
    return StepOutcome("succeeded")


@pytest.fixture
def executor_for(
    catalog: Catalog, settings: Settings
) -> Iterator[Callable[..., InProcessExecutor]]:
    made: list[InProcessExecutor] = []

    def make(fn: Callable[..., StepOutcome], workers: int = 2) -> InProcessExecutor:
        runner = Runner(catalog.sessions, settings, step_functions={"quality": fn})
        executor = InProcessExecutor(
            catalog.sessions, settings, max_workers=workers, runner=runner, watchdog_interval_s=0.05
        )
        made.append(executor)
        return executor

    yield make
    for executor in made:
        executor.shutdown(timeout_s=5)


def test_submitted_runs_execute_to_success(
    catalog: Catalog,
    make_job: Callable[..., JobView],
    executor_for: Callable[..., InProcessExecutor],
) -> None:
    executor = executor_for(lambda c, s: StepOutcome("succeeded"))
    executor.start()
    view = make_job()
    ids = [_queue(catalog, view) for _ in range(3)]
    for run_id in ids:
        executor.submit(run_id)
    assert executor.wait_idle(10)
    assert [_status(catalog, i).status for i in ids] == ["succeeded"] * 3


def test_pool_is_bounded(
    catalog: Catalog,
    make_job: Callable[..., JobView],
    executor_for: Callable[..., InProcessExecutor],
) -> None:
    lock = threading.Lock()
    running, peak = [0], [0]

    def track(context: StepContext, step: PlannedStep) -> StepOutcome:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.15)
        with lock:
            running[0] -= 1
        return StepOutcome("succeeded")

    executor = executor_for(track, workers=2)
    executor.start()
    view = make_job()
    for _ in range(5):
        executor.submit(_queue(catalog, view))
    assert executor.wait_idle(10)
    assert peak[0] == 2


def test_timeout_is_recorded_and_stops_the_work(
    catalog: Catalog,
    make_job: Callable[..., JobView],
    executor_for: Callable[..., InProcessExecutor],
) -> None:
    executor = executor_for(_busy)
    executor.start()
    run_id = _queue(catalog, make_job(timeout_s=1))
    started = time.monotonic()
    executor.submit(run_id)
    _wait_for(lambda: _status(catalog, run_id).status == "timed_out", timeout=5)
    assert executor.wait_idle(5)  # the worker thread stopped too
    elapsed = time.monotonic() - started
    run = _status(catalog, run_id)
    assert 1.0 <= elapsed < 4.0
    assert run.error == "timed out after 1s"
    assert run.steps[0].status == "cancelled"


def test_cancel_of_a_running_run_stops_it(
    catalog: Catalog,
    make_job: Callable[..., JobView],
    executor_for: Callable[..., InProcessExecutor],
) -> None:
    executor = executor_for(_busy)
    executor.start()
    run_id = _queue(catalog, make_job())
    executor.submit(run_id)
    _wait_for(lambda: _status(catalog, run_id).status == "running")
    with catalog.session() as session:
        assert (
            manager.request_cancel(session, manager.get_run(session, run_id)).status == "cancelling"
        )
        session.commit()
    executor.cancel(run_id)
    assert executor.wait_idle(5)
    assert _status(catalog, run_id).status == "cancelled"


def test_start_recovers_crashed_runs_and_resubmits_queued_ones(
    catalog: Catalog,
    make_job: Callable[..., JobView],
    executor_for: Callable[..., InProcessExecutor],
) -> None:
    view = make_job()
    crashed, waiting = _queue(catalog, view), _queue(catalog, view)
    with catalog.session() as session:
        run = session.get(Run, crashed)
        assert run is not None
        run.status, run.worker = "running", None  # what a killed `lakegate serve` leaves
        session.commit()
    executor = executor_for(lambda c, s: StepOutcome("succeeded"))
    assert executor.start() == [crashed]
    assert executor.wait_idle(10)
    assert _status(catalog, crashed).status == "failed"
    assert _status(catalog, waiting).status == "succeeded"


def test_shutdown_interrupts_running_runs_and_leaves_queued_ones_queued(
    catalog: Catalog, make_job: Callable[..., JobView], settings: Settings
) -> None:
    runner = Runner(catalog.sessions, settings, step_functions={"quality": _busy})
    executor = InProcessExecutor(catalog.sessions, settings, max_workers=1, runner=runner)
    executor.start()
    view = make_job()
    first, second = _queue(catalog, view), _queue(catalog, view)
    executor.submit(first)
    executor.submit(second)
    _wait_for(lambda: _status(catalog, first).status == "running")
    executor.shutdown(timeout_s=5)
    assert _status(catalog, first).status == "failed"
    assert "server stopped" in (_status(catalog, first).error or "")
    assert _status(catalog, second).status == "queued"
