"""The Run state machine: the statuses, which are terminal, and every allowed move in one table.

```
queued ──► running ──► succeeded | failed | timed_out
   │          │
   │          └──► cancelling ──► cancelled | failed | timed_out | succeeded
   └──► cancelled | failed
```

``queued -> failed`` exists for a run whose job version cannot be loaded at all;
``cancelling -> succeeded`` for work that finished before it saw the cancel request.
"""

from __future__ import annotations

from enum import StrEnum

from lakegate.errors import ConflictError


class RunStatus(StrEnum):
    """Status of a run, as stored in ``runs.status`` and returned by the API."""

    queued = "queued"
    running = "running"
    cancelling = "cancelling"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    timed_out = "timed_out"


TERMINAL: frozenset[RunStatus] = frozenset(
    {RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled, RunStatus.timed_out}
)
"""Statuses a run never leaves."""

ACTIVE: frozenset[RunStatus] = frozenset({RunStatus.running, RunStatus.cancelling})
"""Statuses of a run some worker is executing (what crash recovery looks for)."""

TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.queued: frozenset({RunStatus.running, RunStatus.cancelled, RunStatus.failed}),
    RunStatus.running: frozenset(
        {RunStatus.succeeded, RunStatus.failed, RunStatus.timed_out, RunStatus.cancelling}
    ),
    RunStatus.cancelling: frozenset(
        {RunStatus.cancelled, RunStatus.failed, RunStatus.timed_out, RunStatus.succeeded}
    ),
    RunStatus.succeeded: frozenset(),
    RunStatus.failed: frozenset(),
    RunStatus.cancelled: frozenset(),
    RunStatus.timed_out: frozenset(),
}
"""Every allowed ``from -> to`` move; anything else is an :class:`IllegalTransitionError`."""


class IllegalTransitionError(ConflictError):
    """A status change the state machine does not allow (e.g. a finished run set running)."""

    title = "Illegal run state transition"


def is_terminal(status: str | RunStatus) -> bool:
    """True when a run in ``status`` will never change again."""
    return RunStatus(status) in TERMINAL


def can_transition(current: str | RunStatus, target: str | RunStatus) -> bool:
    """True when the state machine allows ``current -> target``."""
    return RunStatus(target) in TRANSITIONS[RunStatus(current)]


def check_transition(current: str | RunStatus, target: str | RunStatus) -> RunStatus:
    """Return ``target`` as a :class:`RunStatus`, or raise :class:`IllegalTransitionError`."""
    if not can_transition(current, target):
        raise IllegalTransitionError(f"run status cannot change from {current} to {target}")
    return RunStatus(target)
