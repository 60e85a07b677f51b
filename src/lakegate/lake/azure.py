"""Azure Blob Storage / ADLS Gen2: credentials, blob metadata and tags.

Placeholder until the Azure issue lands: every entry point raises a clear error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lakegate.errors import ConfigError

if TYPE_CHECKING:
    from lakegate.lake.storage import Lake
    from lakegate.settings import Settings


def storage_options(settings: Settings) -> dict[str, Any]:
    """fsspec/adlfs storage options for the configured Azure account."""
    raise ConfigError("Azure lakes are not supported yet")


def tag_blobs(lake: Lake, paths: list[str], metadata: Mapping[str, str]) -> None:
    """Set blob metadata (and index tags) on ``paths``."""
    raise ConfigError("Azure lakes are not supported yet")
