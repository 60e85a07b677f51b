"""Hand a tenant connection's credentials to the ingestion engine for one step only.

The pipeline reads a source's fields as ``sources.<source_name>.<field>`` through dlt's
provider chain. Rather than exporting them as process-wide environment variables (which
every thread, and every tenant's run, would see), the runner registers one in-memory
provider that answers only for the per-tenant source key of a step in progress, and only
while it runs (:func:`scoped_source`).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dlt.common.configuration.providers import ConfigProvider

from lakegate.observability.redact import register_secret

_ALIASES = {"user": "username", "dbname": "database", "api_key": "token"}
_SAFE = re.compile(r"[^a-z0-9_]+")


class RunConnectionsProvider(ConfigProvider):
    """dlt config provider over the connections of the steps running in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sources: dict[str, dict[str, Any]] = {}
        self._users: dict[str, int] = {}

    def get_value(
        self, key: str, hint: Any, pipeline_name: str | None, *sections: str
    ) -> tuple[Any | None, str]:
        """``sources.<source key>.<field>`` of a source registered by :func:`scoped_source`."""
        if len(sections) == 2 and sections[0] == "sources":
            with self._lock:
                fields = self._sources.get(sections[1])
            if fields is not None:
                return fields.get(key), key
        return None, key

    @property
    def supports_secrets(self) -> bool:
        """It holds passwords and tokens."""
        return True

    @property
    def supports_sections(self) -> bool:
        """Values live under ``sources.<name>``."""
        return True

    @property
    def name(self) -> str:
        """Provider name shown by dlt."""
        return "lakegate-run-connections"

    def add(self, source: str, fields: dict[str, Any]) -> None:
        """Serve ``fields`` for ``source`` (reference-counted: parallel steps may share it)."""
        with self._lock:
            self._sources[source] = fields
            self._users[source] = self._users.get(source, 0) + 1

    def remove(self, source: str) -> None:
        """Forget ``source`` once its last step is done."""
        with self._lock:
            self._users[source] = self._users.get(source, 1) - 1
            if self._users[source] <= 0:
                self._users.pop(source, None)
                self._sources.pop(source, None)


_provider: RunConnectionsProvider | None = None
_provider_lock = threading.Lock()


def provider() -> RunConnectionsProvider:
    """The process's provider, registered in dlt's chain on first use."""
    global _provider
    with _provider_lock:
        if _provider is None:
            from lakegate.secrets.credentials import register_provider

            _provider = RunConnectionsProvider()
            register_provider(_provider)
        return _provider


def source_key(tenant_id: str, connection: str) -> str:
    """The per-tenant source name of a connection (a dlt-safe identifier)."""
    digest = hashlib.sha256(f"{tenant_id}/{connection}".encode()).hexdigest()[:8]
    return f"{_SAFE.sub('_', connection.lower()).strip('_')[:40]}_{digest}"


def credential_fields(config: dict[str, Any], secrets: dict[str, str]) -> dict[str, Any]:
    """The ``sources.<name>.*`` fields of a connection (config, then secrets)."""
    fields: dict[str, Any] = {}
    for source in (config, secrets):
        for key, value in source.items():
            if value is not None and value != "":
                fields[_ALIASES.get(key, key)] = value
    for value in secrets.values():
        register_secret(str(value))
    return fields


@contextmanager
def scoped_source(
    tenant_id: str, connection: str, config: dict[str, Any], secrets: dict[str, str]
) -> Iterator[str]:
    """Make a connection resolvable as ``sources.<key>`` while the block runs; yields key."""
    key = source_key(tenant_id, connection)
    registry = provider()
    registry.add(key, credential_fields(config, secrets))
    try:
        yield key
    finally:
        registry.remove(key)
