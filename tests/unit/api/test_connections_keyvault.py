"""Connection secrets in Azure Key Vault (when ``AZURE_KEY_VAULT_URL`` is set).

No Key Vault emulator exists: the real ``azure-keyvault-secrets`` SecretClient talks to
``tests.unit.secrets.keyvault_server``, a loopback HTTPS server speaking the documented
secrets REST API (bearer challenge, GET/PUT /secrets/{name}).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lakegate.api.app import create_app
from lakegate.catalog.models import Connection, Tenant
from lakegate.catalog.session import Catalog
from lakegate.connections import service
from lakegate.connections.secret_store import KeyVaultSecretStore, vault_secret_name
from lakegate.settings import Settings
from tests.unit.secrets.keyvault_server import VaultServer, run_vault_server

ADMIN = {"Authorization": "Bearer admin-token-for-tests-0123456789"}
PASSWORD = "kv-Pa55word-value!"


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VaultServer]:
    with run_vault_server(tmp_path_factory.mktemp("vault")) as server:
        yield server


@pytest.fixture
def kv_app(
    tmp_path: Path, vault: VaultServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, Catalog, Settings]]:
    vault.state.secrets.clear()
    monkeypatch.setenv("AZURE_KEY_VAULT_URL", vault.url)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'c.db'}",
        admin_token="admin-token-for-tests-0123456789",  # type: ignore[arg-type]
    )
    catalog = Catalog.from_settings(settings)
    catalog.create_all()
    app = create_app(settings, catalog=catalog)
    assert isinstance(app.state.secret_store, KeyVaultSecretStore)  # chosen by the setting
    # the same store, with a credential and CA the loopback vault accepts
    app.state.secret_store = KeyVaultSecretStore(vault.url, vault.client())
    yield TestClient(app), catalog, settings
    catalog.dispose()


def test_secrets_go_to_the_vault_in_the_tenant_namespace(
    kv_app: tuple[TestClient, Catalog, Settings], vault: VaultServer
) -> None:
    client, catalog, settings = kv_app
    for slug, env in (("acme", "prod"), ("acme-dev", "sandbox")):
        client.post(
            "/api/v1/tenants", json={"slug": slug, "name": slug, "environment": env}, headers=ADMIN
        )
        body = {
            "name": "erp_main",
            "type": "postgresql",
            "config": {"host": "127.0.0.1", "database": "erp"},
            "secrets": {"password": f"{PASSWORD}-{env}"},
        }
        response = client.post(
            "/api/v1/connections", json=body, headers={**ADMIN, "X-Lakegate-Tenant": slug}
        )
        assert response.status_code == 201, response.text
        assert response.json()["secret_names"] == ["password"]
        assert PASSWORD not in response.text
    assert vault.state.current("acme-prod-conn-erp-main-password") == f"{PASSWORD}-prod"
    assert vault.state.current("acme-dev-sandbox-conn-erp-main-password") == f"{PASSWORD}-sandbox"

    store = client.app.state.secret_store  # type: ignore[attr-defined]
    with catalog.session() as session:
        rows = session.scalars(select(Connection)).all()
        assert {r.secrets_store for r in rows} == {"keyvault"}
        assert all(r.secrets_ciphertext is None for r in rows)
        acme = session.scalars(select(Tenant).where(Tenant.slug == "acme")).one()
        resolved = service.resolve(session, acme, "erp_main", settings, store)
        assert resolved.secrets == {"password": f"{PASSWORD}-prod"}

    # PUT with new secrets writes a new version; without secrets keeps them
    as_acme = {**ADMIN, "X-Lakegate-Tenant": "acme"}
    client.put(
        "/api/v1/connections/erp_main",
        json={
            "type": "postgresql",
            "config": {"host": "h", "database": "d"},
            "secrets": {"password": "v2-secret-xyz"},
        },
        headers=as_acme,
    )
    assert vault.state.secrets["acme-prod-conn-erp-main-password"][-1] == "v2-secret-xyz"


def test_a_secret_missing_from_the_vault_is_a_clear_404(
    kv_app: tuple[TestClient, Catalog, Settings], vault: VaultServer
) -> None:
    client, _catalog, _settings = kv_app
    client.post("/api/v1/tenants", json={"slug": "acme", "name": "A"}, headers=ADMIN)
    as_acme = {**ADMIN, "X-Lakegate-Tenant": "acme"}
    body = {
        "name": "erp",
        "type": "postgresql",
        "config": {"host": "h", "database": "d"},
        "secrets": {"password": PASSWORD},
    }
    client.post("/api/v1/connections", json=body, headers=as_acme)
    vault.state.secrets.clear()
    response = client.post("/api/v1/connections/erp:test", headers=as_acme)
    assert response.status_code == 404
    assert "acme-prod-conn-erp-password" in response.json()["detail"]
    assert PASSWORD not in response.text


def test_vault_names_are_sanitised_and_bounded() -> None:
    tenant = Tenant(slug="acme", environment="prod", name="A")
    assert (
        vault_secret_name(tenant, "erp.main_db", "api_key") == "acme-prod-conn-erp-main-db-api-key"
    )
    with pytest.raises(Exception, match="127"):
        vault_secret_name(tenant, "x" * 120, "password")
