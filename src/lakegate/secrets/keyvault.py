"""Azure Key Vault as a dlt configuration provider.

dlt ships no Azure vault provider, so this module adds one to dlt's provider chain.
Lookups of ``sources.<source>.<field>`` become Key Vault secret names by the naming
convention of :mod:`lakegate.secrets.naming` (``sources.postgres_erp.password`` ->
``postgres-erp-password``); ``destination.filesystem.credentials.azure_storage_account_*``
become ``adls-storage-account-name`` / ``adls-storage-account-key``. Nothing else is
looked up in the vault.

Chain order (first hit wins): environment variables -> ``.dlt/secrets.toml`` (and
``config.toml``) -> Key Vault. The provider is appended *after* dlt's own providers by
:func:`install_keyvault_provider`, which every door (CLI callback, runner) calls once
with the settings; it does nothing when ``AZURE_KEY_VAULT_URL`` is not set.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dlt.common.configuration.providers.provider import ConfigProvider

from lakegate.errors import (
    AuthenticationError,
    LakegateError,
    PermissionDeniedError,
    SecretNotFoundError,
    SourceError,
)
from lakegate.observability.redact import register_secret
from lakegate.secrets.naming import secret_name

if TYPE_CHECKING:
    from lakegate.settings import Settings

PROVIDER_NAME = "Azure Key Vault"

SOURCE_FIELDS = (
    "host",
    "port",
    "database",
    "username",
    "password",
    "sid",
    "service_name",
    "token",
)
"""Credential fields of a source that live in the vault (``token``: REST sources)."""

DESTINATION_SECRETS = {
    "azure_storage_account_name": "adls-storage-account-name",
    "azure_storage_account_key": "adls-storage-account-key",
    "azure_storage_sas_token": "adls-storage-sas-token",
}
"""``[destination.filesystem.credentials]`` fields and their Key Vault names."""


SECRET_WORDS = ("password", "token", "secret", "key", "sas", "credential")
"""Name parts whose values are masked in every message once read (hosts and database
names are not secret, and masking short ones like ``erp`` would garble messages)."""


def is_secret_name(name: str) -> bool:
    """True when a field or secret name (``postgres-erp-password``) holds a credential."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def vault_secret_name(key: str, sections: Sequence[str], *, secret: bool = False) -> str | None:
    """The Key Vault name of a dlt lookup, or None when the vault does not hold it.

    ``("sources", "postgres_erp")`` + ``host`` and ``("sources", "postgres_erp",
    "credentials")`` + ``host`` both map to ``postgres-erp-host``; a pipeline-name prefix
    in ``sections`` is ignored. Under ``sources`` the connection fields
    (:data:`SOURCE_FIELDS`) and any field typed as a secret (``secret=True``: an API
    key of a REST source) are looked up; other configuration is not.
    """
    parts = list(sections)
    if "sources" in parts:
        rest = parts[parts.index("sources") + 1 :]
        if rest and rest[-1] == "credentials":
            rest = rest[:-1]
        # dlt also asks ``sources.<section>.<source>``; the source is the innermost name.
        if rest and (key in SOURCE_FIELDS or secret):
            return secret_name(rest[-1], key)
        return None
    if parts[-3:] == ["destination", "filesystem", "credentials"] or parts[-2:] == [
        "destination",
        "credentials",
    ]:
        return DESTINATION_SECRETS.get(key)
    return None


class KeyVaultProvider(ConfigProvider):
    """Resolves source credentials from Azure Key Vault secrets (read-only).

    Each secret is fetched at most once per provider (hits and misses are cached; call
    :meth:`clear_cache` after rotating a secret in a long-running process); every
    credential value is registered with the redactor the moment it arrives.
    """

    def __init__(self, vault_url: str, client: Any) -> None:
        self.vault_url = vault_url.rstrip("/")
        self._client = client
        self._cache: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self.missing: list[str] = []
        """Names looked up and not found, in order (for error messages)."""

    @property
    def name(self) -> str:
        """Name shown in dlt's lookup traces."""
        return PROVIDER_NAME

    @property
    def supports_secrets(self) -> bool:
        """Key Vault holds secrets."""
        return True

    @property
    def supports_sections(self) -> bool:
        """Lookups are per section (``sources.<name>``)."""
        return True

    @property
    def locations(self) -> Sequence[str]:
        """The vault URL (shown in dlt's missing-value messages)."""
        return [self.vault_url]

    def get_value(
        self, key: str, hint: type[Any], pipeline_name: str | None, *sections: str
    ) -> tuple[Any | None, str]:
        """Look up ``key`` in ``sections``; returns ``(value or None, secret name)``."""
        from dlt.common.configuration.specs.base_configuration import is_secret_hint

        try:
            name = vault_secret_name(key, sections, secret=is_secret_hint(hint))
        except LakegateError:  # a name Key Vault cannot hold is simply not in the vault
            return None, key
        if name is None:
            return None, key
        return self.get_secret(name), name

    def get_secret(self, name: str) -> str | None:
        """Value of secret ``name``, or None when the vault has no such secret."""
        from azure.core.exceptions import ResourceNotFoundError

        with self._lock:
            if name in self._cache:
                return self._cache[name]
        try:
            value = read_secret(self._client, self.vault_url, name)
        except ResourceNotFoundError:
            value = None
        if value is not None and is_secret_name(name):
            register_secret(value)
        with self._lock:
            self._cache[name] = value
            if value is None and name not in self.missing:
                self.missing.append(name)
        return value

    def clear_cache(self) -> None:
        """Forget fetched secrets and misses (the next lookup asks the vault again)."""
        with self._lock:
            self._cache.clear()
            self.missing.clear()

    def missing_error(self, name: str) -> SecretNotFoundError:
        """The one-line error for a secret that no provider had."""
        return SecretNotFoundError(
            f"secret {name} not found in Key Vault {self.vault_url} "
            "(nor in the environment or .dlt/secrets.toml)"
        )


def vault_error(exc: Exception, vault_url: str, name: str, action: str) -> LakegateError:
    """One-line Lakegate error for a failed Key Vault call (never includes a value)."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

    if isinstance(exc, ClientAuthenticationError):
        return AuthenticationError(f"Key Vault {vault_url}: authentication failed {action} {name}")
    status = getattr(exc, "status_code", None)
    if isinstance(exc, HttpResponseError) and status == 403:
        role = "Key Vault Secrets User" if action == "reading" else "Key Vault Secrets Officer"
        return PermissionDeniedError(
            f"Key Vault {vault_url}: access denied {action} {name} (the identity needs {role})"
        )
    reason = f"HTTP {status}" if status else type(exc).__name__
    return SourceError(
        f"Key Vault {vault_url}: {action} {name} failed ({reason})",
        transient=status is None or status in (429, 500, 502, 503, 504),
    )


def read_secret(client: Any, vault_url: str, name: str) -> str | None:
    """Current value of ``name``; raises ``ResourceNotFoundError`` when absent.

    Other failures become Lakegate errors through :func:`vault_error`.
    """
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    try:
        value: str | None = client.get_secret(name).value
    except ResourceNotFoundError:
        raise
    except AzureError as exc:
        raise vault_error(exc, vault_url, name, "reading") from exc
    return value


def secret_client(vault_url: str, credential: Any = None, **client_kwargs: Any) -> Any:
    """A ``SecretClient`` for ``vault_url`` (``DefaultAzureCredential`` unless given one)."""
    from azure.keyvault.secrets import SecretClient

    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    return SecretClient(vault_url=vault_url, credential=credential, **client_kwargs)


def _providers() -> Any:
    from dlt.common.configuration.container import Container
    from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

    return Container()[PluggableRunContext].providers


def install_keyvault_provider(
    settings: Settings, *, credential: Any = None, **client_kwargs: Any
) -> KeyVaultProvider | None:
    """Append the Key Vault provider to dlt's chain when ``AZURE_KEY_VAULT_URL`` is set.

    Registered through :func:`lakegate.secrets.credentials.register_provider`, so it stays
    at the end of the chain (after environment and TOML files) across provider reloads.
    Idempotent: a provider for the same vault is kept, one for another vault replaced.
    Returns the provider, or None when no vault is configured. ``credential`` and
    ``client_kwargs`` (e.g. ``connection_verify``, ``verify_challenge_resource``) go to
    the ``SecretClient``; the default credential is ``DefaultAzureCredential``.
    """
    from lakegate.secrets.credentials import register_provider

    url = settings.azure.key_vault_url
    if not url:
        return None
    current = installed_provider()
    if current is not None and current.vault_url == url.rstrip("/") and credential is None:
        return current
    uninstall_keyvault_provider()
    provider = KeyVaultProvider(url, secret_client(url, credential, **client_kwargs))
    register_provider(provider)
    return provider


def uninstall_keyvault_provider() -> None:
    """Remove the Key Vault provider from dlt's chain (tests, vault URL unset)."""
    from lakegate.secrets import credentials

    # credentials keeps registered providers to re-attach them after a reload; it has no
    # public removal yet, so drop ours from its list as well.
    registered = getattr(credentials, "_registered", None)
    if isinstance(registered, list):
        registered[:] = [p for p in registered if p.name != PROVIDER_NAME]
    providers = _providers()
    providers.providers[:] = [p for p in providers.providers if p.name != PROVIDER_NAME]


def installed_provider() -> KeyVaultProvider | None:
    """The Key Vault provider currently in dlt's chain, if any."""
    for provider in _providers().providers:
        if isinstance(provider, KeyVaultProvider):
            return provider
    return None


def missing_source_secret(source_name: str, field: str) -> SecretNotFoundError:
    """The error for a source credential field that no provider resolved.

    Names the Key Vault secret and vault when the vault is in the chain, otherwise the
    secrets.toml key and environment variable to set.
    """
    provider = installed_provider()
    if provider is not None:
        return provider.missing_error(secret_name(source_name, field))
    env = f"SOURCES__{source_name.upper()}__{field.upper()}"
    return SecretNotFoundError(
        f"secret sources.{source_name}.{field} not found "
        f"(set it in .dlt/secrets.toml or ${env}, or configure AZURE_KEY_VAULT_URL)"
    )
