"""Where connection secrets live: encrypted in the catalog, or in Azure Key Vault.

* :class:`CatalogSecretStore` (default): one Fernet token per connection in
  ``connections.secrets_ciphertext`` (key ``LAKEGATE_SECRET_KEY``).
* :class:`KeyVaultSecretStore` (when ``AZURE_KEY_VAULT_URL`` is set): one vault secret per
  field, named ``<slug>-<environment>-conn-<connection>-<field>`` — inside the tenant's
  secret namespace, so a sandbox tenant's secrets never share names with prod. The catalog
  keeps only the field names.

Either way values are registered with the redactor the moment they are read or written.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from lakegate.catalog.models import Connection, Tenant
from lakegate.errors import ConfigError, SecretNotFoundError
from lakegate.observability.redact import register_secret
from lakegate.secrets.crypto import SecretBox
from lakegate.settings import Settings

_VAULT_UNSAFE = re.compile(r"[^0-9a-zA-Z-]+")


class SecretStore(Protocol):
    """Stores and reads the secrets of one connection."""

    kind: str
    """Recorded in ``connections.secrets_store``: ``catalog`` or ``keyvault``."""

    def save(self, tenant: Tenant, conn: Connection, values: dict[str, str]) -> None:
        """Store ``values`` for ``conn`` (replacing what it had)."""

    def load(self, tenant: Tenant, conn: Connection) -> dict[str, str]:
        """The secrets of ``conn``."""


class CatalogSecretStore:
    """Secrets as one Fernet token in the connection row."""

    kind = "catalog"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def save(self, tenant: Tenant, conn: Connection, values: dict[str, str]) -> None:
        """Encrypt ``values`` into ``conn.secrets_ciphertext``."""
        conn.secrets_ciphertext = (
            SecretBox.from_settings(self._settings).encrypt(values) if values else None
        )

    def load(self, tenant: Tenant, conn: Connection) -> dict[str, str]:
        """Decrypt ``conn.secrets_ciphertext``."""
        if not conn.secrets_ciphertext:
            return {}
        return SecretBox.from_settings(self._settings).decrypt(conn.secrets_ciphertext)


def vault_secret_name(tenant: Tenant, connection: str, field: str) -> str:
    """``<slug>-<environment>-conn-<connection>-<field>``, made of Key Vault's characters."""
    raw = f"{tenant.slug}-{tenant.environment}-conn-{connection}-{field}"
    name = _VAULT_UNSAFE.sub("-", raw).strip("-").lower()
    if len(name) > 127:
        raise ConfigError(f"secrets.{field}: Key Vault name {name[:40]}... exceeds 127 characters")
    return name


class KeyVaultSecretStore:
    """One Key Vault secret per field, in the tenant's namespace."""

    kind = "keyvault"

    def __init__(self, vault_url: str, client: Any) -> None:
        self.vault_url = vault_url.rstrip("/")
        self._client = client

    @classmethod
    def from_settings(cls, settings: Settings, **client_kwargs: Any) -> KeyVaultSecretStore:
        """A store on ``settings.azure.key_vault_url`` (DefaultAzureCredential unless given)."""
        from lakegate.secrets.keyvault import secret_client

        url = settings.azure.key_vault_url or ""
        credential = client_kwargs.pop("credential", None)
        return cls(url, secret_client(url, credential, **client_kwargs))

    def save(self, tenant: Tenant, conn: Connection, values: dict[str, str]) -> None:
        """Write each value as a new version of its vault secret."""
        from azure.core.exceptions import AzureError

        from lakegate.secrets.keyvault import vault_error

        conn.secrets_ciphertext = None
        for field, value in values.items():
            register_secret(value)
            name = vault_secret_name(tenant, conn.name, field)
            try:
                self._client.set_secret(name, value)
            except AzureError as exc:
                raise vault_error(exc, self.vault_url, name, "writing") from exc

    def load(self, tenant: Tenant, conn: Connection) -> dict[str, str]:
        """Read every field named in ``conn.secret_names`` from the vault."""
        from azure.core.exceptions import ResourceNotFoundError

        from lakegate.secrets.keyvault import read_secret

        values: dict[str, str] = {}
        for field in conn.secret_names:
            name = vault_secret_name(tenant, conn.name, field)
            try:
                value = read_secret(self._client, self.vault_url, name)
            except ResourceNotFoundError:
                value = None
            if value is None:
                raise SecretNotFoundError(
                    f"secret {name} of connection {conn.name!r} not found in Key Vault "
                    f"{self.vault_url}"
                )
            register_secret(value)
            values[field] = value
        return values


def secret_store_for(settings: Settings) -> SecretStore:
    """Key Vault when ``AZURE_KEY_VAULT_URL`` is set, the catalog otherwise."""
    if settings.azure.key_vault_url:
        return KeyVaultSecretStore.from_settings(settings)
    return CatalogSecretStore(settings)


def store_of(conn: Connection, settings: Settings, default: SecretStore) -> SecretStore:
    """The store that holds an existing connection's secrets (its recorded kind)."""
    if conn.secrets_store == default.kind:
        return default
    if conn.secrets_store == "keyvault":
        return KeyVaultSecretStore.from_settings(settings)
    return CatalogSecretStore(settings)
