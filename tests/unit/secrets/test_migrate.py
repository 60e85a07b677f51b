"""``lakegate secrets migrate`` against a loopback HTTPS vault.

No Key Vault emulator can run here: the real ``azure-keyvault-secrets`` ``SecretClient``
talks to ``keyvault_server`` (documented REST subset: 401 bearer challenge, GET/PUT
``/secrets/{name}``, list) over HTTPS with a test-made certificate. The token credential
is supplied by the test (it is not under test); the command's client factory is pointed
at that credential and CA, everything else is the real code path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakegate.cli import main
from lakegate.errors import MultipleConfigError
from lakegate.secrets import keyvault
from lakegate.secrets.migrate import MigrationStatus, migrate_secrets, plan_migration
from tests.unit.secrets.keyvault_server import VaultServer, run_vault_server

SECRETS_TOML = """
[sources.postgres_erp]
host = "db.internal"
port = 5432
database = "erp"
username = "loader"
password = "s3cr3t-Passw0rd"

[sources.oracle_crm.credentials]
host = "ora"
service_name = "CRM"
password = "ora-pw-123"

[destination.filesystem]
bucket_url = "az://raw-data"

[destination.filesystem.credentials]
azure_storage_account_name = "lakeacct"
azure_storage_account_key = "YWNjb3VudC1rZXk="
"""

EXPECTED = {
    "postgres-erp-host": "db.internal",
    "postgres-erp-port": "5432",
    "postgres-erp-database": "erp",
    "postgres-erp-username": "loader",
    "postgres-erp-password": "s3cr3t-Passw0rd",
    "oracle-crm-host": "ora",
    "oracle-crm-service-name": "CRM",
    "oracle-crm-password": "ora-pw-123",
    "adls-storage-account-name": "lakeacct",
    "adls-storage-account-key": "YWNjb3VudC1rZXk=",
}
SECRET_VALUES = ("s3cr3t-Passw0rd", "ora-pw-123", "YWNjb3VudC1rZXk=")


@pytest.fixture(scope="module")
def vault_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VaultServer]:
    with run_vault_server(tmp_path_factory.mktemp("vault")) as server:
        yield server


@pytest.fixture
def vault(vault_server: VaultServer, monkeypatch: pytest.MonkeyPatch) -> VaultServer:
    vault_server.state.secrets.clear()
    vault_server.state.requests.clear()
    vault_server.state.forbidden.clear()
    real = keyvault.secret_client

    def client(url: str, credential: Any = None, **kwargs: Any) -> Any:
        return real(url, vault_server.credential, **vault_server.client_kwargs, **kwargs)

    monkeypatch.setattr(keyvault, "secret_client", client)
    return vault_server


@pytest.fixture
def secrets_file(tmp_path: Path) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(SECRETS_TOML)
    return path


def test_plan_names_every_value_by_the_convention(secrets_file: Path) -> None:
    planned = {p.name: p.value for p in plan_migration(secrets_file)}
    assert planned == EXPECTED
    assert "s3cr3t" not in repr(plan_migration(secrets_file))


def test_migrate_uploads_then_skips_unchanged(vault: VaultServer, secrets_file: Path) -> None:
    client = vault.client()
    first = migrate_secrets(secrets_file, client, vault.url)
    assert {r.name for r in first} == set(EXPECTED)
    assert all(r.status is MigrationStatus.migrated for r in first)
    assert {n: v[-1] for n, v in vault.state.secrets.items()} == EXPECTED

    puts_before = len(vault.state.puts)
    second = migrate_secrets(secrets_file, client, vault.url)
    assert all(r.status is MigrationStatus.unchanged for r in second)
    assert len(vault.state.puts) == puts_before  # nothing re-sent

    secrets_file.write_text(SECRETS_TOML.replace("s3cr3t-Passw0rd", "rotated-Passw0rd"))
    third = {r.name: r.status for r in migrate_secrets(secrets_file, client, vault.url)}
    assert third["postgres-erp-password"] is MigrationStatus.migrated
    assert third["postgres-erp-host"] is MigrationStatus.unchanged
    assert vault.state.secrets["postgres-erp-password"] == ["s3cr3t-Passw0rd", "rotated-Passw0rd"]


def test_cli_prints_success_lines_never_values(
    vault: VaultServer, secrets_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["secrets", "migrate", "--vault-url", vault.url, "--secrets-file", str(secrets_file)]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "[SUCCESS] Migrated postgres-erp-host" in out.splitlines()
    assert len([line for line in out.splitlines() if line.startswith("[SUCCESS]")]) == len(EXPECTED)
    for value in SECRET_VALUES:
        assert value not in out + err

    code = main(
        ["secrets", "migrate", "--vault-url", vault.url, "--secrets-file", str(secrets_file)]
    )
    out, _ = capsys.readouterr()
    assert code == 0
    assert "[SKIPPED] unchanged postgres-erp-password" in out.splitlines()


def test_cli_dry_run_writes_nothing_and_json_output(
    vault: VaultServer, secrets_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["secrets", "migrate", "--vault-url", vault.url, "--secrets-file", str(secrets_file)]
    code = main([*args, "--dry-run", "--output", "json"])
    out, _ = capsys.readouterr()
    assert code == 0
    doc = json.loads(out)
    assert doc["dry_run"] is True
    assert {s["name"]: s["status"] for s in doc["secrets"]} == dict.fromkeys(
        EXPECTED, "would_migrate"
    )
    assert vault.state.puts == []
    assert vault.state.secrets == {}
    for value in SECRET_VALUES:
        assert value not in out


def test_invalid_names_are_rejected_before_anything_is_sent(
    vault: VaultServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "secrets.toml"
    bad.write_text(
        '[sources.postgres_erp]\nhost = "h"\n\n[sources."erp$prod"]\npassword = "pw-xyz"\n'
        '\n[sources.x]\n"' + "f" * 130 + '" = "v"\n'
    )
    with pytest.raises(MultipleConfigError) as info:
        plan_migration(bad)
    assert len(info.value.problems) == 2
    assert "sources.erp$prod.password" in info.value.problems[0]

    code = main(["secrets", "migrate", "--vault-url", vault.url, "--secrets-file", str(bad)])
    _, err = capsys.readouterr()
    assert code == 2
    assert "erp-prod-password" not in err
    assert "is not valid for Key Vault" in err
    assert vault.state.requests == []  # nothing reached the vault
    assert "pw-xyz" not in err


def test_missing_or_broken_secrets_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "https://example.vault.azure.net"
    code = main(["secrets", "migrate", "--vault-url", url, "--secrets-file", str(tmp_path / "no")])
    _, err = capsys.readouterr()
    assert code == 2
    assert "secrets file not found" in err
    broken = tmp_path / "broken.toml"
    broken.write_text("[sources.a\nhost=1\n")
    code = main(["secrets", "migrate", "--vault-url", url, "--secrets-file", str(broken)])
    _, err = capsys.readouterr()
    assert code == 2
    assert "broken.toml: not valid TOML" in err
    assert "line 1" in err


def test_vault_url_is_required(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["secrets", "migrate", "--secrets-file", str(tmp_path / "s.toml")])
    assert code == 2
    assert "--vault-url" in capsys.readouterr().err


def test_missing_write_role_is_one_line_exit_2(
    vault: VaultServer, secrets_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault.state.forbidden.add("postgres-erp-password")
    code = main(
        ["secrets", "migrate", "--vault-url", vault.url, "--secrets-file", str(secrets_file)]
    )
    _, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1
    assert "access denied writing postgres-erp-password" in err
    assert "Key Vault Secrets Officer" in err
    assert "s3cr3t-Passw0rd" not in err
