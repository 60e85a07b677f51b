"""Fixtures of the tenant tests: an in-memory catalog with one tenant."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from lakegate.catalog.models import Tenant
from lakegate.catalog.session import Catalog


@pytest.fixture
def catalog() -> Iterator[Catalog]:
    """A fresh in-memory catalog."""
    cat = Catalog.from_url("sqlite://")
    cat.create_all()
    yield cat
    cat.dispose()


@pytest.fixture
def session(catalog: Catalog) -> Iterator[Session]:
    """A session on it."""
    with catalog.session() as s:
        yield s


@pytest.fixture
def tenant(session: Session) -> Tenant:
    """An active prod tenant ``acme``."""
    t = Tenant(slug="acme", name="Acme", environment="prod")
    session.add(t)
    session.commit()
    return t
