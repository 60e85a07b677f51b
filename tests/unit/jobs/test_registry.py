"""Tenant-scoped job CRUD with versions and reference checks (SQLite catalog)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lakegate.catalog.models import Connection, Tenant
from lakegate.catalog.session import Catalog
from lakegate.errors import ConfigError, ConflictError, NotFoundError
from lakegate.jobs import registry
from lakegate.jobs.models import JobDefinitionSpec
from lakegate.jobs.registry import JobView
from tests.unit.jobs.conftest import BOTH_CATALOGS, quality_job

pytestmark = BOTH_CATALOGS


def _ingest(name: str, connection: str) -> JobDefinitionSpec:
    return JobDefinitionSpec.model_validate(
        {
            "name": name,
            "steps": [
                {"type": "ingest", "connection": connection, "tables": [{"table": "orders"}]}
            ],
        }
    )


def _other_tenant(catalog: Catalog) -> Tenant:
    with catalog.transaction() as session:
        other = Tenant(slug="globex", name="Globex", environment="prod", status="active")
        session.add(other)
    return other


def test_create_then_read_by_id_and_by_name(
    catalog: Catalog, tenant: Tenant, make_job: Callable[..., JobView]
) -> None:
    view = make_job(name="daily")
    assert view.version.version == 1
    with catalog.session() as session:
        assert registry.get_job_view(session, tenant.id, view.job.id).spec.name == "daily"
        assert registry.get_job(session, tenant.id, "daily").id == view.job.id


def test_duplicate_name_is_a_conflict(make_job: Callable[..., JobView]) -> None:
    make_job(name="daily")
    with pytest.raises(ConflictError, match="'daily' already exists"):
        make_job(name="daily")


def test_update_adds_a_version_and_keeps_the_old_spec(
    catalog: Catalog, tenant: Tenant, make_job: Callable[..., JobView]
) -> None:
    view = make_job(name="daily")
    with catalog.session() as session:
        updated = registry.update_job(
            session, tenant.id, view.job.id, quality_job("daily", timeout_s=60)
        )
        same = registry.update_job(
            session, tenant.id, view.job.id, quality_job("daily", timeout_s=60)
        )
        versions = registry.list_versions(session, tenant.id, view.job.id)
    assert updated.version.version == 2
    assert same.version.version == 2  # an identical spec is not a change
    assert [v.version for v in versions] == [1, 2]
    assert "timeout_s" not in versions[0].spec
    assert versions[1].spec["timeout_s"] == 60


def test_unknown_connection_names_the_step_field(catalog: Catalog, tenant: Tenant) -> None:
    with catalog.session() as session:
        with pytest.raises(ConfigError, match=r"steps\.0\.connection: unknown connection 'erp'"):
            registry.create_job(session, tenant.id, _ingest("load", "erp"))
        assert registry.count_jobs(session, tenant.id) == 0


def test_known_connection_is_accepted_only_for_its_tenant(catalog: Catalog, tenant: Tenant) -> None:
    other = _other_tenant(catalog)
    with catalog.transaction() as session:
        session.add(Connection(tenant_id=other.id, name="erp", type="postgresql", config={}))
    with catalog.session() as session:
        with pytest.raises(ConfigError):
            registry.create_job(session, tenant.id, _ingest("load", "erp"))
        assert registry.create_job(session, other.id, _ingest("load", "erp")).version.version == 1


def test_other_tenants_jobs_are_not_found(
    catalog: Catalog, make_job: Callable[..., JobView]
) -> None:
    view = make_job(name="daily")
    other = _other_tenant(catalog)
    with catalog.session() as session:
        for call in (
            lambda: registry.get_job(session, other.id, view.job.id),
            lambda: registry.get_job(session, other.id, "daily"),
            lambda: registry.delete_job(session, other.id, view.job.id),
            lambda: registry.update_job(session, other.id, view.job.id, quality_job("daily")),
        ):
            with pytest.raises(NotFoundError):
                call()
        assert registry.list_jobs(session, other.id) == []


def test_delete_hides_the_job_and_frees_its_name(
    catalog: Catalog, tenant: Tenant, make_job: Callable[..., JobView]
) -> None:
    view = make_job(name="daily")
    with catalog.session() as session:
        registry.delete_job(session, tenant.id, view.job.id)
        with pytest.raises(NotFoundError):
            registry.get_job(session, tenant.id, view.job.id)
    again = make_job(name="daily")
    assert again.job.id != view.job.id


def test_list_pages_by_name(
    catalog: Catalog, tenant: Tenant, make_job: Callable[..., JobView]
) -> None:
    for name in ("c", "a", "b"):
        make_job(name=name)
    with catalog.session() as session:
        first = registry.list_jobs(session, tenant.id, limit=2)
        rest = registry.list_jobs(session, tenant.id, limit=2, after=first[-1].job.name)
    assert [v.job.name for v in first] == ["a", "b"]
    assert [v.job.name for v in rest] == ["c"]
