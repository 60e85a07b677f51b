"""/healthz, /readyz, OpenAPI, and the problem+json error contract."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from lakegate.api.app import create_app
from lakegate.catalog.migrate import head_revision, upgrade
from lakegate.catalog.session import Catalog
from lakegate.settings import Settings


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_needs_current_migrations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    settings = Settings(database_url=url)
    catalog = Catalog.from_settings(settings)
    client = TestClient(create_app(settings, catalog=catalog))
    not_migrated = client.get("/readyz")
    assert not_migrated.status_code == 503
    assert not_migrated.json()["checks"]["catalog"] == "ok"
    assert "head is" in not_migrated.json()["checks"]["migrations"]
    upgrade(url)
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json()
    assert ready.json() == {"status": "ready", "checks": {"catalog": "ok", "migrations": "ok"}}
    assert head_revision() is not None
    catalog.dispose()


def test_readyz_when_the_catalog_is_unreachable() -> None:
    settings = Settings(database_url="postgresql://postgres:hunter22@127.0.0.1:1/none")
    client = TestClient(create_app(settings))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "unreachable" in response.json()["checks"]["catalog"]
    assert "hunter22" not in response.text


def test_openapi_lists_every_resource(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    for path in [
        "/api/v1/tenants",
        "/api/v1/tenants/{tenant_id}:deactivate",
        "/api/v1/tenants/{tenant_id}/quotas",
        "/api/v1/tenants/{tenant_id}/usage",
        "/api/v1/tenants/{tenant_id}/features",
        "/api/v1/tenants/{tenant_id}/api-keys",
        "/api/v1/connections/{name}:test",
        "/healthz",
        "/readyz",
    ]:
        assert path in paths, path
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_unknown_route_and_method_are_problem_json(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong_method = client.put("/api/v1/tenants", json={}, headers=admin_headers)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["status"] == 405


def test_validation_errors_never_echo_submitted_values(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    secret = "do-not-echo-this-value-123"
    response = client.post(
        "/api/v1/tenants", json={"slug": secret.upper(), "name": "x"}, headers=admin_headers
    )
    assert response.status_code == 422
    assert secret.upper() not in response.text
    assert response.json()["errors"][0]["field"] == "body.slug"


def test_missing_token_is_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/tenants")
    assert response.status_code == 401
    body = response.json()
    assert body["title"] == "Unauthorized"
    assert body["status"] == 401
    assert "Bearer" in body["detail"]


def test_nul_characters_are_422_not_500(client: TestClient, admin_headers: dict[str, str]) -> None:
    body = client.post(
        "/api/v1/tenants", json={"slug": "acme", "name": "a\u0000b"}, headers=admin_headers
    )
    assert body.status_code == 422
    assert "NUL" in body.json()["detail"]
    path = client.get("/api/v1/tenants/ac%00me", headers=admin_headers)
    assert path.status_code == 422
    assert client.get("/api/v1/tenants", headers=admin_headers).json() == []


def test_metrics_count_requests_by_route_template(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    client.get("/api/v1/tenants/some-unknown-slug", headers=admin_headers)
    exposition = client.get("/metrics")
    assert exposition.status_code == 200
    assert exposition.headers["content-type"].startswith("text/plain")
    text = exposition.text
    assert "lakegate_http_requests_total" in text
    assert 'route="/api/v1/tenants/{tenant_id}"' in text
    assert "some-unknown-slug" not in text


def test_request_ids_are_echoed_from_traceparent_or_made(client: TestClient) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    traced = client.get("/healthz", headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
    assert traced.headers["X-Request-ID"] == trace
    given = client.get("/healthz", headers={"X-Request-ID": "req-12345678"})
    assert given.headers["X-Request-ID"] == "req-12345678"
    hostile = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert len(hostile.headers["X-Request-ID"]) == 32
    assert client.get("/nope").headers["X-Request-ID"]
