"""The runner and the run manager, with step functions injected in place of the engines.

The engines are tested by their own suites; here the point is the bookkeeping: each step
recorded, a failing step fails the run and skips the rest, a failing error-severity check
fails the run, an engine crash still ends the run terminal, retries of transient errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from lakegate.catalog.models.runs import QualityResult, Run, RunLog
from lakegate.catalog.session import Catalog
from lakegate.jobs import manager
from lakegate.jobs.models import JobDefinitionSpec
from lakegate.jobs.registry import JobView
from lakegate.jobs.runner import PlannedStep, Runner, StepContext, StepOutcome, StopToken
from lakegate.observability.redact import register_secret
from lakegate.settings import Settings


def _spec(n_quality: int = 2, **extra: Any) -> JobDefinitionSpec:
    steps = [
        {"type": "quality", "dataset": f"d{i}", "checks": [{"type": "row_count", "min": 1}]}
        for i in range(n_quality)
    ]
    return JobDefinitionSpec.model_validate({"name": "j", "steps": steps, **extra})


def _queue(catalog: Catalog, view: JobView, **kwargs: Any) -> str:
    with catalog.session() as session:
        job = session.merge(view.job)
        created = manager.create_run(session, job, **kwargs)
        session.commit()
        return created.run.id


def _run(catalog: Catalog, run_id: str) -> Run:
    with catalog.session() as session:
        run = manager.get_run(session, run_id)
        _ = run.steps, run.quality_results
        return run


def _runner(catalog: Catalog, settings: Settings, fn: Callable[..., StepOutcome]) -> Runner:
    return Runner(catalog.sessions, settings, step_functions={"quality": fn}, retry_backoff_s=0.01)


def test_success_records_every_step_and_ends_succeeded(
    catalog: Catalog, settings: Settings, make_job: Callable[..., JobView]
) -> None:
    seen: list[str] = []

    def ok(context: StepContext, step: PlannedStep) -> StepOutcome:
        seen.append(step.name)
        assert context.lake.path().endswith("acme/prod")
        return StepOutcome("succeeded", rows=5, quality_checks=[{"name": "rc", "status": "pass"}])

    run_id = _queue(catalog, make_job(spec=_spec(2)))
    assert _runner(catalog, settings, ok).execute(run_id) == "succeeded"
    run = _run(catalog, run_id)
    assert seen == ["d0", "d1"]
    assert run.status == "succeeded" and run.error is None
    assert run.started_at is not None and run.finished_at is not None
    assert [(s.position, s.status, s.rows) for s in run.steps] == [
        (0, "succeeded", 5),
        (1, "succeeded", 5),
    ]
    assert len(run.quality_results) == 2


def test_a_failing_step_fails_the_run_and_skips_the_rest(
    catalog: Catalog, settings: Settings, make_job: Callable[..., JobView]
) -> None:
    def fail_first(context: StepContext, step: PlannedStep) -> StepOutcome:
        return (
            StepOutcome("failed", error="checks failed: rc")
            if step.name == "d0"
            else StepOutcome("succeeded")
        )

    run_id = _queue(catalog, make_job(spec=_spec(3)))
    assert _runner(catalog, settings, fail_first).execute(run_id) == "failed"
    run = _run(catalog, run_id)
    assert [s.status for s in run.steps] == ["failed", "skipped", "skipped"]
    assert run.error == "step 0 (quality d0) failed: checks failed: rc"


def test_an_engine_crash_is_recorded_without_secrets_and_the_run_ends_failed(
    catalog: Catalog, settings: Settings, make_job: Callable[..., JobView]
) -> None:
    register_secret("hunter2-password")

    def crash(context: StepContext, step: PlannedStep) -> StepOutcome:
        raise RuntimeError("connect failed for user x password hunter2-password")

    run_id = _queue(catalog, make_job(spec=_spec(1)))
    assert _runner(catalog, settings, crash).execute(run_id) == "failed"
    run = _run(catalog, run_id)
    assert "RuntimeError: connect failed" in (run.error or "")
    assert "hunter2-password" not in (run.error or "")
    assert "hunter2-password" not in (run.steps[0].error or "")
    with catalog.session() as session:
        logs = session.scalars(select(RunLog.message).where(RunLog.run_id == run_id)).all()
    assert logs and not any("hunter2-password" in line for line in logs)


def test_transient_failures_are_retried_up_to_retries(
    catalog: Catalog, settings: Settings, make_job: Callable[..., JobView]
) -> None:
    calls: list[int] = []

    def flaky(context: StepContext, step: PlannedStep) -> StepOutcome:
        calls.append(1)
        if len(calls) < 3:
            return StepOutcome("failed", error="timeout", transient=True)
        return StepOutcome("succeeded")

    run_id = _queue(catalog, make_job(spec=_spec(1, retries=2)))
    assert _runner(catalog, settings, flaky).execute(run_id) == "succeeded"
    assert len(calls) == 3


def test_non_transient_failures_are_not_retried(
    catalog: Catalog, settings: Settings, make_job: Callable[..., JobView]
) -> None:
    calls: list[int] = []

    def broken(context: StepContext, step: PlannedStep) -> StepOutcome:
        calls.append(1)
        return StepOutcome("failed", error="no such table")

    run_id = _queue(catalog, make_job(spec=_spec(1, retries=3)))
    assert _runner(catalog, settings, broken).execute(run_id) == "failed"
    assert len(calls) == 1


def test_a_run_is_executed_once_even_if_submitted_twice(
    catalog: Catalog, settings: Settings, make_job: Callable[..., JobView]
) -> None:
    run_id = _queue(catalog, make_job(spec=_spec(1)))
    runner = _runner(catalog, settings, lambda c, s: StepOutcome("succeeded"))
    assert runner.execute(run_id) == "succeeded"
    assert runner.execute(run_id) is None


def test_cancel_seen_at_a_checkpoint_ends_cancelled(
    catalog: Catalog, settings: Settings, make_job: Callable[..., JobView]
) -> None:
    token = StopToken()

    def cancel_during(context: StepContext, step: PlannedStep) -> StepOutcome:
        with catalog.session() as session:  # what POST /runs/{id}:cancel does
            manager.request_cancel(session, manager.get_run(session, context.run_id))
            session.commit()
        token.stop("cancel")
        context.checkpoint()
        raise AssertionError("checkpoint must raise")

    run_id = _queue(catalog, make_job(spec=_spec(2)))
    assert _runner(catalog, settings, cancel_during).execute(run_id, token) == "cancelled"
    run = _run(catalog, run_id)
    assert [s.status for s in run.steps] == ["cancelled", "skipped"]
    assert run.cancel_requested_at is not None


def test_cancel_from_another_process_is_noticed_through_the_catalog(
    catalog: Catalog, settings: Settings, make_job: Callable[..., JobView]
) -> None:
    def cancel_via_db(context: StepContext, step: PlannedStep) -> StepOutcome:
        with catalog.session() as session:
            manager.request_cancel(session, manager.get_run(session, context.run_id))
            session.commit()
        context._last_poll = 0.0  # the next checkpoint polls the catalog
        context.checkpoint()
        raise AssertionError("checkpoint must raise")

    run_id = _queue(catalog, make_job(spec=_spec(1)))
    assert _runner(catalog, settings, cancel_via_db).execute(run_id) == "cancelled"


def test_error_severity_check_failure_fails_the_run_and_results_are_stored(
    catalog: Catalog, settings: Settings, make_job: Callable[..., JobView]
) -> None:
    def quality(context: StepContext, step: PlannedStep) -> StepOutcome:
        checks = [
            {"name": "rc", "type": "row_count", "status": "pass", "severity": "error"},
            {
                "name": "nn",
                "type": "not_null",
                "column": "id",
                "status": "fail",
                "severity": "error",
            },
        ]
        return StepOutcome(
            "failed", error="error-severity checks failed on d0: nn", quality_checks=checks
        )

    run_id = _queue(catalog, make_job(spec=_spec(1)))
    assert _runner(catalog, settings, quality).execute(run_id) == "failed"
    with catalog.session() as session:
        rows = session.scalars(select(QualityResult).where(QualityResult.run_id == run_id)).all()
    assert sorted((r.check_name, r.status, r.column) for r in rows) == [
        ("nn", "fail", "id"),
        ("rc", "pass", None),
    ]
