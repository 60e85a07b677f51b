"""Tenant, key, connection, quota and flag services on SQLite and on the real PostgreSQL.

The same assertions run on both catalogs (migrated with Alembic, as in production).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lakegate.catalog.migrate import upgrade
from lakegate.catalog.models import ApiKey, AuditEvent, Connection, Tenant
from lakegate.catalog.repositories import ApiKeyRepository, ConnectionRepository
from lakegate.catalog.session import Catalog
from lakegate.connections import service as connections
from lakegate.errors import ConfigError, ConflictError, NotFoundError
from lakegate.settings import Settings
from lakegate.tenants import quotas, service
from lakegate.tenants.features import FeatureFlags, set_flags

SECRET = "both-backends-secret-value"


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    url = (
        f"sqlite:///{tmp_path / 'c.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    upgrade(url)
    cat = Catalog.from_url(url)
    yield cat
    cat.dispose()


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_key="both-backends-key-0123456789")  # type: ignore[arg-type]


def test_tenant_lifecycle_and_cascade(catalog: Catalog, settings: Settings) -> None:
    with catalog.session() as session:
        acme = service.create_tenant(session, slug="acme", name="Acme", actor="t")
        with pytest.raises(ConflictError):
            service.create_tenant(session, slug="acme", name="Again", actor="t")
        with pytest.raises(ConfigError, match="slug"):
            service.create_tenant(session, slug="Bad_Slug", name="x", actor="t")
        _key, token = service.create_api_key(session, acme, name="k", role="viewer", actor="t")
        connections.create(
            session,
            acme,
            settings,
            name="erp",
            type="postgresql",
            config={"host": "h", "database": "d"},
            secrets={"password": SECRET},
            actor="t",
        )
        quotas.set_quota(session, acme, {"max_runs_per_hour": 3})
        set_flags(session, acme, {"lineage": True})
        session.commit()
        assert acme.created_at.tzinfo is not None
        with pytest.raises(ConflictError, match="deactivate"):
            service.delete_tenant(session, "acme", actor="t")
        service.set_active(session, "acme", active=False, actor="t")
        service.delete_tenant(session, "acme", actor="t")
        for model in (ApiKey, Connection):
            assert session.scalar(select(func.count()).select_from(model)) == 0
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.created_at)).all()
        assert actions[0] == "tenant.created" and actions[-1] == "tenant.deleted"
        assert token not in str(session.scalars(select(AuditEvent.details)).all())


def test_repositories_are_tenant_scoped(catalog: Catalog, settings: Settings) -> None:
    with catalog.session() as session:
        acme = service.create_tenant(session, slug="acme", name="A", actor="t")
        other = service.create_tenant(session, slug="other", name="O", actor="t")
        key, _ = service.create_api_key(session, acme, name="k", role="admin", actor="t")
        connections.create(
            session,
            acme,
            settings,
            name="erp",
            type="sqlite",
            config={"database": "/tmp/x.db"},
            secrets={"password": SECRET},
            actor="t",
        )
        assert ApiKeyRepository(session, other.id).get(key.id) is None
        assert ConnectionRepository(session, other.id).get("erp") is None
        with pytest.raises(NotFoundError):
            connections.resolve(session, other, "erp", settings)
        resolved = connections.resolve(session, acme, "erp", settings)
        assert resolved.secrets == {"password": SECRET}
        stored = session.scalars(select(Connection.secrets_ciphertext)).one()
        assert stored is not None and SECRET not in stored


def test_flags_and_quotas(catalog: Catalog, settings: Settings) -> None:
    with catalog.session() as session:
        acme = service.create_tenant(session, slug="acme", name="A", actor="t")
        flags = FeatureFlags(catalog.sessions)
        assert flags.is_enabled(acme, "lineage") is False
        set_flags(session, acme, {"lineage": True})
        session.commit()
        assert flags.is_enabled(acme, "lineage") is True
        quotas.set_quota(session, acme, {"max_concurrent_runs": 0})
        session.commit()
        with pytest.raises(Exception, match="max_concurrent_runs=0"):
            quotas.acquire_run_slot(acme, session, quotas.RunRateLimiter())
        used = quotas.usage(acme, session, settings)
        assert (used.active_runs, used.runs_last_hour) == (0, 0)
        assert isinstance(session.get(Tenant, acme.id), Tenant)
