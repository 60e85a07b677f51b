"""/api/v1/tenants over HTTP: lifecycle, validation, auth."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.unit.api.conftest import TenantHandle

BASE = "/api/v1/tenants"


def test_create_get_list_patch_tenant(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post(BASE, json={"slug": "acme", "name": "Acme Corp"}, headers=admin_headers)
    assert created.status_code == 201
    body = created.json()
    assert body["slug"] == "acme"
    assert body["environment"] == "prod"
    assert body["status"] == "active"
    assert body["lake_prefix"] == "acme/prod"
    assert created.headers["Location"] == f"{BASE}/{body['id']}"

    by_id = client.get(f"{BASE}/{body['id']}", headers=admin_headers)
    by_slug = client.get(f"{BASE}/acme", headers=admin_headers)
    assert by_id.json() == by_slug.json() == body

    listed = client.get(BASE, headers=admin_headers).json()
    assert [t["slug"] for t in listed] == ["acme"]

    patched = client.patch(f"{BASE}/acme", json={"name": "Acme Inc"}, headers=admin_headers)
    assert patched.status_code == 200
    assert patched.json()["name"] == "Acme Inc"
    assert client.get(f"{BASE}/acme", headers=admin_headers).json()["name"] == "Acme Inc"


def test_sandbox_tenant_gets_its_own_prefix_and_namespace(
    make_tenant: Callable[..., TenantHandle],
) -> None:
    sandbox = make_tenant("acme-test", environment="sandbox")
    assert sandbox.data["lake_prefix"] == "acme-test/sandbox"
    assert sandbox.data["secret_namespace"] == "acme-test-sandbox"


def test_duplicate_slug_is_409(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert (
        client.post(BASE, json={"slug": "dup", "name": "A"}, headers=admin_headers).status_code
        == 201
    )
    again = client.post(BASE, json={"slug": "dup", "name": "B"}, headers=admin_headers)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert "dup" in again.json()["detail"]


def test_bad_tenant_bodies_are_422_naming_the_field(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    cases = [
        ({"slug": "Acme", "name": "x"}, "body.slug"),
        ({"slug": "../etc", "name": "x"}, "body.slug"),
        ({"slug": "ok", "name": ""}, "body.name"),
        ({"slug": "ok", "name": "x", "environment": "staging"}, "body.environment"),
        ({"name": "x"}, "body.slug"),
        ({"slug": "ok", "name": "x", "unknown": 1}, "body.unknown"),
    ]
    for payload, field in cases:
        response = client.post(BASE, json=payload, headers=admin_headers)
        assert response.status_code == 422, payload
        assert field in [e["field"] for e in response.json()["errors"]], response.json()
    not_json = client.post(
        BASE, content=b"{not json", headers={**admin_headers, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 422
    patch_slug = client.patch(f"{BASE}/whatever", json={"slug": "x"}, headers=admin_headers)
    assert patch_slug.status_code == 422
    assert client.get(BASE, headers=admin_headers).json() == []


def test_unknown_tenant_is_404(client: TestClient, admin_headers: dict[str, str]) -> None:
    for method, path in [
        ("GET", f"{BASE}/nope"),
        ("PATCH", f"{BASE}/nope"),
        ("POST", f"{BASE}/nope:deactivate"),
        ("POST", f"{BASE}/nope:reactivate"),
        ("DELETE", f"{BASE}/nope"),
    ]:
        response = client.request(method, path, json={}, headers=admin_headers)
        assert response.status_code == 404, (method, path)
        assert response.json()["title"] == "Not found"


def test_deactivate_blocks_keys_and_delete_needs_deactivation(
    client: TestClient, admin_headers: dict[str, str], make_tenant: Callable[..., TenantHandle]
) -> None:
    acme = make_tenant("acme")
    headers = acme.headers("viewer")
    assert client.get("/api/v1/connections", headers=headers).status_code == 200

    refused = client.delete(f"{BASE}/{acme.id}", headers=admin_headers)
    assert refused.status_code == 409
    assert "deactivate" in refused.json()["detail"]

    off = client.post(f"{BASE}/{acme.id}:deactivate", headers=admin_headers)
    assert off.status_code == 200
    assert off.json()["status"] == "deactivated"
    assert off.json()["deactivated_at"] is not None
    blocked = client.get("/api/v1/connections", headers=headers)
    assert blocked.status_code == 403
    assert "deactivated" in blocked.json()["detail"]
    # idempotent
    assert client.post(f"{BASE}/{acme.id}:deactivate", headers=admin_headers).status_code == 200

    on = client.post(f"{BASE}/{acme.id}:reactivate", headers=admin_headers)
    assert on.json()["status"] == "active"
    assert client.get("/api/v1/connections", headers=headers).status_code == 200

    client.post(f"{BASE}/{acme.id}:deactivate", headers=admin_headers)
    gone = client.delete(f"{BASE}/{acme.id}", headers=admin_headers)
    assert gone.status_code == 204
    assert client.get(f"{BASE}/{acme.id}", headers=admin_headers).status_code == 404
    # its keys died with it
    assert client.get("/api/v1/connections", headers=headers).status_code == 401


def test_list_filters_by_status(
    client: TestClient, admin_headers: dict[str, str], make_tenant: Callable[..., TenantHandle]
) -> None:
    make_tenant("one")
    two = make_tenant("two")
    client.post(f"{BASE}/{two.id}:deactivate", headers=admin_headers)
    active = client.get(BASE, params={"status": "active"}, headers=admin_headers).json()
    inactive = client.get(BASE, params={"status": "deactivated"}, headers=admin_headers).json()
    assert [t["slug"] for t in active] == ["one"]
    assert [t["slug"] for t in inactive] == ["two"]
    assert client.get(BASE, params={"status": "x"}, headers=admin_headers).status_code == 422


def test_tenant_routes_need_the_platform_admin(
    client: TestClient, make_tenant: Callable[..., TenantHandle]
) -> None:
    acme = make_tenant("acme")
    assert client.get(BASE).status_code == 401
    assert client.get(BASE, headers={"Authorization": "Bearer wrong"}).status_code == 401
    tenant_admin = acme.headers("admin")
    assert client.get(BASE, headers=tenant_admin).status_code == 403
    assert (
        client.post(BASE, json={"slug": "x", "name": "x"}, headers=tenant_admin).status_code == 403
    )
    assert client.post(f"{BASE}/{acme.id}:deactivate", headers=tenant_admin).status_code == 403
