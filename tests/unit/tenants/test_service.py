"""Tenant service rules: slugs, environments, sandbox isolation, lake prefix."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from lakegate.catalog.models import Tenant
from lakegate.errors import ConfigError, NotFoundError
from lakegate.tenants import service


@pytest.mark.parametrize("slug", ["Acme", "-acme", "ac me", "a/b", "x" * 64, "", "acme_"])
def test_bad_slugs_are_refused(session: Session, slug: str) -> None:
    with pytest.raises(ConfigError, match="slug"):
        service.create_tenant(session, slug=slug, name="x", actor="t")


def test_environment_must_be_prod_or_sandbox(session: Session) -> None:
    with pytest.raises(ConfigError, match="environment"):
        service.create_tenant(session, slug="acme", name="x", environment="staging", actor="t")


def test_prefix_and_namespace(session: Session) -> None:
    sandbox = service.create_tenant(
        session, slug="acme-dev", name="x", environment="sandbox", actor="t"
    )
    assert service.lake_prefix(sandbox) == "acme-dev/sandbox"
    assert service.secret_namespace(sandbox) == "acme-dev-sandbox"
    assert service.get_tenant(session, "acme-dev").id == sandbox.id
    assert service.get_tenant(session, sandbox.id).slug == "acme-dev"
    with pytest.raises(NotFoundError):
        service.get_tenant(session, "ghost")


@pytest.mark.parametrize(
    "config",
    [
        {"host": "db-prod.internal"},
        {"database": "PROD"},
        {"path": "acme/prod/orders"},
        {"nested": {"url": "https://x.example.com/production/api"}},
        {"secret_ref": "acme-prod-erp-password"},
    ],
)
def test_sandbox_cannot_name_prod(config: dict[str, object]) -> None:
    sandbox = Tenant(slug="acme-dev", name="x", environment="sandbox")
    with pytest.raises(ConfigError, match="sandbox tenant cannot name prod"):
        service.check_no_prod_reference(sandbox, config, "config")


def test_sandbox_names_without_prod_pass_and_prod_tenants_are_unrestricted() -> None:
    sandbox = Tenant(slug="acme-dev", name="x", environment="sandbox")
    prod = Tenant(slug="acme", name="x", environment="prod")
    harmless = {"host": "products-db", "database": "reproduce", "port": 5432}
    service.check_no_prod_reference(sandbox, harmless, "config")
    service.check_no_prod_reference(prod, {"host": "db-prod.internal"}, "config")
