"""Options and output helpers shared by every command."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console

from lakegate.settings import Settings, get_settings


class Output(StrEnum):
    """How a command presents its result."""

    table = "table"
    json = "json"


OutputOption = Annotated[
    Output,
    typer.Option(
        "--output", "-o", help="table: human-readable; json: one JSON document on stdout."
    ),
]
LakeOption = Annotated[
    str | None,
    typer.Option(
        "--lake",
        help="Lake root: a local folder or fsspec URL (az://container). "
        "Default: $LAKEGATE_LAKE_URL or ./lake.",
        show_default=False,
    ),
]

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)


def emit_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout (machines read this)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def load_settings(lake: str | None = None) -> Settings:
    """Settings from the environment with the command-line lake override applied."""
    settings = get_settings()
    if lake:
        settings.lake.url = lake
    return settings
