"""``schema_change`` compares types across engines by meaning, not by spelling."""

from __future__ import annotations

from lakegate.quality.checks.base import CheckInputs
from lakegate.quality.checks.schema import SchemaChange
from lakegate.quality.models import SchemaChangeCheck

DUCKDB_RUN = {
    "schema": {"id": "BIGINT", "name": "VARCHAR", "amount": "DECIMAL(10,2)"},
    "dialect": "duckdb",
}


def _observe(columns: dict[str, str], dialect: str, history: list[dict[str, object]]) -> object:
    inputs = CheckInputs(
        metrics={}, queries={}, rows=1, columns=columns, history=history, dialect=dialect
    )
    return SchemaChange().observe(SchemaChangeCheck(type="schema_change"), inputs)


def test_spark_spelling_of_the_same_schema_is_no_change() -> None:
    spark = {"id": "bigint", "name": "string", "amount": "decimal(10,2)"}
    observation = _observe(spark, "spark", [DUCKDB_RUN])
    assert observation.passed, observation.observed_value  # type: ignore[attr-defined]


def test_a_real_type_change_across_engines_is_reported() -> None:
    spark = {"id": "string", "name": "string", "amount": "decimal(12,2)"}
    observation = _observe(spark, "spark", [DUCKDB_RUN])
    assert not observation.passed  # type: ignore[attr-defined]
    assert observation.observed_value == {  # type: ignore[attr-defined]
        "type_changed": {"id": ["BIGINT", "string"], "amount": ["DECIMAL(10,2)", "decimal(12,2)"]}
    }


def test_history_without_dialect_is_read_in_the_current_engines_dialect() -> None:
    observation = _observe(
        {"id": "BIGINT", "name": "VARCHAR"},
        "duckdb",
        [{"schema": {"id": "BIGINT", "name": "TEXT"}}],
    )
    assert observation.passed  # type: ignore[attr-defined]
