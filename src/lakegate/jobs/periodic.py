"""The periodic role: fire runs of job definitions that carry ``schedule: {cron, timezone}``.

Each :meth:`PeriodicScheduler.tick` reads, in one query, the latest version of every live
job of an **active** tenant that has a schedule, works out the latest fire time at or
before ``now`` in the schedule's timezone (croniter), and triggers a run for it through
:func:`lakegate.jobs.runs.trigger_run` — the same door the API uses, so quotas and the
run's state machine apply unchanged — with ``trigger="schedule"`` and the idempotency key
:func:`fire_key` (``schedule:<job id>:<fire time, UTC ISO>``). Guarantees:

* **Exactly once per fire time.** The key is deterministic, and the catalog's unique
  constraint on ``(tenant_id, job_id, idempotency_key)`` settles a race: two schedulers,
  or a scheduler and its restarted self, both get the same run; only the one that
  created it hands it to its executor.
* **No backlog.** Only the *latest* fire time is ever considered, so a scheduler that was
  down for a day fires a job once (for the latest missed time), not once per missed time.
  Fire times from before the current schedule existed (job created, or its schedule
  changed, later) are not fired.
* **Deactivated tenants stop.** Their jobs are not read at all; a tenant whose
  ``schedules`` feature flag is off (OpenFeature, :mod:`lakegate.tenants.features`) is
  skipped the same way.
* **Quotas as for the API.** A quota refusal (429) is logged and that fire time skipped —
  not retried at the next tick (the next fire time is the next chance); a tick never
  fails because of one job.
* **DST.** Wall-clock times come from croniter in the schedule's timezone: a time that
  does not exist (spring forward) fires at the first valid minute after the gap (03:00
  for ``0 2 * * *`` in ``America/New_York``); a time that happens twice (fall back) fires
  once, at its first occurrence, unless the hour field is ``*`` (then both occurrences
  are distinct fire times, as in cron).

The clock is a parameter (``tick(now=...)``, ``clock=``), so tests are deterministic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lakegate.catalog.base import utcnow
from lakegate.catalog.models.jobs import JobDefinition, JobVersion
from lakegate.catalog.models.runs import Run
from lakegate.catalog.models.tenants import Tenant
from lakegate.errors import LakegateError, NotFoundError, PermissionDeniedError, QuotaExceededError
from lakegate.jobs import runs
from lakegate.jobs.manager import as_utc
from lakegate.observability.logging import get_logger
from lakegate.tenants.features import FeatureFlags
from lakegate.tenants.quotas import RunRateLimiter

log = get_logger(__name__)

TRIGGER = "schedule"
FEATURE = "schedules"
"""The tenant feature flag that turns its schedules on (default) or off."""
"""``Run.trigger`` of the runs this module creates."""
KEY_PREFIX = "schedule:"
"""Idempotency keys of scheduled runs start with this."""
MIN_WAIT_S = 0.2
"""Shortest sleep of the loop between two ticks (no busy loop near a fire time)."""
_KEY_CHUNK = 500

FireOutcome = Literal["created", "exists", "refused", "error"]
"""What a tick did for one due fire time: a new run, an existing one (another scheduler
or an earlier tick made it), a quota/tenant refusal (skipped), or an error (logged)."""


# -- fire times ------------------------------------------------------------------------


def fire_key(job_id: str, fire_time: datetime) -> str:
    """The idempotency key of the run of ``job_id`` for ``fire_time`` (UTC ISO)."""
    return f"{KEY_PREFIX}{job_id}:{fire_time.astimezone(UTC).isoformat()}"


def _is_repeated_wall_time(fire: datetime, zone: ZoneInfo) -> bool:
    """True for the second occurrence of a wall-clock time (the hour a DST change repeats)."""
    wall = fire.astimezone(zone).replace(tzinfo=None)
    first = wall.replace(tzinfo=zone, fold=0)
    return first.astimezone(UTC) < fire.astimezone(UTC)


def latest_fire_time(cron: str, timezone: str, now: datetime) -> datetime:
    """The latest fire time of ``cron`` in ``timezone`` at or before ``now`` (aware, UTC).

    The repeated hour of a fall-back DST change counts once, unless the cron's hour field
    is ``*`` (a job every N minutes runs in both occurrences of that hour).
    """
    zone = ZoneInfo(timezone)
    every_hour = cron.split()[1] == "*"
    now = now.astimezone(UTC)
    # get_prev is strictly before its start: start one second after `now` to include it.
    start = now.astimezone(zone).replace(microsecond=0) + timedelta(seconds=1)
    # croniter's get_prev can land an occurrence off inside a repeated hour, its get_next
    # does not: step back two fire times, then walk forward to the last one <= now.
    back = croniter(cron, start)
    earlier: datetime = back.get_prev(datetime)
    for _ in range(2):
        earlier = back.get_prev(datetime)
    best: datetime | None = None
    forward = croniter(cron, earlier)
    candidate = earlier
    for _ in range(64):  # a few steps: `earlier` is at most three fire times back
        if candidate.astimezone(UTC) > now:
            break
        if every_hour or not _is_repeated_wall_time(candidate, zone):
            best = candidate
        candidate = forward.get_next(datetime)
    if best is None:  # only repeated wall times were in reach: the one before them
        return latest_fire_time(cron, timezone, earlier.astimezone(UTC) - timedelta(seconds=1))
    return best.astimezone(UTC)


def next_fire_time(cron: str, timezone: str, now: datetime) -> datetime:
    """The first fire time of ``cron`` in ``timezone`` strictly after ``now`` (aware, UTC)."""
    zone = ZoneInfo(timezone)
    every_hour = cron.split()[1] == "*"
    times = croniter(cron, now.astimezone(zone))
    for _ in range(4):
        fire: datetime = times.get_next(datetime)
        if every_hour or not _is_repeated_wall_time(fire, zone):
            return fire.astimezone(UTC)
    return fire.astimezone(UTC)


# -- what is scheduled -------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledJob:
    """A live job of an active tenant whose latest version has a schedule."""

    tenant_id: str
    tenant_slug: str
    job_id: str
    job_name: str
    version: int
    cron: str
    timezone: str


def scheduled_jobs(session: Session) -> list[ScheduledJob]:
    """Every scheduled job of an active tenant (latest versions only), in job id order."""
    query = (
        select(
            Tenant.id,
            Tenant.slug,
            JobDefinition.id,
            JobDefinition.name,
            JobDefinition.latest_version,
            JobVersion.schedule_cron,
            JobVersion.schedule_timezone,
        )
        .join(JobDefinition, JobDefinition.tenant_id == Tenant.id)
        .join(
            JobVersion,
            (JobVersion.job_id == JobDefinition.id)
            & (JobVersion.version == JobDefinition.latest_version),
        )
        .where(
            Tenant.status == "active",
            JobDefinition.deleted.is_(False),
            JobVersion.schedule_cron.is_not(None),
        )
        .order_by(JobDefinition.id)
    )
    return [
        ScheduledJob(
            tenant_id=tenant_id,
            tenant_slug=slug,
            job_id=job_id,
            job_name=name,
            version=version,
            cron=str(cron),
            timezone=zone or "UTC",
        )
        for tenant_id, slug, job_id, name, version, cron, zone in session.execute(query)
    ]


def schedule_since(session: Session, job_id: str) -> datetime:
    """When the job's current schedule came into effect.

    The creation time of the oldest version in the unbroken run of latest versions that
    carry the same ``(cron, timezone)``: editing a job's description keeps the anchor,
    changing its schedule moves it (so a new schedule never fires a time before it).
    """
    rows = session.execute(
        select(JobVersion.schedule_cron, JobVersion.schedule_timezone, JobVersion.created_at)
        .where(JobVersion.job_id == job_id)
        .order_by(JobVersion.version.desc())
    ).all()
    if not rows:
        raise NotFoundError(f"job {job_id!r} has no version")
    current = (rows[0][0], rows[0][1])
    since = rows[0][2]
    for cron, zone, created in rows:
        if (cron, zone) != current:
            break
        since = created
    stamp = as_utc(since)
    assert stamp is not None
    return stamp


def _existing_keys(session: Session, jobs_keys: Sequence[tuple[ScheduledJob, str]]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(jobs_keys), _KEY_CHUNK):
        chunk = jobs_keys[start : start + _KEY_CHUNK]
        query = select(Run.idempotency_key).where(
            Run.tenant_id.in_({job.tenant_id for job, _ in chunk}),
            Run.job_id.in_({job.job_id for job, _ in chunk}),
            Run.idempotency_key.in_([key for _, key in chunk]),
        )
        found.update(str(key) for key in session.scalars(query))
    return found


# -- the scheduler -----------------------------------------------------------------------


@dataclass(frozen=True)
class Fire:
    """What a tick did about one job's due fire time."""

    tenant_slug: str
    job_id: str
    job_name: str
    fire_time: datetime
    outcome: FireOutcome
    run_id: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """JSON-ready form (``lakegate scheduler --output json``)."""
        return {
            "tenant": self.tenant_slug,
            "job_id": self.job_id,
            "job": self.job_name,
            "fire_time": self.fire_time.isoformat(),
            "outcome": self.outcome,
            "run_id": self.run_id,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class TickReport:
    """The result of one tick: what was due, and when the next fire time is."""

    at: datetime
    scheduled: int
    fires: list[Fire] = field(default_factory=list)
    next_fire: datetime | None = None

    @property
    def created(self) -> list[Fire]:
        """The fires that created a run in this tick."""
        return [fire for fire in self.fires if fire.outcome == "created"]


class PeriodicScheduler:
    """Fires due schedules; :meth:`tick` once, or :meth:`run` / :meth:`start` in a loop.

    ``submit`` receives the id of every run this scheduler created (an executor's
    ``submit``); ``limiter`` enforces the tenants' run-rate quotas like the API's;
    ``features`` evaluates the tenants' ``schedules`` flag (built on ``sessions`` when
    omitted); ``clock`` gives "now" when :meth:`tick` is not handed one.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        limiter: RunRateLimiter | None = None,
        submit: Callable[[str], None] | None = None,
        features: FeatureFlags | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.limiter = limiter or RunRateLimiter()
        self.features = features or FeatureFlags(sessions)
        self.submit = submit
        self.clock = clock
        self._since: dict[tuple[str, int], datetime] = {}
        self._refused: dict[str, str] = {}  # job id -> key of the fire time refused
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one tick --------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> TickReport:
        """Trigger one run for every due fire time that has none yet; never raises per job.

        Errors reading the catalog itself propagate (the loop logs them and retries).
        """
        now = (now or self.clock()).astimezone(UTC)
        with self.sessions() as session:
            jobs = scheduled_jobs(session)
            candidates: list[tuple[ScheduledJob, datetime, str]] = []
            next_fire: datetime | None = None
            for job in jobs:
                try:
                    fire = latest_fire_time(job.cron, job.timezone, now)
                    upcoming = next_fire_time(job.cron, job.timezone, now)
                except (ValueError, KeyError) as exc:  # validated on write; never stop a tick
                    log.error("schedule.invalid", job_id=job.job_id, error=str(exc))
                    continue
                next_fire = upcoming if next_fire is None else min(next_fire, upcoming)
                candidates.append((job, fire, fire_key(job.job_id, fire)))
            done = _existing_keys(session, [(job, key) for job, _, key in candidates])
            due = [
                (job, fire, key)
                for job, fire, key in candidates
                if key not in done
                and self._refused.get(job.job_id) != key
                and fire >= self._schedule_since(session, job)
            ]
            enabled = self._schedules_enabled(session, {job.tenant_id for job, _, _ in due})
            fires = [
                self._fire(session, job, fire, key)
                for job, fire, key in due
                if job.tenant_id in enabled
            ]
        report = TickReport(at=now, scheduled=len(jobs), fires=fires, next_fire=next_fire)
        log.debug("scheduler.tick", scheduled=len(jobs), fired=len(report.created))
        return report

    def _schedules_enabled(self, session: Session, tenant_ids: set[str]) -> set[str]:
        """The tenants among ``tenant_ids`` whose ``schedules`` feature flag is on."""
        enabled: set[str] = set()
        for tenant_id in sorted(tenant_ids):
            tenant = session.get(Tenant, tenant_id)
            if tenant is not None and self.features.is_enabled(tenant, FEATURE):
                enabled.add(tenant_id)
            else:
                log.debug("schedule.feature_off", tenant_id=tenant_id, flag=FEATURE)
        return enabled

    def _schedule_since(self, session: Session, job: ScheduledJob) -> datetime:
        cache_key = (job.job_id, job.version)
        since = self._since.get(cache_key)
        if since is None:
            since = self._since[cache_key] = schedule_since(session, job.job_id)
        return since

    def _fire(self, session: Session, job: ScheduledJob, fire: datetime, key: str) -> Fire:
        def result(
            outcome: FireOutcome, run_id: str | None = None, reason: str | None = None
        ) -> Fire:
            return Fire(job.tenant_slug, job.job_id, job.job_name, fire, outcome, run_id, reason)

        try:
            tenant = session.get(Tenant, job.tenant_id)
            if tenant is None:
                raise NotFoundError(f"tenant {job.tenant_id!r} not found")
            created = runs.trigger_run(
                session,
                tenant,
                job.job_id,
                limiter=self.limiter,
                trigger=TRIGGER,
                idempotency_key=key,
                parameters={"scheduled_for": fire.isoformat()},
            )
        except (QuotaExceededError, PermissionDeniedError) as exc:
            session.rollback()
            self._refused[job.job_id] = key
            log.warning(
                "schedule.refused",
                tenant=job.tenant_slug,
                job_id=job.job_id,
                fire_time=fire.isoformat(),
                reason=exc.message,
            )
            return result("refused", reason=exc.message)
        except Exception as exc:  # one job never stops the others; transient ones retry
            session.rollback()
            reason = exc.message if isinstance(exc, LakegateError) else str(exc)
            log.error(
                "schedule.failed",
                tenant=job.tenant_slug,
                job_id=job.job_id,
                fire_time=fire.isoformat(),
                error=reason,
            )
            return result("error", reason=reason)
        run_id = created.run.id
        if not created.created:
            return result("exists", run_id)
        log.info(
            "schedule.fired",
            tenant=job.tenant_slug,
            job_id=job.job_id,
            job=job.job_name,
            fire_time=fire.isoformat(),
            run_id=run_id,
        )
        if self.submit is not None:
            try:
                self.submit(run_id)
            except Exception as exc:  # the run stays queued: the next executor start takes it
                log.error("schedule.submit_failed", run_id=run_id, error=str(exc))
        return result("created", run_id)

    # -- the loop ----------------------------------------------------------------------

    def run(
        self,
        *,
        interval_s: float = 30.0,
        stop: threading.Event | None = None,
        on_tick: Callable[[TickReport], None] | None = None,
    ) -> None:
        """Tick until ``stop`` (or :meth:`stop`) is set; ``on_tick`` sees every report.

        Sleeps until the next fire time, at most ``interval_s`` (so new or edited jobs are
        seen within that), and retries after ``interval_s`` when the catalog fails.
        """
        stop = stop or self._stop
        log.info("scheduler.started", interval_s=interval_s)
        while not stop.is_set():
            try:
                report = self.tick()
                if on_tick is not None:
                    on_tick(report)
                wait = wait_seconds(report, self.clock(), interval_s)
            except Exception as exc:  # catalog unreachable: say so and try again later
                log.error("scheduler.tick_failed", error=str(exc))
                wait = interval_s
            stop.wait(wait)
        log.info("scheduler.stopped")

    def start(self, *, interval_s: float = 30.0) -> None:
        """Run the loop in a daemon thread (``lakegate serve`` with the scheduler enabled)."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run,
            kwargs={"interval_s": interval_s},
            name="lakegate-scheduler",
            daemon=True,
        )
        self._thread.start()

    @property
    def running(self) -> bool:
        """True while the loop started by :meth:`start` runs."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the loop started by :meth:`start` (or :meth:`run` without ``stop``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
            self._thread = None


def wait_seconds(report: TickReport, now: datetime, interval_s: float) -> float:
    """How long the loop sleeps after ``report``: until the next fire time, capped."""
    if report.next_fire is None:
        return interval_s
    until = (report.next_fire - now).total_seconds() + 0.05
    return max(MIN_WAIT_S, min(interval_s, until))
