"""The periodic scheduler: due fire times give exactly one run each, on the real catalog.

Unit tests run on a file SQLite catalog with the clock handed to ``tick(now=...)``; one
test runs two schedulers concurrently on the real PostgreSQL of this machine; the CLI
tests go through ``lakegate scheduler`` (in-process entry point and a real process).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from structlog.testing import capture_logs

from lakegate.catalog.models import Tenant
from lakegate.catalog.models.jobs import JobDefinition, JobVersion
from lakegate.catalog.models.runs import Run
from lakegate.catalog.session import Catalog
from lakegate.cli import main
from lakegate.jobs import periodic, registry
from lakegate.jobs.periodic import (
    PeriodicScheduler,
    TickReport,
    fire_key,
    latest_fire_time,
    next_fire_time,
    wait_seconds,
)
from lakegate.jobs.registry import JobView
from lakegate.tenants.features import set_flags
from lakegate.tenants.quotas import RunRateLimiter, set_quota
from tests.unit.jobs.conftest import quality_job

LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    """An aware UTC datetime."""
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def backdate(catalog: Catalog, job_id: str, when: datetime) -> None:
    """Pretend the job (and every version of it) was created at ``when``."""
    with catalog.transaction() as session:
        session.execute(
            update(JobDefinition).where(JobDefinition.id == job_id).values(created_at=when)
        )
        session.execute(
            update(JobVersion).where(JobVersion.job_id == job_id).values(created_at=when)
        )


def scheduled(
    make_job: Callable[..., JobView],
    catalog: Catalog,
    cron: str,
    timezone: str = "UTC",
    *,
    name: str = "job",
    since: datetime = LONG_AGO,
) -> str:
    """A job with ``schedule: {cron, timezone}`` that exists since ``since``; its id."""
    view = make_job(name=name, schedule={"cron": cron, "timezone": timezone})
    backdate(catalog, view.job.id, since)
    return view.job.id


def runs_of(catalog: Catalog, job_id: str | None = None) -> list[Run]:
    """Runs (of one job), oldest fire time first."""
    with catalog.session() as session:
        query = select(Run).order_by(Run.idempotency_key)
        if job_id is not None:
            query = query.where(Run.job_id == job_id)
        return list(session.scalars(query))


@pytest.fixture
def submitted() -> list[str]:
    """Run ids handed to the (recording) executor."""
    return []


@pytest.fixture
def scheduler(catalog: Catalog, submitted: list[str]) -> PeriodicScheduler:
    """A scheduler on the test catalog whose executor only records what it is given."""
    return PeriodicScheduler(catalog.sessions, submit=submitted.append)


# -- fire times --------------------------------------------------------------------------


def test_latest_fire_time_includes_now_and_next_is_strictly_after() -> None:
    assert latest_fire_time("0 6 * * *", "UTC", utc(2026, 3, 10, 6, 0)) == utc(2026, 3, 10, 6, 0)
    assert latest_fire_time("0 6 * * *", "UTC", utc(2026, 3, 10, 5, 59, 59)) == utc(
        2026, 3, 9, 6, 0
    )
    assert next_fire_time("0 6 * * *", "UTC", utc(2026, 3, 10, 6, 0)) == utc(2026, 3, 11, 6, 0)


def test_fire_times_follow_the_timezone_across_both_dst_changes() -> None:
    ny = "America/New_York"
    # 02:00 EST is 07:00 UTC; 02:00 EDT is 06:00 UTC; on 2026-03-08 02:00 does not exist
    # and the job fires at the first minute after the gap (03:00 EDT = 07:00 UTC).
    assert latest_fire_time("0 2 * * *", ny, utc(2026, 3, 7, 12)) == utc(2026, 3, 7, 7)
    assert latest_fire_time("0 2 * * *", ny, utc(2026, 3, 8, 12)) == utc(2026, 3, 8, 7)
    assert latest_fire_time("0 2 * * *", ny, utc(2026, 3, 9, 12)) == utc(2026, 3, 9, 6)
    # Fall back (2026-11-01): 01:30 happens at 05:30 UTC (EDT) and at 06:30 UTC (EST);
    # a daily job fires at the first one only ...
    assert latest_fire_time("30 1 * * *", ny, utc(2026, 11, 1, 6, 45)) == utc(2026, 11, 1, 5, 30)
    assert next_fire_time("30 1 * * *", ny, utc(2026, 11, 1, 5, 30)) == utc(2026, 11, 2, 6, 30)
    # ... while a job with hour `*` runs in both occurrences of the repeated hour.
    assert latest_fire_time("30 * * * *", ny, utc(2026, 11, 1, 6, 45)) == utc(2026, 11, 1, 6, 30)


def test_wait_seconds_sleeps_until_the_next_fire_time_capped_by_the_interval() -> None:
    now = utc(2026, 3, 10, 5, 59, 50)
    soon = TickReport(at=now, scheduled=1, next_fire=utc(2026, 3, 10, 6, 0))
    assert wait_seconds(soon, now, 30.0) == pytest.approx(10.05)
    assert wait_seconds(soon, now, 5.0) == 5.0
    assert wait_seconds(TickReport(at=now, scheduled=0), now, 30.0) == 30.0
    late = TickReport(at=now, scheduled=1, next_fire=now - timedelta(seconds=3))
    assert wait_seconds(late, now, 30.0) == pytest.approx(0.2)


# -- ticks -------------------------------------------------------------------------------


def test_due_fire_creates_one_schedule_run_and_submits_it(
    catalog: Catalog,
    make_job: Callable[..., JobView],
    scheduler: PeriodicScheduler,
    submitted: list[str],
) -> None:
    job_id = scheduled(make_job, catalog, "0 6 * * *")
    report = scheduler.tick(now=utc(2026, 3, 10, 6, 0, 20))
    assert [f.outcome for f in report.fires] == ["created"]
    (run,) = runs_of(catalog)
    assert run.job_id == job_id and run.status == "queued"
    assert run.trigger == "schedule"
    assert run.idempotency_key == fire_key(job_id, utc(2026, 3, 10, 6))
    assert run.idempotency_key == f"schedule:{job_id}:2026-03-10T06:00:00+00:00"
    assert run.parameters == {"scheduled_for": "2026-03-10T06:00:00+00:00"}
    assert submitted == [run.id]
    assert report.next_fire == utc(2026, 3, 11, 6)


def test_not_due_before_the_first_fire_time_after_the_job_was_created(
    catalog: Catalog, make_job: Callable[..., JobView], scheduler: PeriodicScheduler
) -> None:
    job_id = scheduled(make_job, catalog, "0 6 * * *", since=utc(2026, 3, 10, 5))
    # yesterday's 06:00 is older than the job: not a missed fire
    assert scheduler.tick(now=utc(2026, 3, 10, 5, 59, 59)).fires == []
    assert runs_of(catalog) == []
    assert [f.outcome for f in scheduler.tick(now=utc(2026, 3, 10, 6)).fires] == ["created"]
    assert [r.job_id for r in runs_of(catalog)] == [job_id]


def test_no_double_fire_across_ticks_but_the_next_fire_time_fires(
    catalog: Catalog,
    make_job: Callable[..., JobView],
    scheduler: PeriodicScheduler,
    submitted: list[str],
) -> None:
    job_id = scheduled(make_job, catalog, "0 6 * * *")
    for second in (5, 35, 59):
        scheduler.tick(now=utc(2026, 3, 10, 6, 0, second))
    scheduler.tick(now=utc(2026, 3, 10, 18))
    assert len(runs_of(catalog)) == 1
    scheduler.tick(now=utc(2026, 3, 11, 6, 0, 1))
    keys = [r.idempotency_key for r in runs_of(catalog, job_id)]
    assert keys == [fire_key(job_id, utc(2026, 3, 10, 6)), fire_key(job_id, utc(2026, 3, 11, 6))]
    assert len(submitted) == 2


def test_two_scheduler_instances_fire_once(
    catalog: Catalog, make_job: Callable[..., JobView]
) -> None:
    scheduled(make_job, catalog, "*/15 * * * *")
    mine: list[str] = []
    theirs: list[str] = []
    first = PeriodicScheduler(catalog.sessions, submit=mine.append)
    second = PeriodicScheduler(catalog.sessions, submit=theirs.append)
    now = utc(2026, 3, 10, 6, 15, 3)
    assert len(first.tick(now=now).created) == 1
    assert second.tick(now=now).created == []
    # a restarted scheduler (new instance, no memory) does not fire it again either
    assert PeriodicScheduler(catalog.sessions).tick(now=now).created == []
    assert len(runs_of(catalog)) == 1 and len(mine) == 1 and theirs == []


def test_missed_fires_collapse_to_the_latest(
    catalog: Catalog, make_job: Callable[..., JobView], scheduler: PeriodicScheduler
) -> None:
    job_id = scheduled(make_job, catalog, "0 * * * *", since=utc(2026, 3, 10))
    scheduler.tick(now=utc(2026, 3, 10, 0, 0, 10))
    # down from 00:01 to 05:30: the 01:00 ... 05:00 fires were missed; one run, for 05:00
    report = scheduler.tick(now=utc(2026, 3, 10, 5, 30))
    assert [(f.outcome, f.fire_time) for f in report.fires] == [("created", utc(2026, 3, 10, 5))]
    assert [r.idempotency_key for r in runs_of(catalog, job_id)] == [
        fire_key(job_id, utc(2026, 3, 10, 0)),
        fire_key(job_id, utc(2026, 3, 10, 5)),
    ]


def test_dst_spring_forward_and_fall_back_in_new_york(
    catalog: Catalog, make_job: Callable[..., JobView], scheduler: PeriodicScheduler
) -> None:
    job_id = scheduled(make_job, catalog, "0 2 * * *", "America/New_York", name="spring")
    fall_id = scheduled(make_job, catalog, "30 1 * * *", "America/New_York", name="fall")
    # a tick every 15 minutes across the spring change, 2026-03-07 00:00 to 03-09 12:00 UTC
    minute = utc(2026, 3, 7)
    while minute <= utc(2026, 3, 9, 12):
        scheduler.tick(now=minute)
        minute += timedelta(minutes=15)
    fires = [r.parameters["scheduled_for"] for r in runs_of(catalog, job_id)]
    # the first tick also fires 03-06 02:00 EST (the latest missed); then one per day
    assert fires == [
        "2026-03-06T07:00:00+00:00",
        "2026-03-07T07:00:00+00:00",  # 02:00 EST
        "2026-03-08T07:00:00+00:00",  # 02:00 does not exist: 03:00 EDT
        "2026-03-09T06:00:00+00:00",  # 02:00 EDT
    ]
    # across the fall change, a tick every 5 minutes: 01:30 fires once (EDT), not twice
    minute = utc(2026, 11, 1, 4)
    while minute <= utc(2026, 11, 1, 8):
        scheduler.tick(now=minute)
        minute += timedelta(minutes=5)
    fall = [r.parameters["scheduled_for"] for r in runs_of(catalog, fall_id)]
    assert fall[-2:] == ["2026-10-31T05:30:00+00:00", "2026-11-01T05:30:00+00:00"]
    assert "2026-11-01T06:30:00+00:00" not in fall


def test_deactivated_tenant_is_skipped_and_unscheduled_or_deleted_jobs_ignored(
    catalog: Catalog,
    tenant: Tenant,
    make_job: Callable[..., JobView],
    scheduler: PeriodicScheduler,
) -> None:
    live = scheduled(make_job, catalog, "0 6 * * *", name="live")
    make_job(name="manual")  # no schedule
    gone = scheduled(make_job, catalog, "0 6 * * *", name="gone")
    with catalog.session() as session:
        registry.delete_job(session, tenant.id, gone)
        other = Tenant(slug="sleepy", name="Sleepy", environment="prod", status="deactivated")
        session.add(other)
        session.commit()
        dormant = registry.create_job(
            session, other.id, quality_job("dormant", schedule={"cron": "0 6 * * *"})
        ).job.id
    backdate(catalog, dormant, LONG_AGO)
    report = scheduler.tick(now=utc(2026, 3, 10, 6, 0, 5))
    assert report.scheduled == 1
    assert [r.job_id for r in runs_of(catalog)] == [live]
    # reactivated, its schedule runs again
    with catalog.transaction() as session:
        session.execute(update(Tenant).where(Tenant.slug == "sleepy").values(status="active"))
    scheduler.tick(now=utc(2026, 3, 10, 6, 0, 35))
    assert sorted(r.job_id for r in runs_of(catalog)) == sorted([live, dormant])


def test_schedules_feature_flag_off_skips_the_tenant(
    catalog: Catalog,
    tenant: Tenant,
    make_job: Callable[..., JobView],
    scheduler: PeriodicScheduler,
) -> None:
    job_id = scheduled(make_job, catalog, "0 6 * * *")
    with catalog.transaction() as session:
        set_flags(session, session.get(Tenant, tenant.id), {"schedules": False})  # type: ignore[arg-type]
    assert scheduler.tick(now=utc(2026, 3, 10, 6, 0, 5)).fires == []
    assert runs_of(catalog) == []
    with catalog.transaction() as session:
        set_flags(session, session.get(Tenant, tenant.id), {"schedules": True})  # type: ignore[arg-type]
    assert [f.job_id for f in scheduler.tick(now=utc(2026, 3, 10, 6, 0, 35)).created] == [job_id]


def test_quota_refusal_is_logged_and_skipped_not_fatal_nor_retried(
    catalog: Catalog, tenant: Tenant, make_job: Callable[..., JobView]
) -> None:
    first = scheduled(make_job, catalog, "0 6 * * *", name="a")
    second = scheduled(make_job, catalog, "0 6 * * *", name="b")
    with catalog.transaction() as session:
        set_quota(session, session.get(Tenant, tenant.id), {"max_runs_per_hour": 1})  # type: ignore[arg-type]
    scheduler = PeriodicScheduler(catalog.sessions, limiter=RunRateLimiter())
    with capture_logs() as logs:
        report = scheduler.tick(now=utc(2026, 3, 10, 6, 0, 5))
    outcomes = {f.job_id: f.outcome for f in report.fires}
    assert sorted(outcomes.values()) == ["created", "refused"]
    refused = next(f for f in report.fires if f.outcome == "refused")
    assert "max_runs_per_hour=1" in (refused.reason or "")
    warnings = [e for e in logs if e["event"] == "schedule.refused"]
    assert [e["job_id"] for e in warnings] == [refused.job_id]
    assert warnings[0]["log_level"] == "warning"
    # the refused fire time is skipped: the next tick does not try it again
    assert scheduler.tick(now=utc(2026, 3, 10, 6, 0, 35)).fires == []
    assert len(runs_of(catalog)) == 1 and {first, second} == set(outcomes)


def test_schedule_change_does_not_fire_times_before_it_but_other_edits_keep_it(
    catalog: Catalog, tenant: Tenant, make_job: Callable[..., JobView]
) -> None:
    moved = scheduled(make_job, catalog, "0 6 * * *", name="moved")
    edited = scheduled(make_job, catalog, "0 6 * * *", name="edited")
    with catalog.session() as session:
        registry.update_job(
            session, tenant.id, moved, quality_job("moved", schedule={"cron": "0 5 * * *"})
        )
        registry.update_job(
            session,
            tenant.id,
            edited,
            quality_job("edited", description="new words", schedule={"cron": "0 6 * * *"}),
        )
    changed_at = utc(2026, 3, 10, 10)
    with catalog.transaction() as session:
        session.execute(
            update(JobVersion).where(JobVersion.version == 2).values(created_at=changed_at)
        )
    report = PeriodicScheduler(catalog.sessions).tick(now=utc(2026, 3, 10, 10, 0, 30))
    # 'moved' got 0 5 * * * at 10:00: today's 05:00 predates it; 'edited' missed 06:00
    assert [(f.job_name, f.fire_time) for f in report.created] == [("edited", utc(2026, 3, 10, 6))]


def test_loop_fires_in_background_and_stops_cleanly(
    catalog: Catalog, make_job: Callable[..., JobView], submitted: list[str]
) -> None:
    scheduled(make_job, catalog, "0 0 1 1 *")  # 2026-01-01 00:00 UTC is already due
    scheduler = PeriodicScheduler(catalog.sessions, submit=submitted.append)
    scheduler.start(interval_s=0.2)
    deadline = time.monotonic() + 10
    while not submitted and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    scheduler.stop(timeout_s=5)
    assert time.monotonic() - started < 2
    assert len(submitted) == 1
    assert runs_of(catalog)[0].id == submitted[0]


def test_one_failing_job_does_not_stop_the_tick_and_is_retried(
    catalog: Catalog,
    make_job: Callable[..., JobView],
    scheduler: PeriodicScheduler,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = scheduled(make_job, catalog, "0 6 * * *", name="broken")
    healthy = scheduled(make_job, catalog, "0 6 * * *", name="healthy")
    real_trigger = periodic.runs.trigger_run

    def flaky(session: Any, tenant: Any, job_ref: str, **kwargs: Any) -> Any:
        if job_ref == broken:
            raise RuntimeError("catalog hiccup")
        return real_trigger(session, tenant, job_ref, **kwargs)

    monkeypatch.setattr(periodic.runs, "trigger_run", flaky)
    with capture_logs() as logs:
        report = scheduler.tick(now=utc(2026, 3, 10, 6, 0, 5))
    assert {f.job_id: f.outcome for f in report.fires} == {broken: "error", healthy: "created"}
    assert any(e["event"] == "schedule.failed" and e["job_id"] == broken for e in logs)
    monkeypatch.setattr(periodic.runs, "trigger_run", real_trigger)
    # an error (unlike a quota refusal) is retried at the next tick
    retry = scheduler.tick(now=utc(2026, 3, 10, 6, 0, 35))
    assert [(f.job_id, f.outcome) for f in retry.fires] == [(broken, "created")]


def test_loop_survives_an_unreadable_catalog(tmp_path: Path) -> None:
    broken = Catalog.from_url(f"sqlite:///{tmp_path / 'no-tables.db'}")  # never migrated
    scheduler = PeriodicScheduler(broken.sessions)
    try:
        with capture_logs() as logs:
            scheduler.start(interval_s=0.5)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(
                e["event"] == "scheduler.tick_failed" for e in logs
            ):
                time.sleep(0.05)
            assert scheduler.running  # the failure was logged, the loop goes on
            scheduler.stop(timeout_s=5)
        assert not scheduler.running
        failed = [e for e in logs if e["event"] == "scheduler.tick_failed"]
        assert failed and "no such table" in failed[0]["error"]
    finally:
        broken.dispose()


def test_concurrent_schedulers_on_postgresql_never_double_fire(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two schedulers, each with its own engine, tick the same instants at the same time.

    Both read "no run yet for these fire times" before either writes (a barrier after
    the read), so every fire time is raced for: PostgreSQL's unique constraint on the
    idempotency key must give one ``created`` and one ``exists`` per job.
    """
    read_existing = periodic._existing_keys
    gate: list[threading.Barrier] = []

    def racing_read(session: Any, jobs_keys: Any) -> set[str]:
        found = read_existing(session, jobs_keys)
        gate[-1].wait(timeout=30)
        return found

    monkeypatch.setattr(periodic, "_existing_keys", racing_read)
    catalogs = [Catalog.from_url(pg_url), Catalog.from_url(pg_url)]
    catalogs[0].create_all()
    try:
        with catalogs[0].transaction() as session:
            owner = Tenant(slug="race", name="Race", environment="prod", status="active")
            session.add(owner)
        job_ids = []
        for index in range(6):
            with catalogs[0].session() as session:
                view = registry.create_job(
                    session, owner.id, quality_job(f"j{index}", schedule={"cron": "*/5 * * * *"})
                )
            backdate(catalogs[0], view.job.id, LONG_AGO)
            job_ids.append(view.job.id)
        handed: list[list[str]] = [[], []]
        schedulers = [
            PeriodicScheduler(c.sessions, submit=handed[i].append) for i, c in enumerate(catalogs)
        ]
        instants = [utc(2026, 3, 10, 6, 0, 1), utc(2026, 3, 10, 6, 5, 1), utc(2026, 3, 10, 6, 10)]
        for now in instants:
            barrier = threading.Barrier(2)
            gate.append(threading.Barrier(2))
            reports: list[TickReport] = []

            def tick(
                index: int,
                now: datetime = now,
                barrier: threading.Barrier = barrier,
                reports: list[TickReport] = reports,
            ) -> None:
                barrier.wait()
                reports.append(schedulers[index].tick(now=now))

            threads = [threading.Thread(target=tick, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert len(reports) == 2
            outcomes = sorted(f.outcome for r in reports for f in r.fires)
            assert outcomes == ["created"] * len(job_ids) + ["exists"] * len(job_ids)
        with catalogs[0].session() as session:
            per_job = dict(
                session.execute(select(Run.job_id, func.count()).group_by(Run.job_id)).all()
            )
            total = session.scalar(select(func.count()).select_from(Run))
        assert per_job == {job_id: len(instants) for job_id in job_ids}
        assert total == len(job_ids) * len(instants)
        every = handed[0] + handed[1]
        assert len(every) == len(set(every)) == total  # each run handed to one executor
    finally:
        for c in catalogs:
            c.dispose()


# -- lakegate scheduler ------------------------------------------------------------------


def _cli_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Catalog, str, str]:
    """A migrated SQLite catalog at $LAKEGATE_DATABASE_URL with one due yearly job."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("LAKEGATE_DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    catalog = Catalog.from_url(url)
    with catalog.transaction() as session:
        owner = Tenant(slug="acme", name="Acme", environment="prod", status="active")
        session.add(owner)
    with catalog.session() as session:
        job_id = registry.create_job(
            session, owner.id, quality_job("yearly", schedule={"cron": "0 0 1 1 *"})
        ).job.id
    backdate(catalog, job_id, LONG_AGO)
    return catalog, url, job_id


def test_cli_scheduler_once_creates_and_executes_the_due_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog, _url, job_id = _cli_catalog(tmp_path, monkeypatch)
    capsys.readouterr()
    try:
        assert main(["scheduler", "--once", "--output", "json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["scheduled_jobs"] == 1
        (fire,) = out["fires"]
        assert fire["outcome"] == "created" and fire["job"] == "yearly"
        (run,) = runs_of(catalog)
        assert fire["run_id"] == run.id
        assert run.trigger == "schedule" and run.job_id == job_id
        year = datetime.now(UTC).year
        assert run.idempotency_key == fire_key(job_id, utc(year, 1, 1))
        # --once waited for the run: it ended (failed: the lake has no 'orders' dataset)
        assert fire["run_status"] == run.status
        assert run.status in {"succeeded", "failed"}
        # a second pass fires nothing new
        assert main(["scheduler", "--once", "--output", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["fires"] == []
        assert len(runs_of(catalog)) == 1
    finally:
        catalog.dispose()


def test_cli_scheduler_refuses_an_unmigrated_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAKEGATE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["scheduler", "--once", "--no-migrate"]) == 2
    err = capsys.readouterr().err
    assert "lakegate db upgrade" in err and "Traceback" not in err


def test_cli_scheduler_unreachable_catalog_is_one_line_without_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAKEGATE_DATABASE_URL", "postgresql://lg:Sup3rS3cret@127.0.0.1:1/lg")
    assert main(["scheduler", "--once", "--no-migrate"]) == 1
    captured = capsys.readouterr()
    err_lines = [line for line in captured.err.splitlines() if line.strip()]
    assert err_lines[-1].startswith("error: catalog database unreachable")
    assert "Sup3rS3cret" not in captured.err + captured.out
    assert "Traceback" not in captured.err


def test_cli_scheduler_process_stops_cleanly_on_sigterm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, url, job_id = _cli_catalog(tmp_path, monkeypatch)
    catalog.dispose()
    env: dict[str, Any] = {**os.environ, "LAKEGATE_DATABASE_URL": url}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from lakegate.cli import run; run()",
            "scheduler",
            "--interval",
            "1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    catalog = Catalog.from_url(url)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not runs_of(catalog, job_id):
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
        (run,) = runs_of(catalog, job_id)
    finally:
        if process.poll() is None:
            process.kill()
        catalog.dispose()
    assert process.returncode == 0, err
    assert "created: acme/yearly" in out
    assert run.trigger == "schedule"
