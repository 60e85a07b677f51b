"""Tenant quotas: run rates (``limits`` library), concurrency and storage.

Rates use a moving window on Redis when ``LAKEGATE_REDIS_URL`` is set (shared by every
API process and worker) and in process memory otherwise. The job platform calls
:func:`acquire_run_slot` before it records a new run::

    acquire_run_slot(tenant, session, limiter)   # raises QuotaExceededError (429 + Retry-After)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from limits import RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lakegate.catalog.base import utcnow
from lakegate.catalog.models import Quota, Tenant
from lakegate.catalog.models.runs import Run
from lakegate.catalog.repositories import AuditRepository
from lakegate.errors import LakegateError, PermissionDeniedError, QuotaExceededError
from lakegate.observability.logging import get_logger
from lakegate.observability.redact import redact
from lakegate.settings import Settings

ACTIVE_RUN_STATUSES = ("queued", "running", "cancelling")
"""Runs that count against ``max_concurrent_runs``."""
CONCURRENCY_RETRY_AFTER_S = 30
"""Retry-After when the tenant is at its concurrency limit (no window to wait for)."""
log = get_logger(__name__)
QUOTA_FIELDS = (
    "max_runs_per_minute",
    "max_runs_per_hour",
    "max_concurrent_runs",
    "max_dataset_bytes",
    "max_storage_bytes",
)


class RateLimitUnavailableError(LakegateError):
    """The rate-limit storage (Redis) cannot be reached: 503, retry shortly."""

    http_status = 503
    transient = True
    title = "Rate limiting unavailable"
    retry_after_s = 5


class RunRateLimiter:
    """Moving-window counters of run starts per tenant."""

    def __init__(
        self,
        storage_uri: str = "memory://",
        *,
        namespace: str = "lakegate",
        settings: Settings | None = None,
    ) -> None:
        self.storage_uri = storage_uri
        self.namespace = namespace
        self.settings = settings
        """When set, :func:`acquire_run_slot` also enforces ``max_storage_bytes`` on this lake."""
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    @classmethod
    def from_settings(cls, settings: Settings) -> RunRateLimiter:
        """Redis when ``settings.redis_url`` is set, memory otherwise."""
        return cls(settings.redis_url or "memory://", settings=settings)

    def _limits(self, quota: Quota) -> list[tuple[str, int, object]]:
        items: list[tuple[str, int, object]] = []
        if quota.max_runs_per_minute is not None:
            items.append(
                (
                    "max_runs_per_minute",
                    quota.max_runs_per_minute,
                    RateLimitItemPerMinute(quota.max_runs_per_minute, namespace=self.namespace),
                )
            )
        if quota.max_runs_per_hour is not None:
            items.append(
                (
                    "max_runs_per_hour",
                    quota.max_runs_per_hour,
                    RateLimitItemPerHour(quota.max_runs_per_hour, namespace=self.namespace),
                )
            )
        return items

    def hit(self, tenant: Tenant, quota: Quota) -> None:
        """Count one run start, or raise QuotaExceededError with the seconds to wait.

        Every window is tested before any is hit, so a rejected start costs nothing.
        """
        items = self._limits(quota)
        try:
            for field, amount, item in items:
                if not self._limiter.test(item, "runs", tenant.id):  # type: ignore[arg-type]
                    stats = self._limiter.get_window_stats(item, "runs", tenant.id)  # type: ignore[arg-type]
                    wait = max(1, math.ceil(stats.reset_time - time.time()))
                    raise QuotaExceededError(
                        f"tenant {tenant.slug!r} reached {field}={amount}; retry in {wait}s",
                        retry_after_s=wait,
                    )
            for _field, _amount, item in items:
                self._limiter.hit(item, "runs", tenant.id)  # type: ignore[arg-type]
        except QuotaExceededError:
            raise
        except Exception as exc:  # Redis down: say so, transient, without its URL
            raise RateLimitUnavailableError(
                f"rate limit storage unavailable: {redact(str(exc))}"
            ) from exc

    def reset(self, tenant: Tenant, quota: Quota) -> None:
        """Forget the tenant's counters (tests, or an admin raising a quota mid-window)."""
        for _field, _amount, item in self._limits(quota):
            self._limiter.clear(item, "runs", tenant.id)  # type: ignore[arg-type]


def get_quota(session: Session, tenant: Tenant) -> Quota:
    """The tenant's quota row (an unlimited one, not yet stored, when none is set)."""
    quota = session.get(Quota, tenant.id)
    return quota if quota is not None else Quota(tenant_id=tenant.id)


def set_quota(session: Session, tenant: Tenant, values: dict[str, int | None]) -> Quota:
    """Replace the tenant's quotas (the caller commits)."""
    quota = session.get(Quota, tenant.id)
    if quota is None:
        quota = Quota(tenant_id=tenant.id)
        session.add(quota)
    for field in QUOTA_FIELDS:
        setattr(quota, field, values.get(field))
    session.flush()
    return quota


def update_quota(
    session: Session, tenant: Tenant, values: dict[str, int | None], *, actor: str
) -> Quota:
    """Replace the tenant's quotas, audit the change and commit."""
    quota = set_quota(session, tenant, values)
    AuditRepository(session).record(
        actor=actor,
        action="quota.updated",
        resource_type="quota",
        resource_id=tenant.id,
        tenant_id=tenant.id,
        details={field: values.get(field) for field in QUOTA_FIELDS},
    )
    session.commit()
    return quota


def active_runs(session: Session, tenant: Tenant) -> int:
    """Runs of the tenant that are queued, running or cancelling."""
    count = session.scalar(
        select(func.count())
        .select_from(Run)
        .where(Run.tenant_id == tenant.id, Run.status.in_(ACTIVE_RUN_STATUSES))
    )
    return int(count or 0)


def runs_since(session: Session, tenant: Tenant, seconds: int) -> int:
    """Runs of the tenant created in the last ``seconds``."""
    since = utcnow() - timedelta(seconds=seconds)
    count = session.scalar(
        select(func.count())
        .select_from(Run)
        .where(Run.tenant_id == tenant.id, Run.created_at >= since)
    )
    return int(count or 0)


def acquire_run_slot(tenant: Tenant, session: Session, limiter: RunRateLimiter) -> None:
    """Admit one new run of ``tenant`` or raise.

    PermissionDeniedError (403) for a deactivated tenant; QuotaExceededError (429, with
    ``retry_after_s``) at ``max_concurrent_runs`` or a runs-per-minute/hour limit, and
    (429, no retry) when the tenant's lake prefix is over ``max_storage_bytes`` — checked
    when the limiter carries settings, as ``app.state.quotas`` does. Call it
    in the transaction that inserts the run. ``limiter`` is ``request.app.state.quotas``
    in the API, ``RunRateLimiter.from_settings(settings)`` elsewhere.
    """
    if not tenant.is_active:
        raise PermissionDeniedError(f"tenant {tenant.slug!r} is deactivated")
    quota = session.get(Quota, tenant.id)
    if quota is None:
        return
    if quota.max_concurrent_runs is not None:
        active = active_runs(session, tenant)
        if active >= quota.max_concurrent_runs:
            raise QuotaExceededError(
                f"tenant {tenant.slug!r} has {active} active runs "
                f"(max_concurrent_runs={quota.max_concurrent_runs})",
                retry_after_s=CONCURRENCY_RETRY_AFTER_S,
            )
    if limiter.settings is not None and quota.max_storage_bytes is not None:
        check_storage(tenant, session, limiter.settings)
    limiter.hit(tenant, quota)


def check_dataset_size(
    tenant: Tenant, session: Session, dataset_bytes: int | Callable[[], int]
) -> None:
    """Raise QuotaExceededError when one dataset is larger than ``max_dataset_bytes``.

    ``dataset_bytes`` may be a function: it is called only when the tenant has a limit,
    so an unlimited tenant never pays for listing a dataset's files.
    """
    quota = session.get(Quota, tenant.id)
    limit = quota.max_dataset_bytes if quota is not None else None
    if limit is None:
        return
    if callable(dataset_bytes):
        dataset_bytes = dataset_bytes()
    if dataset_bytes > limit:
        raise QuotaExceededError(
            f"dataset of {dataset_bytes} bytes exceeds max_dataset_bytes={limit} "
            f"of tenant {tenant.slug!r}"
        )


@dataclass
class Usage:
    """What a tenant uses now, beside its limits."""

    runs_last_minute: int
    runs_last_hour: int
    active_runs: int
    storage_bytes: int | None
    """Bytes under the tenant's lake prefix; None when the lake cannot be read."""


def storage_bytes(tenant: Tenant, settings: Settings) -> int | None:
    """Total size of the files under the tenant's lake prefix (0 when it is empty)."""
    from lakegate.lake.storage import Lake
    from lakegate.tenants.service import lake_prefix

    try:
        lake = Lake.from_url(settings.lake.url, settings)
        path = lake.path(lake_prefix(tenant))
        if not lake.fs.exists(path):
            return 0
        return int(lake.fs.du(path, total=True))
    except Exception as exc:  # usage is informative: an unreadable lake must not fail it
        log.warning("usage.storage_unreadable", tenant_id=tenant.id, error=redact(str(exc)))
        return None


def check_storage(tenant: Tenant, session: Session, settings: Settings) -> None:
    """Raise QuotaExceededError when the tenant's lake prefix is over ``max_storage_bytes``."""
    quota = session.get(Quota, tenant.id)
    if quota is None or quota.max_storage_bytes is None:
        return
    used = storage_bytes(tenant, settings)
    if used is not None and used >= quota.max_storage_bytes:
        raise QuotaExceededError(
            f"tenant {tenant.slug!r} uses {used} bytes of storage "
            f"(max_storage_bytes={quota.max_storage_bytes})"
        )


def usage(tenant: Tenant, session: Session, settings: Settings) -> Usage:
    """Current usage of ``tenant``."""
    return Usage(
        runs_last_minute=runs_since(session, tenant, 60),
        runs_last_hour=runs_since(session, tenant, 3600),
        active_runs=active_runs(session, tenant),
        storage_bytes=storage_bytes(tenant, settings),
    )
