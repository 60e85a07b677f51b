"""Quotas: run rates through ``limits`` (memory storage), concurrency from the runs table."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from lakegate.catalog.models import Quota, Tenant
from lakegate.catalog.models.jobs import JobDefinition, JobVersion
from lakegate.catalog.models.runs import Run
from lakegate.errors import PermissionDeniedError, QuotaExceededError
from lakegate.settings import Settings
from lakegate.tenants.quotas import (
    RateLimitUnavailableError,
    RunRateLimiter,
    acquire_run_slot,
    check_dataset_size,
    get_quota,
    set_quota,
    usage,
)


def limiter() -> RunRateLimiter:
    # Own namespace per test: memory storage is per limiter, but be explicit.
    return RunRateLimiter("memory://", namespace=uuid.uuid4().hex)


def add_run(session: Session, tenant: Tenant, status: str) -> Run:
    job = JobDefinition(tenant_id=tenant.id, name=f"job-{uuid.uuid4().hex[:6]}")
    session.add(job)
    session.flush()
    version = JobVersion(job_id=job.id, version=1, spec={})
    session.add(version)
    session.flush()
    run = Run(
        tenant_id=tenant.id, job_id=job.id, job_version_id=version.id, job_version=1, status=status
    )
    session.add(run)
    session.commit()
    return run


def test_no_quota_means_unlimited(session: Session, tenant: Tenant) -> None:
    rl = limiter()
    for _ in range(50):
        acquire_run_slot(tenant, session, rl)
    assert get_quota(session, tenant).max_runs_per_minute is None


def test_runs_per_minute_then_429_with_retry_after(session: Session, tenant: Tenant) -> None:
    set_quota(session, tenant, {"max_runs_per_minute": 2})
    session.commit()
    rl = limiter()
    acquire_run_slot(tenant, session, rl)
    acquire_run_slot(tenant, session, rl)
    with pytest.raises(QuotaExceededError) as info:
        acquire_run_slot(tenant, session, rl)
    assert info.value.http_status == 429
    assert info.value.retry_after_s is not None and 1 <= info.value.retry_after_s <= 60
    assert "max_runs_per_minute=2" in str(info.value)


def test_hour_limit_reports_a_longer_wait(session: Session, tenant: Tenant) -> None:
    set_quota(session, tenant, {"max_runs_per_minute": 10, "max_runs_per_hour": 1})
    session.commit()
    rl = limiter()
    acquire_run_slot(tenant, session, rl)
    with pytest.raises(QuotaExceededError) as info:
        acquire_run_slot(tenant, session, rl)
    assert "max_runs_per_hour=1" in str(info.value)
    assert info.value.retry_after_s is not None and info.value.retry_after_s > 60


def test_rejected_start_costs_nothing(session: Session, tenant: Tenant) -> None:
    """A start refused by the hour window must not consume the minute window."""
    set_quota(session, tenant, {"max_runs_per_minute": 2, "max_runs_per_hour": 1})
    session.commit()
    rl = limiter()
    acquire_run_slot(tenant, session, rl)  # minute 1/2, hour 1/1
    with pytest.raises(QuotaExceededError, match="max_runs_per_hour"):
        acquire_run_slot(tenant, session, rl)  # refused: minute must stay at 1/2
    set_quota(session, tenant, {"max_runs_per_minute": 2, "max_runs_per_hour": 100})
    session.commit()
    acquire_run_slot(tenant, session, rl)  # minute 2/2: fits only if the refusal cost nothing
    with pytest.raises(QuotaExceededError, match="max_runs_per_minute"):
        acquire_run_slot(tenant, session, rl)


def test_tenants_do_not_share_counters(session: Session, tenant: Tenant) -> None:
    other = Tenant(slug="other", name="Other")
    session.add(other)
    session.flush()
    for t in (tenant, other):
        session.add(Quota(tenant_id=t.id, max_runs_per_minute=1))
    session.commit()
    rl = limiter()
    acquire_run_slot(tenant, session, rl)
    acquire_run_slot(other, session, rl)
    with pytest.raises(QuotaExceededError):
        acquire_run_slot(tenant, session, rl)


def test_concurrency_counts_active_runs(session: Session, tenant: Tenant) -> None:
    set_quota(session, tenant, {"max_concurrent_runs": 2})
    session.commit()
    rl = limiter()
    add_run(session, tenant, "running")
    add_run(session, tenant, "succeeded")
    add_run(session, tenant, "failed")
    acquire_run_slot(tenant, session, rl)
    add_run(session, tenant, "queued")
    with pytest.raises(QuotaExceededError, match="2 active runs") as info:
        acquire_run_slot(tenant, session, rl)
    assert info.value.retry_after_s == 30
    used = usage(tenant, session, Settings())
    assert used.active_runs == 2
    assert used.runs_last_hour == 4


def test_deactivated_tenant_gets_no_slot(session: Session, tenant: Tenant) -> None:
    tenant.status = "deactivated"
    session.commit()
    with pytest.raises(PermissionDeniedError):
        acquire_run_slot(tenant, session, limiter())


def test_dataset_size_limit(session: Session, tenant: Tenant) -> None:
    check_dataset_size(tenant, session, 10**12)  # unlimited
    set_quota(session, tenant, {"max_dataset_bytes": 1000})
    session.commit()
    check_dataset_size(tenant, session, 1000)
    with pytest.raises(QuotaExceededError, match="max_dataset_bytes=1000"):
        check_dataset_size(tenant, session, 1001)


def test_dataset_size_is_measured_only_when_a_limit_exists(
    session: Session, tenant: Tenant
) -> None:
    measured: list[int] = []

    def measure() -> int:
        measured.append(1)
        return 1001

    check_dataset_size(tenant, session, measure)  # unlimited: the files are never listed
    assert measured == []
    set_quota(session, tenant, {"max_dataset_bytes": 1000})
    session.commit()
    with pytest.raises(QuotaExceededError, match="dataset of 1001 bytes exceeds"):
        check_dataset_size(tenant, session, measure)
    assert measured == [1]


def test_unreachable_redis_is_a_transient_503() -> None:
    rl = RunRateLimiter("redis://:redis-pw-777@127.0.0.1:1/0")
    tenant = Tenant(id="t" * 32, slug="acme", name="A", status="active")
    with pytest.raises(RateLimitUnavailableError, match="unavailable") as info:
        rl.hit(tenant, Quota(tenant_id=tenant.id, max_runs_per_minute=1))
    assert info.value.transient
    assert info.value.http_status == 503
    assert "redis-pw-777" not in str(info.value)


def test_storage_quota_blocks_new_runs(session: Session, tenant: Tenant, tmp_path: Path) -> None:
    settings = Settings(lake={"url": str(tmp_path / "lake")})  # type: ignore[arg-type]
    rl = RunRateLimiter.from_settings(settings)
    set_quota(session, tenant, {"max_storage_bytes": 100})
    session.commit()
    acquire_run_slot(tenant, session, rl)  # empty prefix: 0 bytes
    data = tmp_path / "lake" / "acme" / "prod" / "orders"
    data.mkdir(parents=True)
    (data / "part.parquet").write_bytes(b"x" * 150)
    (tmp_path / "lake" / "other" / "prod").mkdir(parents=True)
    (tmp_path / "lake" / "other" / "prod" / "big.parquet").write_bytes(b"x" * 10_000)
    with pytest.raises(QuotaExceededError, match="150 bytes") as info:
        acquire_run_slot(tenant, session, rl)
    assert info.value.retry_after_s is None  # waiting does not free storage
    assert usage(tenant, session, settings).storage_bytes == 150  # only its own prefix
