"""Run-rate quotas on the real Redis: counters shared by every process."""

from __future__ import annotations

import uuid

import pytest

from lakegate.catalog.models import Quota, Tenant
from lakegate.errors import QuotaExceededError
from lakegate.settings import Settings
from lakegate.tenants.quotas import RunRateLimiter


def test_redis_counters_are_shared_between_limiters(redis_url: str) -> None:
    namespace = f"lakegate-test-{uuid.uuid4().hex}"
    api_process = RunRateLimiter(redis_url, namespace=namespace)
    worker_process = RunRateLimiter(redis_url, namespace=namespace)
    tenant = Tenant(id=uuid.uuid4().hex, slug="acme", name="A", status="active")
    quota = Quota(tenant_id=tenant.id, max_runs_per_minute=2)
    try:
        api_process.hit(tenant, quota)
        worker_process.hit(tenant, quota)
        with pytest.raises(QuotaExceededError) as info:
            api_process.hit(tenant, quota)
        assert info.value.retry_after_s is not None and 1 <= info.value.retry_after_s <= 60
    finally:
        api_process.reset(tenant, quota)
    api_process.hit(tenant, quota)  # reset cleared the shared window
    api_process.reset(tenant, quota)


def test_settings_pick_redis_when_configured(redis_url: str) -> None:
    assert RunRateLimiter.from_settings(Settings(redis_url=redis_url)).storage_uri == redis_url
    assert RunRateLimiter.from_settings(Settings()).storage_uri == "memory://"
