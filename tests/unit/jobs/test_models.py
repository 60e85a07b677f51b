"""The JobDefinition document: steps by type, cron, timezone, ingest tables, checks."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from lakegate.jobs.models import IngestStep, JobDefinitionSpec, QualityStep


def _job(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "erp-daily",
        "steps": [
            {
                "type": "ingest",
                "connection": "erp",
                "tables": [
                    {
                        "schema": "public",
                        "table": "orders",
                        "load_type": "INCREMENTAL",
                        "watermark_column": "updated_at",
                        "primary_key": ["id"],
                    }
                ],
            },
            {
                "type": "quality",
                "dataset": "orders",
                "checks": [{"type": "not_null", "column": "id"}],
            },
        ],
        "schedule": {"cron": "0 6 * * *", "timezone": "Europe/Paris"},
    }
    body.update(overrides)
    return body


def _locations(exc: ValidationError) -> list[str]:
    return [".".join(str(p) for p in error["loc"]) for error in exc.errors()]


def test_a_full_job_parses_into_typed_steps_and_round_trips() -> None:
    job = JobDefinitionSpec.model_validate(_job())
    assert isinstance(job.steps[0], IngestStep)
    assert isinstance(job.steps[1], QualityStep)
    assert job.steps[0].tables[0].schema_name == "public"
    spec = job.to_spec()
    assert spec["steps"][0]["tables"][0]["schema"] == "public"  # written back as users write it
    assert JobDefinitionSpec.model_validate(spec) == job


def test_unknown_step_type_names_the_step() -> None:
    with pytest.raises(ValidationError) as info:
        JobDefinitionSpec.model_validate(_job(steps=[{"type": "spark"}]))
    assert _locations(info.value) == ["steps.0"]
    assert "spark" in str(info.value)


@pytest.mark.parametrize("cron", ["61 * * * *", "every day", "* * * *", "0 6 * * * *"])
def test_bad_cron_is_refused(cron: str) -> None:
    with pytest.raises(ValidationError) as info:
        JobDefinitionSpec.model_validate(_job(schedule={"cron": cron}))
    assert _locations(info.value) == ["schedule.cron"]


def test_unknown_timezone_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        JobDefinitionSpec.model_validate(
            _job(schedule={"cron": "0 6 * * *", "timezone": "Mars/Base"})
        )
    assert _locations(info.value) == ["schedule.timezone"]


def test_incremental_table_needs_a_watermark() -> None:
    body = _job()
    del body["steps"][0]["tables"][0]["watermark_column"]
    with pytest.raises(ValidationError) as info:
        JobDefinitionSpec.model_validate(body)
    assert _locations(info.value) == ["steps.0.ingest.tables.0"]
    assert "watermark_column" in str(info.value)


def test_unknown_check_type_names_the_check_index() -> None:
    body = _job()
    body["steps"][1]["checks"] = [{"type": "not_null", "column": "id"}, {"type": "telepathy"}]
    with pytest.raises(ValidationError) as info:
        JobDefinitionSpec.model_validate(body)
    assert _locations(info.value) == ["steps.1.quality.checks"]
    assert "checks[1].type" in str(info.value)
    assert "telepathy" in str(info.value)


def test_check_keys_are_validated_by_the_quality_models() -> None:
    body = _job()
    body["steps"][1]["checks"] = [{"type": "between", "column": "amount"}]  # no min/max
    with pytest.raises(ValidationError) as info:
        JobDefinitionSpec.model_validate(body)
    assert "checks[0]" in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "../etc"),
        ("name", ""),
        ("timeout_s", 0),
        ("retries", 11),
        ("steps", []),
        ("unknown", 1),
    ],
)
def test_bad_top_level_fields_are_refused(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        JobDefinitionSpec.model_validate(_job(**{field: value}))
    assert _locations(info.value)[0].startswith(field)


def test_table_names_cannot_carry_sql() -> None:
    body = _job()
    body["steps"][0]["tables"][0]["table"] = "orders; drop table x"
    with pytest.raises(ValidationError) as info:
        JobDefinitionSpec.model_validate(body)
    assert _locations(info.value) == ["steps.0.ingest.tables.0.table"]


@pytest.mark.parametrize(
    "dataset", ["../other-tenant/prod/orders", "/etc", "orders/*.parquet", "az://c/x", "a b"]
)
def test_quality_dataset_is_a_bare_table_name(dataset: str) -> None:
    """A path, glob or URL could reach outside the tenant's lake prefix."""
    body = _job()
    body["steps"][1]["dataset"] = dataset
    with pytest.raises(ValidationError) as info:
        JobDefinitionSpec.model_validate(body)
    assert _locations(info.value) == ["steps.1.quality.dataset"]
