"""Roles (viewer < operator < admin), tenant selection, cross-tenant 404s."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.unit.api.conftest import TenantHandle

PG = {"name": "erp", "type": "postgresql", "config": {"host": "127.0.0.1", "database": "erp"}}


def test_viewer_reads_operator_tests_admin_writes(
    client: TestClient, make_tenant: Callable[..., TenantHandle]
) -> None:
    acme = make_tenant("acme")
    viewer, operator, admin = (
        acme.headers("viewer"),
        acme.headers("operator"),
        acme.headers("admin"),
    )
    assert client.post("/api/v1/connections", json=PG, headers=viewer).status_code == 403
    assert client.post("/api/v1/connections", json=PG, headers=operator).status_code == 403
    assert client.post("/api/v1/connections", json=PG, headers=admin).status_code == 201
    assert client.get("/api/v1/connections/erp", headers=viewer).status_code == 200
    denied = client.post("/api/v1/connections/erp:test", headers=viewer)
    assert denied.status_code == 403
    assert "operator" in denied.json()["detail"]
    assert client.post("/api/v1/connections/erp:test", headers=operator).status_code == 200
    assert client.delete("/api/v1/connections/erp", headers=operator).status_code == 403
    assert client.delete("/api/v1/connections/erp", headers=admin).status_code == 204


def test_platform_admin_names_the_tenant_with_a_header(
    client: TestClient, admin_headers: dict[str, str], make_tenant: Callable[..., TenantHandle]
) -> None:
    make_tenant("acme")
    missing = client.get("/api/v1/connections", headers=admin_headers)
    assert missing.status_code == 422
    assert "X-Lakegate-Tenant" in missing.json()["detail"]
    ok = client.get("/api/v1/connections", headers={**admin_headers, "X-Lakegate-Tenant": "acme"})
    assert ok.status_code == 200
    unknown = client.get(
        "/api/v1/connections", headers={**admin_headers, "X-Lakegate-Tenant": "zzz"}
    )
    assert unknown.status_code == 404


def test_tenant_header_cannot_switch_a_keys_tenant(
    client: TestClient, make_tenant: Callable[..., TenantHandle]
) -> None:
    acme, other = make_tenant("acme"), make_tenant("other")
    client.post("/api/v1/connections", json=PG, headers=other.headers("admin"))
    spoof = {**acme.headers("admin"), "X-Lakegate-Tenant": "other"}
    assert client.get("/api/v1/connections", headers=spoof).json() == []


def test_another_tenants_connection_is_404_never_403(
    client: TestClient, make_tenant: Callable[..., TenantHandle]
) -> None:
    acme, other = make_tenant("acme"), make_tenant("other")
    assert (
        client.post("/api/v1/connections", json=PG, headers=acme.headers("admin")).status_code
        == 201
    )
    spy = other.headers("admin")
    for method, path, body in [
        ("GET", "/api/v1/connections/erp", None),
        ("PUT", "/api/v1/connections/erp", {"type": "postgresql", "config": PG["config"]}),
        ("DELETE", "/api/v1/connections/erp", None),
        ("POST", "/api/v1/connections/erp:test", None),
    ]:
        response = client.request(method, path, json=body, headers=spy)
        assert response.status_code == 404, (method, path, response.text)
    assert client.get("/api/v1/connections", headers=spy).json() == []
    assert client.get("/api/v1/connections/erp", headers=acme.headers("viewer")).status_code == 200
    for path in ("quotas", "usage", "features", "api-keys"):
        assert client.get(f"/api/v1/tenants/{acme.id}/{path}", headers=spy).status_code == 404


def test_tenant_principals_read_their_own_quotas_and_features(
    client: TestClient, make_tenant: Callable[..., TenantHandle]
) -> None:
    acme = make_tenant("acme")
    viewer = acme.headers("viewer")
    assert client.get(f"/api/v1/tenants/{acme.id}/quotas", headers=viewer).status_code == 200
    assert client.get(f"/api/v1/tenants/{acme.id}/features", headers=viewer).status_code == 200
    put = client.put(f"/api/v1/tenants/{acme.id}/quotas", json={}, headers=acme.headers("admin"))
    assert put.status_code == 403
