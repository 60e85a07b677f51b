"""/tenants/{id}/quotas, /usage, /features over HTTP; 429 + Retry-After on run triggers."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from lakegate.api.app import create_app
from lakegate.api.deps import require_feature
from lakegate.catalog.session import Catalog
from lakegate.settings import Settings
from tests.unit.api.conftest import TenantHandle

JOB = {
    "name": "orders-check",
    "steps": [
        {"type": "quality", "dataset": "orders", "checks": [{"type": "not_null", "column": "id"}]}
    ],
}


def test_quotas_roundtrip_and_validation(
    client: TestClient, admin_headers: dict[str, str], make_tenant: Callable[..., TenantHandle]
) -> None:
    acme = make_tenant("acme")
    url = f"/api/v1/tenants/{acme.id}/quotas"
    empty = client.get(url, headers=admin_headers).json()
    assert empty["max_runs_per_hour"] is None
    assert empty["tenant_id"] == acme.id
    limits = {
        "max_runs_per_minute": 5,
        "max_runs_per_hour": 100,
        "max_concurrent_runs": 2,
        "max_dataset_bytes": 10**9,
        "max_storage_bytes": 10**12,
    }
    put = client.put(url, json=limits, headers=admin_headers)
    assert put.status_code == 200
    assert client.get(url, headers=admin_headers).json() == {**limits, "tenant_id": acme.id}
    # PUT replaces: an absent limit becomes unlimited
    client.put(url, json={"max_runs_per_hour": 7}, headers=admin_headers)
    again = client.get(url, headers=admin_headers).json()
    assert again["max_runs_per_hour"] == 7 and again["max_concurrent_runs"] is None
    for bad, field in [
        ({"max_runs_per_hour": -1}, "body.max_runs_per_hour"),
        ({"max_runs_per_hour": "many"}, "body.max_runs_per_hour"),
        ({"max_runs_per_day": 1}, "body.max_runs_per_day"),
    ]:
        response = client.put(url, json=bad, headers=admin_headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field
    assert client.get(url, headers=admin_headers).json()["max_runs_per_hour"] == 7


def test_usage_reports_runs_and_storage(
    client: TestClient,
    admin_headers: dict[str, str],
    make_tenant: Callable[..., TenantHandle],
    api_settings: Settings,
) -> None:
    acme = make_tenant("acme")
    prefix = f"{api_settings.lake.url}/acme/prod/orders"
    import pathlib

    pathlib.Path(prefix).mkdir(parents=True)
    pathlib.Path(prefix, "a.parquet").write_bytes(b"x" * 1234)
    usage = client.get(f"/api/v1/tenants/{acme.id}/usage", headers=admin_headers).json()
    assert usage["storage_bytes"] == 1234
    assert usage["runs_last_hour"] == 0
    assert usage["active_runs"] == 0
    assert usage["quotas"]["tenant_id"] == acme.id


def test_run_rate_quota_answers_429_with_retry_after(
    api_settings: Settings, catalog: Catalog, admin_headers: dict[str, str]
) -> None:
    # No lifespan (no `with`): runs stay queued, nothing executes; quotas apply on trigger.
    client = TestClient(create_app(api_settings, catalog=catalog))
    tenant = client.post(
        "/api/v1/tenants", json={"slug": "busy", "name": "Busy"}, headers=admin_headers
    ).json()
    key = client.post(
        f"/api/v1/tenants/{tenant['id']}/api-keys",
        json={"name": "op", "role": "admin"},
        headers=admin_headers,
    ).json()["token"]
    headers = {"Authorization": f"Bearer {key}"}
    client.put(
        f"/api/v1/tenants/{tenant['id']}/quotas",
        json={"max_runs_per_minute": 1},
        headers=admin_headers,
    )
    job = client.post("/api/v1/jobs", json=JOB, headers=headers)
    assert job.status_code == 201, job.text
    job_id = job.json()["id"]
    first = client.post(f"/api/v1/jobs/{job_id}/runs", headers=headers)
    assert first.status_code == 202, first.text
    second = client.post(f"/api/v1/jobs/{job_id}/runs", headers=headers)
    assert second.status_code == 429
    assert second.headers["content-type"] == "application/problem+json"
    assert 1 <= int(second.headers["Retry-After"]) <= 60
    assert "max_runs_per_minute=1" in second.json()["detail"]
    usage = client.get(f"/api/v1/tenants/{tenant['id']}/usage", headers=admin_headers).json()
    assert usage["runs_last_minute"] == 1
    assert usage["active_runs"] == 1


def test_features_roundtrip_and_unknown_flag(
    client: TestClient, admin_headers: dict[str, str], make_tenant: Callable[..., TenantHandle]
) -> None:
    acme = make_tenant("acme")
    url = f"/api/v1/tenants/{acme.id}/features"
    before = client.get(url, headers=admin_headers).json()
    assert before["features"]["webhooks"] is True
    assert before["overrides"] == {}
    put = client.put(url, json={"features": {"webhooks": False}}, headers=admin_headers)
    assert put.status_code == 200
    assert put.json()["features"]["webhooks"] is False
    assert put.json()["overrides"] == {"webhooks": False}
    bad = client.put(url, json={"features": {"teleport": True}}, headers=admin_headers)
    assert bad.status_code == 422
    assert "features.teleport" in bad.json()["detail"]
    not_bool = client.put(url, json={"features": {"webhooks": "maybe"}}, headers=admin_headers)
    assert not_bool.status_code == 422
    assert client.get(url, headers=admin_headers).json()["overrides"] == {"webhooks": False}


def test_require_feature_answers_403_naming_the_flag(
    api_settings: Settings, catalog: Catalog, admin_headers: dict[str, str]
) -> None:
    from fastapi import Depends

    app = create_app(api_settings, catalog=catalog)

    @app.get("/api/v1/_probe", dependencies=[Depends(require_feature("webhooks"))])
    def probe() -> dict[str, bool]:
        return {"ok": True}

    client = TestClient(app)
    tenant = client.post(
        "/api/v1/tenants", json={"slug": "acme", "name": "A"}, headers=admin_headers
    ).json()
    as_acme = {**admin_headers, "X-Lakegate-Tenant": "acme"}
    assert client.get("/api/v1/_probe", headers=as_acme).json() == {"ok": True}
    client.put(
        f"/api/v1/tenants/{tenant['id']}/features",
        json={"features": {"webhooks": False}},
        headers=admin_headers,
    )
    denied = client.get("/api/v1/_probe", headers=as_acme)
    assert denied.status_code == 403
    assert "webhooks" in denied.json()["detail"]


def test_unknown_tenant_and_missing_auth_on_tenant_subresources(
    client: TestClient, admin_headers: dict[str, str], make_tenant: Callable[..., TenantHandle]
) -> None:
    acme = make_tenant("acme")
    for path in ("quotas", "usage", "features", "api-keys"):
        assert client.get(f"/api/v1/tenants/ghost/{path}", headers=admin_headers).status_code == 404
        assert client.get(f"/api/v1/tenants/{acme.id}/{path}").status_code == 401
    viewer = acme.headers("viewer")
    assert client.get(f"/api/v1/tenants/{acme.id}/api-keys", headers=viewer).status_code == 403
    put = client.put(
        f"/api/v1/tenants/{acme.id}/features", json={"features": {"lineage": True}}, headers=viewer
    )
    assert put.status_code == 403


def test_storage_quota_answers_429_on_trigger(
    api_settings: Settings, catalog: Catalog, admin_headers: dict[str, str]
) -> None:
    from pathlib import Path

    client = TestClient(create_app(api_settings, catalog=catalog))  # no lifespan: nothing runs
    tenant = client.post(
        "/api/v1/tenants", json={"slug": "full", "name": "Full"}, headers=admin_headers
    ).json()
    as_full = {**admin_headers, "X-Lakegate-Tenant": "full"}
    client.put(
        f"/api/v1/tenants/{tenant['id']}/quotas",
        json={"max_storage_bytes": 10},
        headers=admin_headers,
    )
    job_id = client.post("/api/v1/jobs", json=JOB, headers=as_full).json()["id"]
    assert client.post(f"/api/v1/jobs/{job_id}/runs", headers=as_full).status_code == 202
    prefix = Path(api_settings.lake.url, "full", "prod")
    prefix.mkdir(parents=True)
    (prefix / "data.parquet").write_bytes(b"x" * 11)
    refused = client.post(f"/api/v1/jobs/{job_id}/runs", headers=as_full)
    assert refused.status_code == 429
    assert "max_storage_bytes=10" in refused.json()["detail"]
    assert "Retry-After" not in refused.headers
