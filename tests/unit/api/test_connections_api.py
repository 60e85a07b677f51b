"""/api/v1/connections: CRUD, encrypted secrets that never come back, reachability tests.

The reachability test runs against the real PostgreSQL of this machine (``pg_url``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient
from sqlalchemy import make_url, select

from lakegate.catalog.models import AuditEvent, Connection, Tenant
from lakegate.catalog.session import Catalog
from lakegate.connections import service
from lakegate.observability.logging import configure_logging
from lakegate.settings import Settings
from tests.unit.api.conftest import TenantHandle

PASSWORD = "Sup3r-Secret-Pa55word!"
API_TOKEN = "tok-9f8e7d6c5b4a-very-secret"


def pg_body(name: str = "erp", **config: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "postgresql",
        "config": {
            "host": "127.0.0.1",
            "port": 5432,
            "database": "erp",
            "username": "postgres",
            **config,
        },
        "secrets": {"password": PASSWORD},
    }


def test_crud_and_secrets_never_returned(
    client: TestClient, make_tenant: Callable[..., TenantHandle], catalog: Catalog
) -> None:
    acme = make_tenant("acme")
    headers = acme.headers("admin")
    created = client.post("/api/v1/connections", json=pg_body(), headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["secret_names"] == ["password"]
    assert created.json()["config"]["database"] == "erp"
    responses = [
        created,
        client.get("/api/v1/connections", headers=headers),
        client.get("/api/v1/connections/erp", headers=headers),
    ]
    updated = client.put(
        "/api/v1/connections/erp",
        json={"type": "postgresql", "config": {"host": "db2", "database": "erp2"}},
        headers=headers,
    )
    responses.append(updated)
    assert updated.status_code == 200
    assert updated.json()["config"] == {"host": "db2", "database": "erp2"}
    assert updated.json()["secret_names"] == ["password"]  # omitted secrets are kept
    for response in responses:
        assert PASSWORD not in response.text

    with catalog.session() as session:
        row = session.scalars(select(Connection)).one()
        assert row.secrets_ciphertext and PASSWORD not in row.secrets_ciphertext
        tenant = session.get(Tenant, acme.id)
        assert tenant is not None
        settings = client.app.state.settings  # type: ignore[attr-defined]
        kind, config, secrets = service.resolve(session, tenant, "erp", settings)
        assert (kind, config["host"], secrets) == ("postgresql", "db2", {"password": PASSWORD})
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.resource_type == "connection")
        ).all()
        assert [e.action for e in audit] == ["connection.created", "connection.updated"]
        assert all(PASSWORD not in str(e.details) for e in audit)

    replaced = client.put(
        "/api/v1/connections/erp",
        json={
            "type": "rest_api",
            "config": {"base_url": "http://127.0.0.1:1"},
            "secrets": {"token": API_TOKEN},
        },
        headers=headers,
    )
    assert replaced.json()["secret_names"] == ["token"]
    assert API_TOKEN not in replaced.text
    assert client.delete("/api/v1/connections/erp", headers=headers).status_code == 204
    assert client.get("/api/v1/connections/erp", headers=headers).status_code == 404
    assert client.delete("/api/v1/connections/erp", headers=headers).status_code == 404


def test_bad_connection_bodies(
    client: TestClient, make_tenant: Callable[..., TenantHandle]
) -> None:
    headers = make_tenant("acme").headers("admin")
    cases = [
        ({**pg_body(), "type": "ftp"}, "type"),
        ({**pg_body(), "config": {"host": "h"}}, "config.database"),
        (
            {**pg_body(), "config": {"host": "h", "database": "d", "password": PASSWORD}},
            "config.password",
        ),
        ({**pg_body(), "name": "bad name!"}, "body.name"),
        ({**pg_body(), "secrets": {"password": 123}}, "body.secrets.password"),
        ({"name": "x", "type": "rest_api", "config": {}}, "config.base_url"),
    ]
    for payload, where in cases:
        response = client.post("/api/v1/connections", json=payload, headers=headers)
        assert response.status_code == 422, (payload, response.text)
        assert where in response.text
        assert PASSWORD not in response.text
    assert client.post("/api/v1/connections", json=pg_body(), headers=headers).status_code == 201
    dup = client.post("/api/v1/connections", json=pg_body(), headers=headers)
    assert dup.status_code == 409
    assert client.get("/api/v1/connections", headers=headers).json()[0]["name"] == "erp"


def test_sandbox_tenant_cannot_name_prod_resources(
    client: TestClient, make_tenant: Callable[..., TenantHandle]
) -> None:
    headers = make_tenant("acme-dev", environment="sandbox").headers("admin")
    for config in (
        {"host": "erp-prod.internal", "database": "erp"},
        {"host": "h", "database": "prod"},
        {"base_url": "https://api.example.com/prod/v1"},
    ):
        kind = "rest_api" if "base_url" in config else "postgresql"
        body = {"name": "src", "type": kind, "config": config}
        response = client.post("/api/v1/connections", json=body, headers=headers)
        assert response.status_code == 422, config
        assert "sandbox" in response.json()["detail"]
    ok = {"name": "src", "type": "postgresql", "config": {"host": "erp-test", "database": "erp"}}
    assert client.post("/api/v1/connections", json=ok, headers=headers).status_code == 201


def test_secrets_need_the_secret_key(tmp_path: Any, admin_headers: dict[str, str]) -> None:
    from lakegate.api.app import create_app

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'c.db'}",
        admin_token="admin-token-for-tests-0123456789",  # type: ignore[arg-type]
    )
    catalog = Catalog.from_settings(settings)
    catalog.create_all()
    client = TestClient(create_app(settings, catalog=catalog))
    client.post("/api/v1/tenants", json={"slug": "acme", "name": "A"}, headers=admin_headers)
    headers = {**admin_headers, "X-Lakegate-Tenant": "acme"}
    response = client.post("/api/v1/connections", json=pg_body(), headers=headers)
    assert response.status_code == 422
    assert "LAKEGATE_SECRET_KEY" in response.json()["detail"]
    assert client.get("/api/v1/connections", headers=headers).json() == []
    catalog.dispose()


def test_reachability_against_real_postgres(
    client: TestClient, make_tenant: Callable[..., TenantHandle], pg_url: str
) -> None:
    url = make_url(pg_url)
    headers = make_tenant("acme").headers("admin")
    real = pg_body("live", host=url.host, port=url.port, database=url.database)
    assert client.post("/api/v1/connections", json=real, headers=headers).status_code == 201
    ok = client.post("/api/v1/connections/live:test", headers=headers)
    assert ok.status_code == 200
    assert ok.json()["ok"] is True, ok.json()

    dead = pg_body("dead", port=1)
    client.post("/api/v1/connections", json=dead, headers=headers)
    failed = client.post("/api/v1/connections/dead:test", headers=headers)
    assert failed.status_code == 200
    assert failed.json()["ok"] is False
    assert failed.json()["error"]
    assert failed.json()["elapsed_ms"] < 6000
    assert PASSWORD not in failed.text

    missing_db = pg_body("nodb", host=url.host, port=url.port, database="no_such_db_lakegate")
    client.post("/api/v1/connections", json=missing_db, headers=headers)
    nodb = client.post("/api/v1/connections/nodb:test", headers=headers).json()
    assert nodb["ok"] is False and "no_such_db_lakegate" in nodb["error"]
    assert client.post("/api/v1/connections/ghost:test", headers=headers).status_code == 404


def test_rest_and_sqlite_reachability(
    client: TestClient, make_tenant: Callable[..., TenantHandle], tmp_path: Any
) -> None:
    headers = make_tenant("acme").headers("admin")
    missing = {"name": "lite", "type": "sqlite", "config": {"database": str(tmp_path / "none.db")}}
    client.post("/api/v1/connections", json=missing, headers=headers)
    result = client.post("/api/v1/connections/lite:test", headers=headers).json()
    assert result["ok"] is False and "does not exist" in result["error"]
    assert not (tmp_path / "none.db").exists()  # the test never creates the file
    rest = {"name": "api", "type": "rest_api", "config": {"base_url": "http://127.0.0.1:1/v1"}}
    client.post("/api/v1/connections", json=rest, headers=headers)
    down = client.post("/api/v1/connections/api:test", headers=headers).json()
    assert down["ok"] is False and "Connect" in down["error"]


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_secrets_never_reach_the_logs(
    client: TestClient,
    make_tenant: Callable[..., TenantHandle],
    capfd: pytest.CaptureFixture[str],
    fmt: str,
) -> None:
    configure_logging("DEBUG", fmt)
    try:
        _exercise_secret_paths(client, make_tenant)
        out, err = capfd.readouterr()
    finally:  # configure_logging bound the captured stderr: unbind before teardown
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    assert "connection.tested" in out + err  # the code paths did log
    for secret in (PASSWORD, *_TOKENS):
        assert secret not in out + err


_TOKENS: list[str] = []


def _exercise_secret_paths(client: TestClient, make_tenant: Callable[..., TenantHandle]) -> None:
    acme = make_tenant("acme")
    headers = acme.headers("admin")
    client.post("/api/v1/connections", json=pg_body(port=1), headers=headers)
    client.post("/api/v1/connections/erp:test", headers=headers)
    client.post("/api/v1/connections", json=pg_body(), headers=headers)  # 409
    client.post(
        "/api/v1/connections",
        json={**pg_body("x"), "config": {"host": "h", "database": "d", "password": PASSWORD}},
        headers=headers,
    )
    _TOKENS.append(acme.token("admin"))
    client.get("/api/v1/connections", headers={"Authorization": f"Bearer {_TOKENS[-1]}x"})


def test_bad_updates_change_nothing(
    client: TestClient, make_tenant: Callable[..., TenantHandle]
) -> None:
    headers = make_tenant("acme").headers("admin")
    client.post("/api/v1/connections", json=pg_body(), headers=headers)
    before = client.get("/api/v1/connections/erp", headers=headers).json()
    for payload, where in [
        ({"config": {"host": "h", "database": "d"}}, "body.type"),
        ({"type": "ftp", "config": {}}, "type"),
        ({"type": "postgresql", "config": {"host": "h"}}, "config.database"),
        (
            {"type": "postgresql", "config": {"host": "h", "database": "d"}, "name": "x"},
            "body.name",
        ),
        ({"type": "postgresql", "config": "not an object"}, "body.config"),
    ]:
        response = client.put("/api/v1/connections/erp", json=payload, headers=headers)
        assert response.status_code == 422, payload
        assert where in response.text
    assert client.get("/api/v1/connections/erp", headers=headers).json() == before
    ghost = {"type": "postgresql", "config": {"host": "h", "database": "d"}}
    assert client.put("/api/v1/connections/ghost", json=ghost, headers=headers).status_code == 404
