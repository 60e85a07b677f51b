"""``lakegate secrets``: move secrets.toml into Azure Key Vault."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lakegate.cli.common import Output, OutputOption, emit_json, stdout

secrets_app = typer.Typer(
    help="Secrets: copy .dlt/secrets.toml into Azure Key Vault.", no_args_is_help=True
)


@secrets_app.command("migrate")
def migrate(
    vault_url: Annotated[
        str | None,
        typer.Option(
            "--vault-url",
            help="Key Vault URL (https://<name>.vault.azure.net). Default: $AZURE_KEY_VAULT_URL.",
            show_default=False,
        ),
    ] = None,
    secrets_file: Annotated[
        Path,
        typer.Option("--secrets-file", help="The dlt secrets file to migrate."),
    ] = Path(".dlt/secrets.toml"),
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="List what would be uploaded; write nothing."),
    ] = False,
    output: OutputOption = Output.table,
) -> None:
    """Upload every source's values as Key Vault secrets (``postgres-erp-host`` ...).

    Names are checked before anything is sent; values the vault already holds are skipped
    (re-running is safe). Authentication: DefaultAzureCredential (managed identity,
    workload identity, ``az login``); the identity needs ``Key Vault Secrets Officer``.
    Values are never printed.
    """
    from lakegate.errors import ConfigError
    from lakegate.secrets import keyvault
    from lakegate.secrets.migrate import migrate_secrets
    from lakegate.settings import get_settings

    url = vault_url or get_settings().azure.key_vault_url
    if not url:
        raise ConfigError("--vault-url (or AZURE_KEY_VAULT_URL) is required")
    if not url.startswith("https://"):
        raise ConfigError(f"--vault-url {url!r}: Key Vault URLs start with https://")
    client = keyvault.secret_client(url)
    results = migrate_secrets(secrets_file, client, url, dry_run=dry_run)
    if output is Output.json:
        emit_json({"vault_url": url, "dry_run": dry_run, "secrets": [r.as_dict() for r in results]})
        return
    for result in results:
        stdout.print(result.line(), highlight=False, markup=False)
    if not results:
        stdout.print(f"no secrets found in {secrets_file}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add ``lakegate secrets ...`` to the root app."""
    app.add_typer(secrets_app, name="secrets")
