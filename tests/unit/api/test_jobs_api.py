"""``/api/v1/jobs`` over HTTP: CRUD, versions, validation with field paths, roles, scoping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.conftest import TenantHandle

PG = {"name": "erp", "type": "postgresql", "config": {"host": "127.0.0.1", "database": "erp"}}


def job_body(name: str = "daily", **extra: Any) -> dict[str, Any]:
    """A job with an ingest step (connection ``erp``) and a quality step."""
    return {
        "name": name,
        "description": "orders every morning",
        "steps": [
            {
                "type": "ingest",
                "connection": "erp",
                "tables": [{"schema": "public", "table": "orders", "primary_key": ["id"]}],
            },
            {
                "type": "quality",
                "dataset": "orders",
                "checks": [{"type": "not_null", "column": "id"}],
            },
        ],
        "schedule": {"cron": "0 6 * * *", "timezone": "Europe/Paris"},
        **extra,
    }


@pytest.fixture
def acme(client: TestClient, make_tenant: Callable[..., TenantHandle]) -> TenantHandle:
    """Tenant ``acme`` with the connection ``erp``."""
    tenant = make_tenant("acme")
    response = client.post("/api/v1/connections", json=PG, headers=tenant.headers("admin"))
    assert response.status_code == 201, response.text
    return tenant


def _fields(response: Any) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def test_create_get_list_update_delete(client: TestClient, acme: TenantHandle) -> None:
    admin = acme.headers("admin")
    created = client.post("/api/v1/jobs", json=job_body(), headers=admin)
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["version"] == 1 and job["name"] == "daily"
    assert job["steps"][0]["tables"][0]["schema"] == "public"
    assert created.headers["Location"] == f"/api/v1/jobs/{job['id']}"

    assert client.get(f"/api/v1/jobs/{job['id']}", headers=admin).json()["id"] == job["id"]
    assert client.get("/api/v1/jobs/daily", headers=admin).json()["id"] == job["id"]
    listed = client.get("/api/v1/jobs", headers=acme.headers("viewer")).json()
    assert [j["id"] for j in listed["items"]] == [job["id"]] and listed["next_cursor"] is None

    updated = client.put(f"/api/v1/jobs/{job['id']}", json=job_body(timeout_s=600), headers=admin)
    assert updated.status_code == 200 and updated.json()["version"] == 2
    versions = client.get(f"/api/v1/jobs/{job['id']}/versions", headers=admin).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert (
        "timeout_s" not in versions[0]["definition"]
        or versions[0]["definition"]["timeout_s"] is None
    )
    assert versions[1]["definition"]["timeout_s"] == 600

    assert client.delete(f"/api/v1/jobs/{job['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=admin).status_code == 404
    assert client.delete(f"/api/v1/jobs/{job['id']}", headers=admin).status_code == 404


def test_list_is_paginated(client: TestClient, acme: TenantHandle) -> None:
    admin = acme.headers("admin")
    for name in ("c", "a", "b"):
        assert client.post("/api/v1/jobs", json=job_body(name), headers=admin).status_code == 201
    first = client.get("/api/v1/jobs?limit=2", headers=admin).json()
    assert [j["name"] for j in first["items"]] == ["a", "b"]
    rest = client.get(f"/api/v1/jobs?limit=2&cursor={first['next_cursor']}", headers=admin).json()
    assert [j["name"] for j in rest["items"]] == ["c"] and rest["next_cursor"] is None


def test_duplicate_name_is_409(client: TestClient, acme: TenantHandle) -> None:
    admin = acme.headers("admin")
    assert client.post("/api/v1/jobs", json=job_body(), headers=admin).status_code == 201
    again = client.post("/api/v1/jobs", json=job_body(), headers=admin)
    assert again.status_code == 409
    assert "daily" in again.json()["detail"]


def test_unknown_connection_is_422_with_the_field_path(
    client: TestClient, acme: TenantHandle
) -> None:
    body = job_body()
    body["steps"][0]["connection"] = "nope"
    response = client.post("/api/v1/jobs", json=body, headers=acme.headers("admin"))
    assert response.status_code == 422
    assert response.json()["detail"] == "steps.0.connection: unknown connection 'nope'"


def test_bad_cron_is_422_with_the_field_path(client: TestClient, acme: TenantHandle) -> None:
    response = client.post(
        "/api/v1/jobs",
        json=job_body(schedule={"cron": "0 25 * * *"}),
        headers=acme.headers("admin"),
    )
    assert response.status_code == 422
    assert _fields(response) == ["body.schedule.cron"]


def test_unknown_check_type_is_422_naming_the_check(client: TestClient, acme: TenantHandle) -> None:
    body = job_body()
    body["steps"][1]["checks"].append({"type": "vibes", "column": "id"})
    response = client.post("/api/v1/jobs", json=body, headers=acme.headers("admin"))
    assert response.status_code == 422
    assert _fields(response) == ["body.steps.1.quality.checks"]
    assert "checks[1].type: unknown check type 'vibes'" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "x"},
        {"name": "x", "steps": [{"type": "ingest"}]},
        {"name": "x", "steps": "nope"},
        [],
        "text",
    ],
)
def test_malformed_bodies_are_422_never_500(
    client: TestClient, acme: TenantHandle, body: Any
) -> None:
    response = client.post("/api/v1/jobs", json=body, headers=acme.headers("admin"))
    assert response.status_code == 422


def test_roles_viewer_reads_admin_writes(client: TestClient, acme: TenantHandle) -> None:
    for role in ("viewer", "operator"):
        response = client.post("/api/v1/jobs", json=job_body(), headers=acme.headers(role))
        assert response.status_code == 403
    created = client.post("/api/v1/jobs", json=job_body(), headers=acme.headers("admin")).json()
    url = f"/api/v1/jobs/{created['id']}"
    assert client.get(url, headers=acme.headers("viewer")).status_code == 200
    assert client.put(url, json=job_body(), headers=acme.headers("operator")).status_code == 403
    assert client.delete(url, headers=acme.headers("viewer")).status_code == 403


def test_no_or_bad_token_is_401(client: TestClient) -> None:
    assert client.get("/api/v1/jobs").status_code == 401
    assert client.get("/api/v1/jobs", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_another_tenants_job_is_404(
    client: TestClient, acme: TenantHandle, make_tenant: Callable[..., TenantHandle]
) -> None:
    job = client.post("/api/v1/jobs", json=job_body(), headers=acme.headers("admin")).json()
    other = make_tenant("globex").headers("admin")
    for method, url in (
        ("GET", f"/api/v1/jobs/{job['id']}"),
        ("GET", "/api/v1/jobs/daily"),
        ("GET", f"/api/v1/jobs/{job['id']}/versions"),
        ("DELETE", f"/api/v1/jobs/{job['id']}"),
        ("POST", f"/api/v1/jobs/{job['id']}/runs"),
    ):
        assert client.request(method, url, headers=other).status_code == 404, (method, url)
    assert (
        client.put(f"/api/v1/jobs/{job['id']}", json=job_body(), headers=other).status_code == 404
    )
    assert client.get("/api/v1/jobs", headers=other).json()["items"] == []
    # the other tenant cannot use acme's connection either
    refused = client.post("/api/v1/jobs", json=job_body(), headers=other)
    assert refused.status_code == 422


def test_platform_admin_manages_jobs_of_a_named_tenant(
    client: TestClient, acme: TenantHandle, admin_headers: dict[str, str]
) -> None:
    headers = {**admin_headers, "X-Lakegate-Tenant": "acme"}
    assert client.post("/api/v1/jobs", json=job_body(), headers=headers).status_code == 201
    assert len(client.get("/api/v1/jobs", headers=acme.headers("viewer")).json()["items"]) == 1
