"""Result shapes: the JSON document, statuses and exit codes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from lakegate.quality.results import (
    CHECK_KEYS,
    RESULT_KEYS,
    CheckResult,
    QualityResult,
    json_value,
)


def _check(status: str, severity: str = "error", **kw: object) -> CheckResult:
    return CheckResult(
        name=f"c_{status}_{severity}",
        type="not_null",
        column="a",
        status=status,
        severity=severity,
        **kw,
    )  # type: ignore[arg-type]


def test_to_dict_has_exactly_the_documented_keys() -> None:
    result = QualityResult(
        dataset="orders",
        rows=200,
        checks=[
            _check(
                "fail",
                failed_rows=3,
                checked_rows=200,
                observed_value=3,
                threshold={"max_failed_rows": 0},
                samples=[{"a": None}],
            )
        ],
        duration_s=0.123456,
    )
    data = result.to_dict()
    assert tuple(data) == RESULT_KEYS
    assert tuple(data["checks"][0]) == CHECK_KEYS
    assert data["status"] == "fail"
    assert data["duration_s"] == 0.1235
    assert data["checks"][0]["failed_percent"] == 1.5
    assert data["checks"][0]["samples"] == [{"a": None}]


def test_failed_percent_of_no_rows_and_of_non_row_checks() -> None:
    assert _check("pass", failed_rows=0, checked_rows=0).failed_percent == 0.0
    assert _check("pass", observed_value=5).failed_percent is None


def test_dataset_status_precedence_and_exit_codes() -> None:
    def result(*checks: CheckResult) -> QualityResult:
        return QualityResult(dataset="d", rows=1, checks=list(checks))

    assert result(_check("pass")).status == "pass"
    assert result(_check("pass")).exit_code == 0
    assert result(_check("pass"), _check("warn", "warn")).status == "warn"
    assert result(_check("warn", "warn")).exit_code == 0
    assert result(_check("warn", "warn"), _check("fail")).status == "fail"
    assert result(_check("fail")).exit_code == 1
    assert result(_check("fail"), _check("error")).status == "error"
    assert result(_check("error")).exit_code == 1
    assert result(_check("error", "warn")).exit_code == 0
    assert result(_check("pass"), _check("fail")).failed_checks == ["c_fail_error"]


def test_json_value_converts_engine_values() -> None:
    assert json_value(Decimal("2.00")) == 2
    assert json_value(Decimal("2.50")) == 2.5
    assert json_value(float("nan")) is None
    assert json_value(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05"
    assert json_value(date(2026, 1, 2)) == "2026-01-02"
    assert json_value({"k": [Decimal(1), b"\x01"]}) == {"k": [1, "01"]}


def test_from_dict_round_trip() -> None:
    original = QualityResult(
        dataset="d",
        rows=10,
        checks=[_check("fail", failed_rows=1, checked_rows=3, observed_value=1)],
        duration_s=1.0,
    )
    again = QualityResult.from_dict(original.to_dict())
    assert again.to_dict() == original.to_dict()
