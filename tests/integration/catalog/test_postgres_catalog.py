"""The catalog on the real PostgreSQL of this machine: migrations, no drift, the API on it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import text

from lakegate.api.app import create_app
from lakegate.catalog.migrate import head_revision, upgrade
from lakegate.catalog.session import Catalog
from lakegate.errors import ConflictError
from lakegate.settings import Settings
from lakegate.tenants import service
from tests.unit.catalog.test_migrations import model_drift

ADMIN = {"Authorization": "Bearer admin-token-for-tests-0123456789"}


def test_migrations_apply_and_match_the_models_on_postgres(pg_url: str) -> None:
    assert upgrade(pg_url) == head_revision()
    assert model_drift(pg_url) == []


def test_api_on_a_postgres_catalog(pg_url: str, tmp_path: object) -> None:
    upgrade(pg_url)
    settings = Settings(
        database_url=pg_url,
        admin_token="admin-token-for-tests-0123456789",  # type: ignore[arg-type]
        secret_key="secret-key-for-tests-0123456789",  # type: ignore[arg-type]
    )
    catalog = Catalog.from_settings(settings)
    try:
        client = TestClient(create_app(settings, catalog=catalog))
        assert client.get("/readyz").status_code == 200
        tenant = client.post(
            "/api/v1/tenants", json={"slug": "acme", "name": "Acme"}, headers=ADMIN
        )
        assert tenant.status_code == 201
        tenant_id = tenant.json()["id"]
        assert tenant.json()["created_at"].endswith(("Z", "+00:00"))
        nul = {"slug": "nul", "name": "a\u0000b"}
        assert client.post("/api/v1/tenants", json=nul, headers=ADMIN).status_code == 422
        dup = client.post("/api/v1/tenants", json={"slug": "acme", "name": "A"}, headers=ADMIN)
        assert dup.status_code == 409
        token = client.post(
            f"/api/v1/tenants/{tenant_id}/api-keys",
            json={"name": "k", "role": "admin"},
            headers=ADMIN,
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        body = {
            "name": "erp",
            "type": "postgresql",
            "config": {"host": "127.0.0.1", "database": "erp"},
            "secrets": {"password": "pg-secret-value-xyz"},
        }
        assert client.post("/api/v1/connections", json=body, headers=headers).status_code == 201
        listed = client.get("/api/v1/connections", headers=headers)
        assert "pg-secret-value-xyz" not in listed.text
        with catalog.engine.connect() as connection:
            stored = connection.execute(text("SELECT secrets_ciphertext FROM connections")).scalar()
        assert stored and "pg-secret-value-xyz" not in stored
        client.put(
            f"/api/v1/tenants/{tenant_id}/features",
            json={"features": {"lineage": True}},
            headers=ADMIN,
        )
        features = client.get(f"/api/v1/tenants/{tenant_id}/features", headers=headers).json()
        assert features["features"]["lineage"] is True
        # delete cascades through every tenant-owned table
        client.post(f"/api/v1/tenants/{tenant_id}:deactivate", headers=ADMIN)
        assert client.delete(f"/api/v1/tenants/{tenant_id}", headers=ADMIN).status_code == 204
        with catalog.engine.connect() as connection:
            for table in ("api_keys", "connections", "feature_flags"):
                assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
    finally:
        catalog.dispose()


def test_concurrent_creates_of_one_slug_give_one_tenant_and_409s(pg_url: str) -> None:
    upgrade(pg_url)
    catalog = Catalog.from_url(pg_url)
    barrier = threading.Barrier(6)

    def create(i: int) -> str:
        with catalog.session() as session:
            barrier.wait()
            try:
                service.create_tenant(session, slug="race", name=f"R{i}", actor="t")
                return "created"
            except ConflictError:
                return "conflict"

    try:
        with ThreadPoolExecutor(6) as pool:
            outcomes = sorted(pool.map(create, range(6)))
        assert outcomes == ["conflict"] * 5 + ["created"]
        with catalog.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM tenants")).scalar() == 1
    finally:
        catalog.dispose()
