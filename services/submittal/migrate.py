"""Bring the submittal database to the newest schema."""

from __future__ import annotations

from pathlib import Path

from common.migrations import upgrade_async

SCRIPT_LOCATION = Path(__file__).resolve().parent / "alembic"


async def migrate(url: str) -> None:
    await upgrade_async(SCRIPT_LOCATION, url)
