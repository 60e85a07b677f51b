"""/api/v1 routes of jobs (placeholder: the platform issue fills it)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["jobs"])
