"""Run a rule set against a dataset (placeholder: the quality issue fills it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lakegate.lake.storage import Lake
from lakegate.settings import Settings


def check(
    rules: str | Path | Any,
    dataset: str,
    *,
    settings: Settings,
    lake: Lake | None = None,
    engine: str = "duckdb",
    samples: int = 10,
) -> Any:
    """Validate ``dataset`` with ``rules`` (a rule file path or a parsed rule set).

    Returns a result with ``status`` (pass | warn | fail | error), ``checks`` (each with
    ``name`` and ``status``) and ``to_dict()`` (the JSON shape of ``--output json``).
    """
    raise NotImplementedError("the quality engine is not implemented yet")
