"""The Key Vault naming convention: source ``postgres_erp`` -> ``postgres-erp-host``."""

from __future__ import annotations

import re

from lakegate.errors import ConfigError

_VALID = re.compile(r"^[0-9a-zA-Z-]{1,127}$")


def secret_name(source_name: str, field: str) -> str:
    """Key Vault secret name of one credential field of a source.

    ``secret_name("postgres_erp", "host") == "postgres-erp-host"``;
    ``secret_name("oracle_crm", "service_name") == "oracle-crm-service-name"``.
    """
    name = f"{source_name}-{field}".replace("_", "-").replace(".", "-").lower()
    validate_secret_name(name)
    return name


def validate_secret_name(name: str) -> None:
    """Reject names Key Vault would refuse: only ``0-9a-zA-Z-``, 1 to 127 characters."""
    if not _VALID.match(name):
        raise ConfigError(
            f"secret name {name!r} is not valid for Key Vault "
            "(only letters, digits and '-', 1 to 127 characters)"
        )
