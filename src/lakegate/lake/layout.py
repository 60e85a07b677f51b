"""Where things go in the lake.

Data files: ``<table>/<YYYY>/<MM>/<DD>/<load_id>.<file_id>.parquet`` (dlt's filesystem
``layout``). A tenant's runs live under ``<tenant slug>/<environment>/``. Quality
history lives under ``_quality/``; dlt's own state under ``_dlt_*`` folders.
"""

from __future__ import annotations

import re

DATA_LAYOUT = "{table_name}/{YYYY}/{MM}/{DD}/{load_id}.{file_id}.{ext}"
"""dlt filesystem layout of every data file."""

QUALITY_DIR = "_quality"
"""Folder of the quality history store (metric values per run)."""

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def tenant_prefix(slug: str, environment: str) -> str:
    """The lake prefix of a tenant: ``<slug>/<environment>``.

    Raises ValueError for anything that is not a safe slug, so a path can never escape
    the tenant's prefix.
    """
    if not _SLUG.match(slug):
        raise ValueError(f"tenant slug {slug!r} is not lowercase letters, digits and '-'")
    if environment not in {"prod", "sandbox"}:
        raise ValueError(f"environment {environment!r} is not prod or sandbox")
    return f"{slug}/{environment}"
