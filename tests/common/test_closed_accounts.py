from __future__ import annotations

import pytest
from sqlalchemy import MetaData, func, select

from common.auth import AuthError, Principal
from common.closed_accounts import closed_accounts_table, closings, refuse_closed
from common.db import Database
from common.events.envelope import Envelope

metadata = MetaData()
CLOSED = closed_accounts_table(metadata)


def person(sub: str, portal: str | None = "business") -> Principal:
    return Principal(sub=sub, portal=portal, scopes=frozenset(),  # type: ignore[arg-type]
                     client_id="portal" if portal else sub, token_id="t")


def event(type_: str, user_id: str, sequence: int) -> Envelope:
    data = {"user_id": user_id, "deactivated_at": "2026-12-01T09:00:00Z"}
    return Envelope(type=type_, aggregate_id=user_id, sequence=sequence, data=data)


async def test_a_closing_applied_twice_is_one_row_and_refuses_only_that_persons_tokens(
    database_url: str,
) -> None:
    db = Database(database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    handle = closings(CLOSED)
    async with db.transaction() as session:
        await handle(session, event("identity.user.updated", "ann", 1))  # no effect
        await handle(session, event("identity.user.deactivated", "vic", 2))
        await handle(session, event("identity.user.deactivated", "vic", 2))  # a replay
    admit = refuse_closed(db, CLOSED)
    with pytest.raises(AuthError, match="closed"):
        await admit(person("vic"))
    await admit(person("ann"))
    await admit(person("vic", portal=None))  # a client-credentials token acts for no person
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(CLOSED)) == 1
    await db.dispose()
