"""Schema checks: ``schema`` (required columns, types, strict) and ``schema_change``.

Both read the schema the engine got from metadata (Parquet footers, the database's
catalog); neither scans data.
"""

from __future__ import annotations

from typing import Any

from lakegate.quality.checks.base import (
    Check,
    CheckInputs,
    CheckSql,
    CompileContext,
    Observation,
    canonical_type,
    type_family,
)
from lakegate.quality.models import SchemaChangeCheck, SchemaCheck


class Schema(Check[SchemaCheck]):
    """Missing required columns, wrong type families, or (strict) unexpected columns fail."""

    type = "schema"
    model = SchemaCheck

    def compile(self, check: SchemaCheck, ctx: CompileContext) -> CheckSql:
        """Nothing to query: the schema comes from metadata."""
        return CheckSql()

    def observe(self, check: SchemaCheck, inputs: CheckInputs) -> Observation:
        """Differences between the expected and the actual schema."""
        actual = dict(inputs.columns)
        required = list(dict.fromkeys([*check.columns, *check.types]))
        missing = [name for name in required if name not in actual]
        wrong = {
            name: actual[name]
            for name, expected in check.types.items()
            if name in actual and type_family(actual[name], inputs.dialect) != type_family(expected)
        }
        unexpected = [name for name in actual if name not in required] if check.strict else []
        found: dict[str, Any] = {}
        if missing:
            found["missing"] = missing
        if wrong:
            found["wrong_types"] = wrong
        if unexpected:
            found["unexpected"] = unexpected
        threshold: dict[str, Any] = {"columns": required}
        if check.types:
            threshold["types"] = dict(check.types)
        if check.strict:
            threshold["strict"] = True
        return Observation(observed_value=found, threshold=threshold, passed=not found)


class SchemaChange(Check[SchemaChangeCheck]):
    """Columns added, removed or retyped since the last recorded run fail."""

    type = "schema_change"
    model = SchemaChangeCheck
    needs_history = True

    def compile(self, check: SchemaChangeCheck, ctx: CompileContext) -> CheckSql:
        """Nothing to query."""
        return CheckSql()

    def observe(self, check: SchemaChangeCheck, inputs: CheckInputs) -> Observation:
        """Compare with the newest run in the history that recorded a schema."""
        previous: dict[str, str] | None = None
        previous_dialect = inputs.dialect
        for run in reversed(inputs.history):
            if isinstance(run.get("schema"), dict):
                previous = run["schema"]
                previous_dialect = run.get("dialect") or inputs.dialect
                break
        threshold: dict[str, Any] = {"fail_on": list(check.fail_on)}
        if previous is None:
            return Observation(
                observed_value={}, threshold=threshold, passed=True, message="no earlier run"
            )
        current = dict(inputs.columns)
        changes: dict[str, Any] = {}
        added = [name for name in current if name not in previous]
        removed = [name for name in previous if name not in current]
        # Engines spell the same type differently (DuckDB BIGINT, Spark bigint; VARCHAR
        # and string): compare each side in its own dialect, rendered canonically.
        retyped = {
            name: [previous[name], current[name]]
            for name in current
            if name in previous
            and canonical_type(previous[name], previous_dialect)
            != canonical_type(current[name], inputs.dialect)
        }
        if added:
            changes["added"] = added
        if removed:
            changes["removed"] = removed
        if retyped:
            changes["type_changed"] = retyped
        failing = [kind for kind in changes if kind in check.fail_on]
        return Observation(observed_value=changes, threshold=threshold, passed=not failing)
