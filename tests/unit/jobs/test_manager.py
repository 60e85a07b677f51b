"""Every state change of a run: idempotent creation, cancel, finish races, crash recovery."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta

import pytest

from lakegate.catalog.base import utcnow
from lakegate.catalog.models.runs import Run
from lakegate.catalog.session import Catalog
from lakegate.jobs import manager
from lakegate.jobs.registry import JobView
from lakegate.jobs.states import IllegalTransitionError, RunStatus
from tests.unit.jobs.conftest import BOTH_CATALOGS

pytestmark = BOTH_CATALOGS


def _create(catalog: Catalog, view: JobView, **kwargs: object) -> manager.CreatedRun:
    with catalog.session() as session:
        created = manager.create_run(session, session.merge(view.job), **kwargs)  # type: ignore[arg-type]
        session.commit()
        return created


def test_create_run_records_a_queued_run_of_the_latest_version(
    catalog: Catalog, make_job: Callable[..., JobView]
) -> None:
    view = make_job(timeout_s=30)
    created = _create(catalog, view, parameters={"day": "2026-01-01"})
    assert created.created
    run = created.run
    assert (run.status, run.job_version, run.job_version_id) == ("queued", 1, view.version.id)
    assert run.timeout_s == 30 and run.parameters == {"day": "2026-01-01"}


def test_same_idempotency_key_returns_the_same_run(
    catalog: Catalog, make_job: Callable[..., JobView]
) -> None:
    view = make_job()
    first = _create(catalog, view, idempotency_key="k1")
    second = _create(catalog, view, idempotency_key="k1")
    third = _create(catalog, view, idempotency_key="k2")
    assert second.run.id == first.run.id and not second.created
    assert third.run.id != first.run.id and third.created
    with catalog.session() as session:
        assert session.query(Run).count() == 2


def test_cancel_is_idempotent_for_each_status(
    catalog: Catalog, make_job: Callable[..., JobView]
) -> None:
    view = make_job()
    queued = _create(catalog, view).run.id
    running = _create(catalog, view).run.id
    with catalog.session() as session:
        assert manager.claim(session, running)
    with catalog.session() as session:
        for run_id, expected in ((queued, "cancelled"), (running, "cancelling")):
            run = manager.get_run(session, run_id)
            assert manager.request_cancel(session, run).status == expected
            assert manager.request_cancel(session, run).status == expected  # again: no change
        session.commit()


def test_a_finished_run_never_changes_again(
    catalog: Catalog, make_job: Callable[..., JobView]
) -> None:
    run_id = _create(catalog, make_job()).run.id
    with catalog.session() as session:
        manager.claim(session, run_id)
        run = manager.get_run(session, run_id)
        manager.transition(session, run, RunStatus.timed_out, error="timed out after 1s")
        session.commit()
        # the runner finishing later must not overwrite the watchdog's timed_out
        assert manager.finish(session, run, RunStatus.succeeded).status == "timed_out"
        with pytest.raises(IllegalTransitionError):
            manager.transition(session, run, RunStatus.running)


def test_finish_loses_a_race_to_a_concurrent_writer(
    catalog: Catalog, make_job: Callable[..., JobView]
) -> None:
    """The runner's stale view (running) must not overwrite a concurrent cancel request."""
    run_id = _create(catalog, make_job()).run.id
    with catalog.session() as runner_session:
        manager.claim(runner_session, run_id)
        stale = manager.get_run(runner_session, run_id)
        with catalog.session() as api_session:
            manager.request_cancel(api_session, manager.get_run(api_session, run_id))
            api_session.commit()
        assert stale.status == "running"  # not refreshed yet
        final = manager.finish(runner_session, stale, RunStatus.succeeded)
        runner_session.commit()
    assert final.status == "cancelled"


def _dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout)


def test_recover_orphans_fails_runs_of_dead_processes_only(
    catalog: Catalog, make_job: Callable[..., JobView]
) -> None:
    view = make_job()
    host = socket.gethostname()
    dead = _create(catalog, view).run.id
    no_worker = _create(catalog, view).run.id
    cancelling = _create(catalog, view).run.id
    alive_here = _create(catalog, view).run.id
    remote_fresh = _create(catalog, view).run.id
    remote_stale = _create(catalog, view).run.id
    still_queued = _create(catalog, view).run.id
    parent = os.getppid()  # a live process that is not us
    with catalog.session() as session:
        for run_id, worker, beat in (
            (dead, f"{host}:{_dead_pid()}", utcnow()),
            (no_worker, None, utcnow()),
            (cancelling, f"{host}:{_dead_pid()}", utcnow()),
            (alive_here, f"{host}:{parent}", utcnow()),
            (remote_fresh, "other-host:1", utcnow()),
            (remote_stale, "other-host:1", utcnow() - timedelta(hours=1)),
        ):
            run = session.get(Run, run_id)
            assert run is not None
            run.status, run.worker, run.heartbeat_at, run.started_at = "running", worker, beat, beat
        cancel_run = session.get(Run, cancelling)
        assert cancel_run is not None
        cancel_run.status = "cancelling"
        session.commit()
    with catalog.session() as session:
        ended = manager.recover_orphans(session)
    assert sorted(ended) == sorted([dead, no_worker, cancelling, remote_stale])
    with catalog.session() as session:
        status = {r.id: r.status for r in session.query(Run)}
        error = session.get(Run, dead).error  # type: ignore[union-attr]
    assert status[dead] == status[no_worker] == status[remote_stale] == "failed"
    assert status[cancelling] == "cancelled"
    assert status[alive_here] == status[remote_fresh] == "running"
    assert status[still_queued] == "queued"
    assert "died" in (error or "")


def test_idempotency_race_loser_gets_the_winners_run(
    catalog: Catalog, make_job: Callable[..., JobView], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests with one key both miss the lookup; the unique constraint settles it."""
    view = make_job()
    winner = _create(catalog, view, idempotency_key="race")
    real_find = manager.find_by_idempotency_key
    calls: list[int] = []

    def miss_first(*args: object) -> Run | None:
        calls.append(1)
        return None if len(calls) == 1 else real_find(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(manager, "find_by_idempotency_key", miss_first)
    loser = _create(catalog, view, idempotency_key="race")
    assert len(calls) == 2  # the insert hit the constraint, then looked again
    assert loser.run.id == winner.run.id and not loser.created
    with catalog.session() as session:
        assert session.query(Run).count() == 1
