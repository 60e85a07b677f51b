"""Query helpers over the catalog. Repositories flush but never commit: services own
transactions. Every tenant-owned lookup takes the tenant id, so another tenant's row is
simply not found."""

from lakegate.catalog.repositories.audit import AuditRepository
from lakegate.catalog.repositories.connections import ConnectionRepository
from lakegate.catalog.repositories.tenants import ApiKeyRepository, TenantRepository

__all__ = ["ApiKeyRepository", "AuditRepository", "ConnectionRepository", "TenantRepository"]
