"""Feature flags through the OpenFeature SDK with the catalog-backed provider."""

from __future__ import annotations

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from sqlalchemy.orm import Session

from lakegate.catalog.models import Tenant
from lakegate.catalog.session import Catalog
from lakegate.errors import ConfigError
from lakegate.tenants.features import DEFAULT_FLAGS, FeatureFlags, set_flags


def test_defaults_then_overrides(catalog: Catalog, session: Session, tenant: Tenant) -> None:
    flags = FeatureFlags(catalog.sessions)
    assert flags.evaluate_all(tenant) == dict(sorted(DEFAULT_FLAGS.items()))
    set_flags(session, tenant, {"spark_engine": True, "webhooks": False})
    session.commit()
    assert flags.is_enabled(tenant, "spark_engine") is True
    assert flags.is_enabled(tenant, "webhooks") is False
    assert flags.is_enabled(tenant, "schedules") is DEFAULT_FLAGS["schedules"]


def test_overrides_are_per_tenant(catalog: Catalog, session: Session, tenant: Tenant) -> None:
    other = Tenant(slug="other", name="Other")
    session.add(other)
    set_flags(session, tenant, {"webhooks": False})
    session.commit()
    flags = FeatureFlags(catalog.sessions)
    assert not flags.is_enabled(tenant, "webhooks")
    assert flags.is_enabled(other, "webhooks")


def test_evaluation_goes_through_openfeature(
    catalog: Catalog, session: Session, tenant: Tenant
) -> None:
    set_flags(session, tenant, {"lineage": True})
    session.commit()
    flags = FeatureFlags(catalog.sessions)
    client = api.get_client(flags.domain)
    details = client.get_boolean_details(
        "lineage", False, EvaluationContext(targeting_key=tenant.id)
    )
    assert details.value is True
    assert details.reason == "TARGETING_MATCH"
    unknown = client.get_boolean_details("nope", False, EvaluationContext(targeting_key=tenant.id))
    assert unknown.value is False
    assert unknown.error_code is not None
    assert (
        client.get_string_value("lineage", "x", EvaluationContext(targeting_key=tenant.id)) == "x"
    )


def test_unknown_flag_names_are_refused(session: Session, tenant: Tenant) -> None:
    with pytest.raises(ConfigError, match=r"features\.bogus"):
        set_flags(session, tenant, {"bogus": True})
