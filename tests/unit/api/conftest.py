"""Fixtures of the API tests: a real app on a fresh SQLite catalog, over HTTP (TestClient).

* ``api_settings`` — settings with an admin token and a secret key, catalog in tmp_path.
* ``catalog`` — that catalog, schema created.
* ``client`` — a TestClient of ``create_app(api_settings, catalog=catalog)``.
* ``admin_headers`` — ``Authorization`` of the platform admin.
* ``make_tenant(slug, environment="prod")`` — creates a tenant through the API and returns
  a :class:`TenantHandle` with ``headers(role)`` for an API key of that role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lakegate.api.app import create_app
from lakegate.catalog.session import Catalog
from lakegate.settings import Settings

ADMIN_TOKEN = "admin-token-for-tests-0123456789"
SECRET_KEY = "secret-key-for-tests-0123456789"


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    """Settings of a test app (its own SQLite catalog and lake)."""
    return Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'catalog.db'}",
        admin_token=ADMIN_TOKEN,  # type: ignore[arg-type]
        secret_key=SECRET_KEY,  # type: ignore[arg-type]
        lake={"url": str(tmp_path / "lake")},  # type: ignore[arg-type]
    )


@pytest.fixture
def catalog(api_settings: Settings) -> Iterator[Catalog]:
    """The test app's catalog with every table."""
    cat = Catalog.from_settings(api_settings)
    cat.create_all()
    yield cat
    cat.dispose()


@pytest.fixture
def client(api_settings: Settings, catalog: Catalog) -> Iterator[TestClient]:
    """The real app over HTTP (lifespan included)."""
    with TestClient(create_app(api_settings, catalog=catalog)) as test_client:
        yield test_client


@pytest.fixture
def admin_headers() -> dict[str, str]:
    """Bearer of the platform admin."""
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class TenantHandle:
    """A tenant created through the API, and API keys made on demand."""

    client: TestClient
    admin_headers: dict[str, str]
    data: dict[str, Any]
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """Tenant id."""
        return str(self.data["id"])

    def token(self, role: str = "admin") -> str:
        """A token of an API key with ``role`` (created once per role)."""
        if role not in self.tokens:
            response = self.client.post(
                f"/api/v1/tenants/{self.id}/api-keys",
                json={"name": f"{role} key", "role": role},
                headers=self.admin_headers,
            )
            assert response.status_code == 201, response.text
            self.tokens[role] = response.json()["token"]
        return self.tokens[role]

    def headers(self, role: str = "admin") -> dict[str, str]:
        """``Authorization`` of an API key with ``role``."""
        return {"Authorization": f"Bearer {self.token(role)}"}


@pytest.fixture
def make_tenant(client: TestClient, admin_headers: dict[str, str]) -> Callable[..., TenantHandle]:
    """Factory: ``make_tenant("acme")`` -> TenantHandle."""

    def make(slug: str, environment: str = "prod") -> TenantHandle:
        response = client.post(
            "/api/v1/tenants",
            json={"slug": slug, "name": slug.title(), "environment": environment},
            headers=admin_headers,
        )
        assert response.status_code == 201, response.text
        return TenantHandle(client, admin_headers, response.json())

    return make
