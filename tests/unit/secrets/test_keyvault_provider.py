"""The Key Vault provider in dlt's config chain, against a loopback HTTPS vault.

No Key Vault emulator can run here: these tests drive the real ``azure-keyvault-secrets``
``SecretClient`` against ``keyvault_server`` (a loopback HTTPS server speaking the
documented REST subset: 401 bearer challenge, GET/PUT ``/secrets/{name}``, list), with a
self-signed certificate made by ``trustme`` and a fixed-token credential supplied by the
test. The credential is not under test; the client's wire behaviour and our provider are.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dlt
import pytest
from dlt.common.configuration.container import Container
from dlt.common.configuration.resolve import resolve_configuration
from dlt.common.configuration.specs import ConnectionStringCredentials
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

from lakegate.errors import ExitCode, SecretNotFoundError
from lakegate.observability.redact import clear_registered_secrets, redact
from lakegate.secrets.credentials import reload_providers, resolve_source_credentials
from lakegate.secrets.keyvault import (
    PROVIDER_NAME,
    KeyVaultProvider,
    install_keyvault_provider,
    installed_provider,
    missing_source_secret,
    uninstall_keyvault_provider,
    vault_secret_name,
)
from lakegate.settings import get_settings
from tests.unit.secrets.keyvault_server import VaultServer, run_vault_server

ERP = {
    "postgres-erp-host": "db.internal",
    "postgres-erp-port": "5433",
    "postgres-erp-database": "erp",
    "postgres-erp-username": "loader",
    "postgres-erp-password": "vault-pa55-word!",
}


@pytest.fixture(scope="module")
def vault_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VaultServer]:
    with run_vault_server(tmp_path_factory.mktemp("vault")) as server:
        yield server


@pytest.fixture
def vault(vault_server: VaultServer) -> VaultServer:
    vault_server.state.secrets.clear()
    vault_server.state.requests.clear()
    for name, value in ERP.items():
        vault_server.state.secrets[name] = [value]
    return vault_server


@pytest.fixture
def dlt_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A dlt project dir of its own (its .dlt/secrets.toml), providers reloaded around the test."""
    (tmp_path / ".dlt").mkdir()
    monkeypatch.setenv("DLT_PROJECT_DIR", str(tmp_path))
    Container()[PluggableRunContext].reload()
    yield tmp_path
    uninstall_keyvault_provider()
    monkeypatch.delenv("DLT_PROJECT_DIR")
    Container()[PluggableRunContext].reload()


def _install(vault: VaultServer, monkeypatch: pytest.MonkeyPatch) -> KeyVaultProvider:
    monkeypatch.setenv("AZURE_KEY_VAULT_URL", vault.url)
    provider = install_keyvault_provider(
        get_settings(), credential=vault.credential, **vault.client_kwargs
    )
    assert provider is not None
    return provider


def test_secret_names_follow_the_convention() -> None:
    assert vault_secret_name("host", ("sources", "postgres_erp")) == "postgres-erp-host"
    assert (
        vault_secret_name("password", ("pipe", "sources", "postgres_erp", "credentials"))
        == "postgres-erp-password"
    )
    assert vault_secret_name("service_name", ("sources", "oracle_crm")) == "oracle-crm-service-name"
    assert vault_secret_name("chunk_size", ("sources", "postgres_erp")) is None
    assert vault_secret_name("api_key", ("sources", "crm_api"), secret=True) == "crm-api-api-key"
    assert (
        vault_secret_name("azure_storage_account_key", ("destination", "filesystem", "credentials"))
        == "adls-storage-account-key"
    )
    assert vault_secret_name("host", ("runtime",)) is None


def test_no_vault_url_installs_nothing(dlt_project: Path) -> None:
    assert install_keyvault_provider(get_settings()) is None
    assert installed_provider() is None


def test_provider_is_last_in_dlts_chain_and_reinstall_replaces_it(
    vault: VaultServer, dlt_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _install(vault, monkeypatch)
    second = _install(vault, monkeypatch)
    names = [p.name for p in dlt.secrets.config_providers]
    assert names.count(PROVIDER_NAME) == 1
    assert names[-1] == PROVIDER_NAME
    assert names.index("Environment Variables") < names.index("secrets.toml") < len(names) - 1
    assert installed_provider() is second is not first


def test_job_credentials_resolve_from_the_vault_over_https_with_bearer_challenge(
    vault: VaultServer, dlt_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_registered_secrets()
    _install(vault, monkeypatch)
    creds = ConnectionStringCredentials()
    creds.drivername = "postgresql"
    creds = resolve_configuration(creds, sections=("sources", "postgres_erp"))
    assert (creds.host, creds.port, creds.database) == ("db.internal", 5433, "erp")
    assert (creds.username, creds.password) == ("loader", "vault-pa55-word!")
    assert dlt.secrets["sources.postgres_erp.password"] == "vault-pa55-word!"
    job_creds = resolve_source_credentials("postgres_erp")  # what run_job calls
    assert (job_creds.host, job_creds.port, job_creds.password) == (
        "db.internal",
        5433,
        "vault-pa55-word!",
    )

    # The client first sent the request without a token, got the 401 challenge, then
    # retried with the bearer token for the vault's scope.
    first = vault.state.requests[0]
    assert first[2] is False
    assert any(auth for _m, _p, auth in vault.state.requests)
    assert ("https://vault.azure.net/.default",) in vault.credential.scopes
    # Each secret was fetched once (cache), and the password is now masked everywhere.
    gets = [p for m, p, auth in vault.state.requests if m == "GET" and auth]
    assert len(gets) == len(set(gets))
    assert redact("connect with vault-pa55-word!") == "connect with ***"
    # hosts and database names are not secrets: they stay readable in messages
    assert redact("host db.internal database erp") == "host db.internal database erp"


def test_environment_then_secrets_toml_win_over_the_vault(
    vault: VaultServer, dlt_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (dlt_project / ".dlt" / "secrets.toml").write_text(
        '[sources.postgres_erp]\nhost = "toml-host"\nusername = "toml-user"\n'
    )
    _install(vault, monkeypatch)
    reload_providers()  # the job side re-reads TOML files; the vault stays last
    monkeypatch.setenv("SOURCES__POSTGRES_ERP__USERNAME", "env-user")
    creds = resolve_source_credentials("postgres_erp")
    assert creds.port == 5433
    assert creds.username == "env-user"  # env beats toml and vault
    assert creds.host == "toml-host"  # toml beats vault
    assert creds.password == "vault-pa55-word!"  # only the vault has it
    looked_up = {p.rsplit("/", 1)[-1] for m, p, auth in vault.state.requests if auth}
    assert "postgres-erp-host" not in looked_up
    assert "postgres-erp-username" not in looked_up


def test_missing_secret_is_one_line_naming_secret_and_vault(
    vault: VaultServer, dlt_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    del vault.state.secrets["postgres-erp-password"]
    provider = _install(vault, monkeypatch)
    assert dlt.secrets.get("sources.postgres_erp.password") is None
    assert provider.missing == ["postgres-erp-password"]
    error = missing_source_secret("postgres_erp", "password")
    assert isinstance(error, SecretNotFoundError)
    assert error.exit_code == ExitCode.BAD_INPUT == 2
    assert "\n" not in str(error)
    assert "postgres-erp-password" in str(error)
    assert vault.url in str(error)


def test_missing_secret_without_vault_names_toml_key_and_env_var(dlt_project: Path) -> None:
    error = missing_source_secret("postgres_erp", "password")
    assert "sources.postgres_erp.password" in str(error)
    assert "SOURCES__POSTGRES_ERP__PASSWORD" in str(error)


def test_cli_root_callback_installs_the_provider_when_the_vault_is_configured(
    dlt_project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from lakegate.cli import main

    assert main(["lake", "ls", "--lake", str(tmp_path), "-o", "json"]) == 0
    assert installed_provider() is None
    monkeypatch.setenv("AZURE_KEY_VAULT_URL", "https://kv-example.vault.azure.net")
    try:
        assert main(["lake", "ls", "--lake", str(tmp_path), "-o", "json"]) == 0
        provider = installed_provider()
        assert provider is not None
        assert provider.vault_url == "https://kv-example.vault.azure.net"
        assert [p.name for p in dlt.secrets.config_providers][-1] == PROVIDER_NAME
    finally:
        uninstall_keyvault_provider()


def test_clear_cache_picks_up_a_rotated_secret(
    vault: VaultServer, dlt_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = _install(vault, monkeypatch)
    assert provider.get_secret("postgres-erp-password") == "vault-pa55-word!"
    vault.state.secrets["postgres-erp-password"].append("rotated-pa55!")
    assert provider.get_secret("postgres-erp-password") == "vault-pa55-word!"  # cached
    provider.clear_cache()
    assert provider.get_secret("postgres-erp-password") == "rotated-pa55!"


def test_job_preflight_names_the_missing_vault_secret(
    vault: VaultServer, dlt_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before any job loads, a secret missing from the vault is one exit-2 line per job."""
    from lakegate.errors import MultipleConfigError
    from lakegate.ingest.models import IngestJob, SourceType
    from lakegate.ingest.pipeline import check_credentials

    del vault.state.secrets["postgres-erp-host"]
    _install(vault, monkeypatch)
    job = IngestJob(
        job_id="orders", source_type=SourceType.postgresql, source_name="postgres_erp",
        schema_name="public", table_name="orders",
    )  # fmt: skip
    with pytest.raises(MultipleConfigError) as caught:
        check_credentials([job])
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    (line,) = str(caught.value).splitlines()
    assert line.startswith("job orders: ")
    assert "postgres-erp-host" in line and vault.url in line
    assert "vault-pa55-word!" not in line
