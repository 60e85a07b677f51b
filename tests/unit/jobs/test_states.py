"""The Run state machine: terminal statuses and the transition table."""

from __future__ import annotations

import pytest

from lakegate.jobs.states import (
    TERMINAL,
    TRANSITIONS,
    IllegalTransitionError,
    RunStatus,
    can_transition,
    check_transition,
    is_terminal,
)


def test_terminal_statuses_are_exactly_the_four_endings() -> None:
    assert {s.value for s in TERMINAL} == {"succeeded", "failed", "cancelled", "timed_out"}
    assert all(is_terminal(s) for s in TERMINAL)
    assert not any(is_terminal(s) for s in ("queued", "running", "cancelling"))


def test_terminal_statuses_allow_no_move() -> None:
    for status in TERMINAL:
        assert TRANSITIONS[status] == frozenset()
        for target in RunStatus:
            assert not can_transition(status, target)


def test_every_status_is_in_the_table() -> None:
    assert set(TRANSITIONS) == set(RunStatus)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("queued", "running"),
        ("queued", "cancelled"),
        ("running", "succeeded"),
        ("running", "failed"),
        ("running", "timed_out"),
        ("running", "cancelling"),
        ("cancelling", "cancelled"),
        ("cancelling", "timed_out"),
    ],
)
def test_allowed_moves(current: str, target: str) -> None:
    assert check_transition(current, target) == RunStatus(target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("queued", "succeeded"),
        ("running", "queued"),
        ("running", "cancelled"),
        ("succeeded", "running"),
        ("failed", "queued"),
        ("cancelled", "running"),
    ],
)
def test_forbidden_moves_raise_a_conflict(current: str, target: str) -> None:
    with pytest.raises(IllegalTransitionError, match=f"from {current} to {target}") as info:
        check_transition(current, target)
    assert info.value.http_status == 409


def test_unknown_status_is_rejected() -> None:
    with pytest.raises(ValueError):
        is_terminal("paused")
