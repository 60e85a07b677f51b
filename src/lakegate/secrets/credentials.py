"""Connection credentials of a source, read through dlt's configuration provider chain.

A source ``postgres_erp`` has its fields under ``sources.postgres_erp``: ``host``,
``port``, ``database``, ``username``, ``password`` (Oracle also ``sid`` or
``service_name``; REST sources may have ``token``). Every field is looked up through
the same chain dlt itself uses, first hit wins:

1. environment variables, dlt's convention: ``SOURCES__POSTGRES_ERP__PASSWORD``;
2. ``.dlt/secrets.toml`` then ``.dlt/config.toml`` in the project folder (the working
   directory, or ``DLT_PROJECT_DIR``), then the global dlt folder;
3. any extra provider registered with :func:`register_provider` (Azure Key Vault, with
   the naming convention ``postgres-erp-password`` of :mod:`lakegate.secrets.naming`),
   consulted only when the ones above do not resolve the field.

Every secret value resolved here is registered with
:func:`lakegate.observability.redact.register_secret` before it is returned.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import dlt
from dlt.common.configuration.container import Container
from dlt.common.configuration.providers import ConfigProvider
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

from lakegate.errors import ConfigError
from lakegate.observability.redact import register_secret

FIELDS = ("host", "port", "database", "username", "password", "sid", "service_name", "token")
"""Credential fields read for a source (missing ones stay ``None``)."""

SECRET_FIELDS = frozenset({"password", "token"})
"""Fields whose values are masked everywhere once resolved."""

_lock = threading.Lock()
_registered: list[ConfigProvider] = []


@dataclass(frozen=True)
class SourceCredentials:
    """Connection fields of one source; ``repr`` never shows the password or token."""

    source_name: str
    host: str | None = None
    port: int | None = None
    database: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sid: str | None = None
    service_name: str | None = None
    token: str | None = field(default=None, repr=False)


def register_provider(provider: ConfigProvider) -> None:
    """Add ``provider`` at the end of dlt's chain (after env and TOML files).

    Kept across :func:`reload_providers`, so a provider registered at start-up (Key
    Vault) survives a reload of the TOML files. Registering the same name twice is a
    no-op.
    """
    with _lock:
        if any(p.name == provider.name for p in _registered):
            return
        _registered.append(provider)
        providers = Container()[PluggableRunContext].providers
        if provider.name not in providers:
            providers.add_provider(provider)


def reload_providers() -> None:
    """Re-read the provider chain (a changed ``.dlt/secrets.toml`` or ``DLT_PROJECT_DIR``).

    dlt reads the TOML files once; call this after writing them. Providers added with
    :func:`register_provider` are re-attached at the end of the chain.
    """
    with _lock:
        context = Container()[PluggableRunContext]
        context.reload_providers()
        for provider in _registered:
            if provider.name not in context.providers:
                context.providers.add_provider(provider)


def provider_names() -> list[str]:
    """Names of the providers in lookup order (documentation, diagnostics)."""
    return [p.name for p in Container()[PluggableRunContext].providers.providers]


def _lookup(source_name: str, name: str) -> Any:
    # dlt.secrets reads secret and non-secret providers alike (env, secrets.toml,
    # config.toml, registered vaults), so one accessor covers every field.
    return dlt.secrets.get(f"sources.{source_name}.{name}")


def resolve_source_credentials(source_name: str) -> SourceCredentials:
    """Read the credentials of ``source_name`` through the provider chain.

    Raises :class:`ConfigError` for a field of the wrong type (a non-numeric port).
    Missing fields are ``None``; what a source type requires is checked by the code
    that builds its connection URL.
    """
    values: dict[str, Any] = {}
    for name in FIELDS:
        value = _lookup(source_name, name)
        if value is None or value == "":
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(int(value)) if name != "port" else int(value)
        if name in SECRET_FIELDS:
            value = str(value)
            register_secret(value)
        values[name] = value
    port = values.get("port")
    if port is not None and not isinstance(port, int):
        try:
            values["port"] = int(str(port).strip())
        except ValueError:
            raise ConfigError(
                f"sources.{source_name}.port: {str(port)!r} is not a port number"
            ) from None
    for name in ("host", "database", "username", "sid", "service_name"):
        if name in values:
            values[name] = str(values[name])
    return SourceCredentials(source_name=source_name, **values)
