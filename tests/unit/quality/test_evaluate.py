"""Thresholds -> statuses, separate from SQL: mostly, severity, bounds."""

from __future__ import annotations

import pytest

from lakegate.quality.evaluate import Observation, bounds, evaluate, rows_pass, within
from lakegate.quality.models import parse_rules


def _check(**kw: object):  # type: ignore[no-untyped-def]
    return parse_rules({"checks": [{"type": "not_null", "column": "a", **kw}]}).checks[0]


@pytest.mark.parametrize(
    ("failed", "checked", "mostly", "passes"),
    [
        (0, 100, None, True),
        (1, 100, None, False),
        (1, 100, 0.99, True),
        (2, 100, 0.99, False),
        (10, 1000, 0.99, True),
        (11, 1000, 0.99, False),
        (0, 0, None, True),
        (3, 3, 0.0, True),
    ],
)
def test_rows_pass_with_mostly(
    failed: int, checked: int, mostly: float | None, passes: bool
) -> None:
    assert rows_pass(failed, checked, mostly) is passes


def test_severity_decides_fail_or_warn() -> None:
    failing = Observation(failed_rows=1, checked_rows=10, observed_value=1)
    assert evaluate(_check(), failing).status == "fail"
    assert evaluate(_check(severity="warn"), failing).status == "warn"
    assert evaluate(_check(mostly=0.9), failing).status == "pass"
    assert evaluate(_check(mostly=0.9), failing).threshold == {"mostly": 0.9}
    assert evaluate(_check(), failing).threshold == {"max_failed_rows": 0}


def test_explicit_verdict_wins() -> None:
    result = evaluate(_check(), Observation(observed_value=5, threshold={"max": 4}, passed=False))
    assert (result.status, result.observed_value, result.threshold) == ("fail", 5, {"max": 4})


def test_bounds_helpers() -> None:
    assert bounds(1, None, None) == {"min": 1}
    assert within(5, 1, 10) and not within(11, 1, 10) and not within(None, 1, 10)
    assert within(3, equals=3) and not within(4, equals=3)
