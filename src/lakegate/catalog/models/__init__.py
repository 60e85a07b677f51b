"""Every catalog table model; importing this package registers them all on ``Base.metadata``.

``jobs`` and ``runs`` belong to the job platform; they are imported when present so that
Alembic and ``Catalog.create_all`` always see the whole schema.
"""

from __future__ import annotations

import importlib
import importlib.util

from lakegate.catalog.models.audit import AuditEvent
from lakegate.catalog.models.connections import Connection
from lakegate.catalog.models.tenants import (
    API_KEY_ROLES,
    ENVIRONMENTS,
    ApiKey,
    FeatureFlag,
    Quota,
    Role,
    Tenant,
    TenantEnvironment,
    TenantStatus,
)

_OPTIONAL_MODULES = ("lakegate.catalog.models.jobs", "lakegate.catalog.models.runs")


def import_all_models() -> None:
    """Import every model module (the job platform's ones when they exist)."""
    for name in _OPTIONAL_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


import_all_models()

__all__ = [
    "API_KEY_ROLES",
    "ENVIRONMENTS",
    "ApiKey",
    "AuditEvent",
    "Connection",
    "FeatureFlag",
    "Quota",
    "Role",
    "Tenant",
    "TenantEnvironment",
    "TenantStatus",
    "import_all_models",
]
