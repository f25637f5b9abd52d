"""CERS IDs and org codes: 8-digit numbers from 10000001 up, never reused, never max()+1."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

MAX_ID = 99_999_999


class IdsExhaustedError(RuntimeError):
    pass


async def _allocate(session: AsyncSession, counter: str) -> int:
    if session.get_bind().dialect.name == "postgresql":
        # nextval is outside transactions: a rolled-back creation burns its number, which is
        # what "never reused" asks for.
        value = (await session.execute(text(f"SELECT nextval('{counter}_seq')"))).scalar_one()
    else:
        # One statement, under the write lock BEGIN IMMEDIATE took: concurrent creators queue.
        value = (
            await session.execute(
                text(
                    "UPDATE id_allocators SET last_value = last_value + 1 "
                    "WHERE name = :name RETURNING last_value"
                ),
                {"name": counter},
            )
        ).scalar_one()
    if int(value) > MAX_ID:
        raise IdsExhaustedError(f"the {counter} counter passed {MAX_ID}")
    return int(value)


async def allocate_cers_id(session: AsyncSession) -> int:
    return await _allocate(session, "cers_id")


async def allocate_org_code(session: AsyncSession) -> int:
    return await _allocate(session, "org_code")
