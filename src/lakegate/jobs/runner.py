"""Execute one run: its steps, in order, through the ingestion and quality engines.

The runner owns no engine logic. An ``ingest`` step becomes one
:class:`~lakegate.ingest.models.IngestJob` per table, loaded by
:func:`lakegate.ingest.pipeline.run_job` into the tenant's lake prefix
``<lake>/<tenant slug>/<environment>/``; a ``quality`` step calls
:func:`lakegate.quality.service.check` on a dataset of that prefix. Each table / check
set is one ``run_steps`` row. A run fails when a step errors or an error-severity check
fails; whatever happens (engine crash, cancel, timeout) it ends in a terminal status.

Steps are executed by :data:`StepFunction` callables keyed by step type
(:data:`DEFAULT_STEP_FUNCTIONS`), which tests replace to drive the state machine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog
from sqlalchemy.orm import Session, sessionmaker

from lakegate.catalog.models.jobs import JobDefinition, JobVersion
from lakegate.catalog.models.runs import Run, RunStep
from lakegate.catalog.models.tenants import Tenant
from lakegate.errors import LakegateError
from lakegate.jobs import callbacks, manager
from lakegate.jobs.models import IngestStep, IngestTable, JobDefinitionSpec, QualityStep
from lakegate.jobs.states import RunStatus, is_terminal
from lakegate.lake.layout import tenant_prefix
from lakegate.lake.storage import Lake
from lakegate.observability.redact import redact
from lakegate.settings import Settings

log = structlog.get_logger(__name__)

StopReason = Literal["cancel", "timeout", "shutdown"]
_POLL_S = 1.0


class RunInterruptedError(Exception):
    """Raised at a checkpoint when the run must stop (cancel, timeout, shutdown)."""

    def __init__(self, reason: StopReason) -> None:
        super().__init__(reason)
        self.reason: StopReason = reason


class StopToken:
    """Cooperative stop signal shared by the executor (which sets it) and the runner."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: StopReason | None = None

    def stop(self, reason: StopReason) -> None:
        """Ask the run to stop; the first reason wins."""
        if self.reason is None:
            self.reason = reason
        self._event.set()

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early when stopped; True when stopped."""
        return self._event.wait(seconds)


@dataclass
class PlannedStep:
    """One unit of work: an ingest table or a quality step."""

    type: str
    name: str
    step: IngestStep | QualityStep
    table: IngestTable | None = None


@dataclass
class StepOutcome:
    """What a step function reports."""

    status: Literal["succeeded", "failed"]
    rows: int | None = None
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    quality_checks: list[dict[str, Any]] | None = None
    transient: bool = False
    """True when retrying may help (only transient failures use the job's ``retries``)."""


@dataclass
class StepContext:
    """What a step function may use."""

    run_id: str
    job: JobDefinitionSpec
    job_id: str
    tenant: Tenant
    settings: Settings
    lake: Lake
    """The tenant's lake prefix."""
    sessions: sessionmaker[Session]
    token: StopToken
    parameters: dict[str, Any]
    _last_poll: float = 0.0

    def checkpoint(self) -> None:
        """Raise :class:`RunInterruptedError` when the run was cancelled or timed out.

        Also beats the run's heartbeat (at most once a second) and notices a cancel made
        by another process through the catalog.
        """
        if self.token.stopped:
            raise RunInterruptedError(self.token.reason or "cancel")
        now = time.monotonic()
        if now - self._last_poll < _POLL_S:
            return
        self._last_poll = now
        with self.sessions() as session:
            status = manager.heartbeat(session, self.run_id)
        if status == RunStatus.cancelling.value:
            self.token.stop("cancel")
        elif status == RunStatus.timed_out.value:
            self.token.stop("timeout")
        elif is_terminal(status):
            self.token.stop("cancel")
        if self.token.stopped:
            raise RunInterruptedError(self.token.reason or "cancel")


StepFunction = Callable[[StepContext, PlannedStep], StepOutcome]
"""Executes one planned step; may raise (the runner records the error)."""


def plan(spec: JobDefinitionSpec) -> list[PlannedStep]:
    """The run's units of work, in order: one per ingest table, one per quality step."""
    planned: list[PlannedStep] = []
    for step in spec.steps:
        if isinstance(step, IngestStep):
            for table in step.tables:
                where = ".".join(p for p in (step.connection, table.schema_name, table.table) if p)
                planned.append(PlannedStep("ingest", where, step, table))
        else:
            planned.append(PlannedStep("quality", step.dataset, step))
    return planned


def tenant_lake(tenant: Tenant, settings: Settings) -> Lake:
    """``<lake>/<tenant slug>/<environment>/``: where every file of the tenant's runs goes."""
    return Lake.from_url(settings.lake.url, settings).child(
        tenant_prefix(tenant.slug, tenant.environment)
    )


def _ingest_step(context: StepContext, planned: PlannedStep) -> StepOutcome:
    from lakegate.jobs.engines import run_ingest_table

    return run_ingest_table(context, planned)


def _quality_step(context: StepContext, planned: PlannedStep) -> StepOutcome:
    from lakegate.jobs.engines import run_quality_step

    return run_quality_step(context, planned)


DEFAULT_STEP_FUNCTIONS: Mapping[str, StepFunction] = {
    "ingest": _ingest_step,
    "quality": _quality_step,
}


def _error_line(exc: BaseException) -> str:
    if isinstance(exc, LakegateError):
        return redact(exc.message.splitlines()[0] if exc.message else type(exc).__name__)
    text = " ".join(str(exc).split())
    return redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


class Runner:
    """Executes runs claimed from the catalog (one call of :meth:`execute` per run)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        step_functions: Mapping[str, StepFunction] | None = None,
        retry_backoff_s: float = 2.0,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.step_functions = dict(step_functions or DEFAULT_STEP_FUNCTIONS)
        self.retry_backoff_s = retry_backoff_s

    def execute(
        self,
        run_id: str,
        token: StopToken | None = None,
        *,
        on_claimed: Callable[[Run], None] | None = None,
    ) -> str | None:
        """Claim and run ``run_id``; return its final status (None when not claimed).

        ``on_claimed`` is called once the run is ours (the executor starts its timeout
        clock there). Never raises for a failure of the run itself: it is recorded.
        """
        token = token or StopToken()
        with self.sessions() as session:
            if not manager.claim(session, run_id):
                return None
            run = manager.get_run(session, run_id)
            if on_claimed is not None:
                on_claimed(run)
            try:
                self._execute(session, run, token)
            except BaseException as exc:  # the run must end terminal whatever happened
                session.rollback()
                self._fail_hard(run_id, exc)
                if not isinstance(exc, Exception):
                    raise
            session.expire_all()
            final = manager.get_run(session, run_id)
            if final.callback_uri and is_terminal(final.status):
                callbacks.notify(final)
            return str(final.status)

    def _fail_hard(self, run_id: str, exc: BaseException) -> None:
        log.error("run.crashed", run_id=run_id, error=_error_line(exc))
        with self.sessions() as session:
            run = manager.get_run(session, run_id)
            manager.finish(
                session, run, RunStatus.failed, error=f"runner error: {_error_line(exc)}"
            )
            session.commit()

    def _execute(self, session: Session, run: Run, token: StopToken) -> None:
        version = session.get(JobVersion, run.job_version_id)
        job = session.get(JobDefinition, run.job_id)
        tenant = session.get(Tenant, run.tenant_id)
        if version is None or job is None or tenant is None:
            manager.finish(session, run, RunStatus.failed, error="job version or tenant is gone")
            session.commit()
            return
        spec = JobDefinitionSpec.model_validate(version.spec)
        planned = plan(spec)
        rows = manager.plan_steps(session, run, [(p.type, p.name) for p in planned])
        session.commit()
        context = StepContext(
            run_id=run.id,
            job=spec,
            job_id=job.id,
            tenant=tenant,
            settings=self.settings,
            lake=tenant_lake(tenant, self.settings),
            sessions=self.sessions,
            token=token,
            parameters=dict(run.parameters or {}),
        )
        failure: str | None = None
        index = 0
        try:
            for index, (item, row) in enumerate(zip(planned, rows, strict=True)):
                context.checkpoint()
                manager.start_step(session, row)
                session.commit()
                outcome = self._run_step(context, item, spec.retries)
                manager.finish_step(
                    session,
                    row,
                    outcome.status,
                    result=outcome.result,
                    rows=outcome.rows,
                    error=outcome.error,
                )
                if outcome.quality_checks is not None:
                    dataset = item.step.dataset if isinstance(item.step, QualityStep) else item.name
                    manager.record_quality(session, row, dataset, outcome.quality_checks)
                session.commit()
                if outcome.status == "failed":
                    failure = f"step {row.position} ({row.type} {row.name}) failed: {outcome.error}"
                    self._skip_rest(session, rows[index + 1 :])
                    break
        except RunInterruptedError as stop:
            session.rollback()
            self._stopped(session, run, rows[index:], stop.reason)
            return
        if failure is not None:
            manager.finish(session, run, RunStatus.failed, error=failure)
        else:
            manager.finish(session, run, RunStatus.succeeded)
        session.commit()

    def _run_step(self, context: StepContext, item: PlannedStep, retries: int) -> StepOutcome:
        function = self.step_functions.get(item.type)
        if function is None:
            return StepOutcome("failed", error=f"no executor for step type {item.type!r}")
        attempt = 0
        while True:
            try:
                outcome = function(context, item)
            except RunInterruptedError:
                raise
            except Exception as exc:  # an engine bug must not leave the run running
                transient = bool(getattr(exc, "transient", False))
                outcome = StepOutcome("failed", error=_error_line(exc), transient=transient)
            if outcome.status == "succeeded" or not outcome.transient or attempt >= retries:
                return outcome
            attempt += 1
            delay = min(self.retry_backoff_s * 2 ** (attempt - 1), 60.0)
            log.info("step.retry", run_id=context.run_id, step=item.name, attempt=attempt)
            if context.token.wait(delay):
                raise RunInterruptedError(context.token.reason or "cancel")

    def _skip_rest(self, session: Session, rest: list[RunStep]) -> None:
        for row in rest:
            manager.finish_step(session, row, "skipped")

    def _stopped(self, session: Session, run: Run, rest: list[RunStep], reason: StopReason) -> None:
        for row in rest:
            session.refresh(row)
            manager.finish_step(session, row, "cancelled" if row.status == "running" else "skipped")
        if reason == "timeout":
            timeout = run.timeout_s
            manager.finish(session, run, RunStatus.timed_out, error=f"timed out after {timeout}s")
        elif reason == "shutdown":
            manager.finish(session, run, RunStatus.failed, error="interrupted: the server stopped")
        else:
            manager.finish(session, run, RunStatus.cancelled, error="cancelled")
        session.commit()
