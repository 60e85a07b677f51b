"""Copy ``.dlt/secrets.toml`` into Azure Key Vault under the Lakegate naming convention.

Every scalar of ``[sources.<name>]`` (a nested ``credentials`` table is flattened) becomes
``<name>-<field>`` (``postgres-erp-host``); ``[destination.filesystem.credentials]``
``azure_storage_account_name/key`` become ``adls-storage-account-name/-key``. Every name
is validated *before* anything is sent; values already in the vault are skipped, so the
migration can be re-run safely. Values never leave this module except towards the vault.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from lakegate.errors import ConfigError, LakegateError, MultipleConfigError
from lakegate.observability.redact import register_secret
from lakegate.secrets.keyvault import (
    DESTINATION_SECRETS,
    is_secret_name,
    read_secret,
    vault_error,
)
from lakegate.secrets.naming import secret_name


class MigrationStatus(StrEnum):
    """What happened to one secret."""

    migrated = "migrated"
    unchanged = "unchanged"
    would_migrate = "would_migrate"


@dataclass(frozen=True)
class PlannedSecret:
    """One value of secrets.toml and the Key Vault name it goes to."""

    name: str
    key: str
    """Where it came from in secrets.toml (``sources.postgres_erp.host``)."""
    value: str

    def __repr__(self) -> str:  # never show the value
        return f"PlannedSecret(name={self.name!r}, key={self.key!r})"


@dataclass(frozen=True)
class MigrationResult:
    """Outcome for one secret (no value)."""

    name: str
    key: str
    status: MigrationStatus

    def line(self) -> str:
        """The line printed for it: ``[SUCCESS] Migrated postgres-erp-host``."""
        if self.status is MigrationStatus.migrated:
            return f"[SUCCESS] Migrated {self.name}"
        if self.status is MigrationStatus.unchanged:
            return f"[SKIPPED] unchanged {self.name}"
        return f"[DRY-RUN] would migrate {self.name}"

    def as_dict(self) -> dict[str, str]:
        """JSON form."""
        return {k: str(v) for k, v in asdict(self).items()}


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in table.items():
        if isinstance(value, dict):
            # ``[sources.x.credentials]`` holds the same fields dlt looks up under sources.x
            inner = prefix if key == "credentials" else f"{prefix}{key}_"
            items.extend(_flatten(value, inner))
        else:
            items.append((f"{prefix}{key}", value))
    return items


def load_secrets_file(path: Path) -> dict[str, Any]:
    """Parse a secrets.toml; ConfigError naming the file (and line) when it cannot."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: secrets file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def plan_migration(path: Path) -> list[PlannedSecret]:
    """Every secret ``path`` holds, named for Key Vault; all names validated first.

    Raises :class:`MultipleConfigError` listing every value whose name Key Vault would
    refuse, or which is not a scalar, before anything is sent.
    """
    doc = load_secrets_file(path)
    planned: list[PlannedSecret] = []
    problems: list[str] = []
    sources = doc.get("sources", {})
    if not isinstance(sources, dict):
        raise ConfigError(f"{path}: [sources] must be a table")
    for source, table in sources.items():
        if not isinstance(table, dict):
            problems.append(f"{path}: sources.{source} must be a table")
            continue
        for field, value in _flatten(table):
            key = f"sources.{source}.{field}"
            text = _scalar(value)
            if text is None:
                problems.append(f"{path}: {key}: only text and numbers can go to Key Vault")
                continue
            try:
                name = secret_name(source, field)
            except LakegateError as exc:
                problems.append(f"{path}: {key}: {exc}")
                continue
            planned.append(PlannedSecret(name, key, text))
    dest = doc.get("destination", {}).get("filesystem", {}).get("credentials", {})
    for field, name in DESTINATION_SECRETS.items():
        text = _scalar(dest.get(field)) if isinstance(dest, dict) else None
        if text:
            planned.append(PlannedSecret(name, f"destination.filesystem.credentials.{field}", text))
    seen: dict[str, str] = {}
    for item in planned:
        # Mask credential values everywhere; host or database names are not secret, and
        # registering short ones ("erp") would garble unrelated messages.
        if is_secret_name(item.key.rsplit(".", 1)[-1]):
            register_secret(item.value)
        if item.name in seen:
            problems.append(
                f"{path}: {item.key} and {seen[item.name]} both map to secret {item.name}"
            )
        seen[item.name] = item.key
    if problems:
        raise MultipleConfigError(problems)
    return planned


def migrate_secrets(
    path: Path, client: Any, vault_url: str, *, dry_run: bool = False
) -> list[MigrationResult]:
    """Upload what :func:`plan_migration` finds; skip values the vault already holds.

    ``client`` is an ``azure.keyvault.secrets.SecretClient``. With ``dry_run`` nothing is
    written (the vault is still read to tell unchanged values apart).
    """
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    results: list[MigrationResult] = []
    for item in plan_migration(path):
        try:
            current = read_secret(client, vault_url, item.name)
        except ResourceNotFoundError:
            current = None
        if current == item.value:
            results.append(MigrationResult(item.name, item.key, MigrationStatus.unchanged))
            continue
        if dry_run:
            results.append(MigrationResult(item.name, item.key, MigrationStatus.would_migrate))
            continue
        try:
            client.set_secret(item.name, item.value, content_type="text/plain")
        except AzureError as exc:
            raise vault_error(exc, vault_url, item.name, "writing") from exc
        results.append(MigrationResult(item.name, item.key, MigrationStatus.migrated))
    return results
