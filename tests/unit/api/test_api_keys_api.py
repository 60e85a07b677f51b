"""/api/v1/tenants/{id}/api-keys: shown once, stored hashed, roles, revocation."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from lakegate.catalog.models import ApiKey
from lakegate.catalog.session import Catalog
from tests.unit.api.conftest import TenantHandle


def test_key_is_shown_once_and_stored_hashed(
    client: TestClient,
    admin_headers: dict[str, str],
    make_tenant: Callable[..., TenantHandle],
    catalog: Catalog,
) -> None:
    acme = make_tenant("acme")
    created = client.post(
        f"/api/v1/tenants/{acme.id}/api-keys",
        json={"name": "ci", "role": "operator"},
        headers=admin_headers,
    )
    assert created.status_code == 201
    body = created.json()
    token = body["token"]
    assert token.startswith(f"lg_{body['prefix']}_")
    assert body["role"] == "operator"

    listed = client.get(f"/api/v1/tenants/{acme.id}/api-keys", headers=admin_headers).json()
    assert [k["id"] for k in listed] == [body["id"]]
    assert "token" not in listed[0]
    assert (
        token not in client.get(f"/api/v1/tenants/{acme.id}/api-keys", headers=admin_headers).text
    )

    with catalog.session() as session:
        row = session.scalars(select(ApiKey)).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (row.token_hash, row.prefix, row.name)

    # the key works, and last_used_at is recorded
    assert (
        client.get("/api/v1/connections", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    listed = client.get(f"/api/v1/tenants/{acme.id}/api-keys", headers=admin_headers).json()
    assert listed[0]["last_used_at"] is not None


def test_revoked_key_stops_working(
    client: TestClient, admin_headers: dict[str, str], make_tenant: Callable[..., TenantHandle]
) -> None:
    acme = make_tenant("acme")
    headers = acme.headers("viewer")
    key_id = client.get(f"/api/v1/tenants/{acme.id}/api-keys", headers=admin_headers).json()[0][
        "id"
    ]
    assert (
        client.delete(
            f"/api/v1/tenants/{acme.id}/api-keys/{key_id}", headers=admin_headers
        ).status_code
        == 204
    )
    assert client.get("/api/v1/connections", headers=headers).status_code == 401
    again = client.delete(f"/api/v1/tenants/{acme.id}/api-keys/{key_id}", headers=admin_headers)
    assert again.status_code == 404


def test_bad_key_requests(
    client: TestClient, admin_headers: dict[str, str], make_tenant: Callable[..., TenantHandle]
) -> None:
    acme = make_tenant("acme")
    url = f"/api/v1/tenants/{acme.id}/api-keys"
    bad_role = client.post(url, json={"name": "x", "role": "root"}, headers=admin_headers)
    assert bad_role.status_code == 422
    assert bad_role.json()["errors"][0]["field"] == "body.role"
    assert client.post(url, json={"role": "viewer"}, headers=admin_headers).status_code == 422
    assert (
        client.post(
            "/api/v1/tenants/nope/api-keys", json={"name": "x"}, headers=admin_headers
        ).status_code
        == 404
    )
    # a tenant admin cannot mint keys (platform admin only)
    assert client.post(url, json={"name": "x"}, headers=acme.headers("admin")).status_code == 403


def test_keys_of_another_tenant_are_404(
    client: TestClient, admin_headers: dict[str, str], make_tenant: Callable[..., TenantHandle]
) -> None:
    acme, other = make_tenant("acme"), make_tenant("other")
    acme.token("viewer")
    other_key = client.get(f"/api/v1/tenants/{acme.id}/api-keys", headers=admin_headers).json()[0][
        "id"
    ]
    response = client.delete(
        f"/api/v1/tenants/{other.id}/api-keys/{other_key}", headers=admin_headers
    )
    assert response.status_code == 404
    # tenant principals cannot see another tenant under /tenants/{id}
    assert (
        client.get(f"/api/v1/tenants/{acme.id}/quotas", headers=other.headers("admin")).status_code
        == 404
    )


def test_malformed_and_forged_tokens_are_401(
    client: TestClient, make_tenant: Callable[..., TenantHandle]
) -> None:
    acme = make_tenant("acme")
    token = acme.token("admin")
    prefix = token.split("_")[1]
    for bad in [
        "lg_",
        "lg_x_y",
        f"lg_{prefix}_forged-secret",
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        "Basic abc",
        "a.b.c",  # a JWT shape with no OIDC issuer configured
    ]:
        response = client.get("/api/v1/connections", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad
        assert response.headers["content-type"] == "application/problem+json"
    no_scheme = client.get("/api/v1/connections", headers={"Authorization": token})
    assert no_scheme.status_code == 401
