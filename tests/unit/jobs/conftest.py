"""Fixtures of the job platform's unit tests: a file SQLite catalog with one tenant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lakegate.catalog.models import Tenant
from lakegate.catalog.session import Catalog
from lakegate.jobs import registry
from lakegate.jobs.models import JobDefinitionSpec
from lakegate.jobs.registry import JobView
from lakegate.settings import Settings, get_settings

BOTH_CATALOGS = pytest.mark.parametrize("catalog", ["sqlite", "postgresql"], indirect=True)
"""Run a module's tests on SQLite and on the real PostgreSQL (``pytestmark = BOTH_CATALOGS``)."""


@pytest.fixture
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    """A fresh catalog: file SQLite (the embedded default) or, when parametrized, PostgreSQL."""
    if getattr(request, "param", "sqlite") == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'catalog.db'}"  # a file: worker threads share it
    catalog = Catalog.from_url(url)
    catalog.create_all()
    yield catalog
    catalog.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with the lake in the test's folder."""
    return get_settings(lake={"url": str(tmp_path / "lake")})


@pytest.fixture
def tenant(catalog: Catalog) -> Tenant:
    """An active prod tenant ``acme``."""
    with catalog.transaction() as session:
        row = Tenant(slug="acme", name="Acme", environment="prod", status="active")
        session.add(row)
    return row


def quality_job(name: str = "job", **extra: Any) -> JobDefinitionSpec:
    """A one-step job that needs no connection."""
    return JobDefinitionSpec.model_validate(
        {
            "name": name,
            "steps": [
                {
                    "type": "quality",
                    "dataset": "orders",
                    "checks": [{"type": "row_count", "min": 1}],
                }
            ],
            **extra,
        }
    )


@pytest.fixture
def make_job(catalog: Catalog, tenant: Tenant) -> Callable[..., JobView]:
    """Create a job of the tenant: ``make_job(spec=None, **spec_fields)``."""

    def make(spec: JobDefinitionSpec | None = None, **extra: Any) -> JobView:
        with catalog.session() as session:
            return registry.create_job(session, tenant.id, spec or quality_job(**extra))

    return make
