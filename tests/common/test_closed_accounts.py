from __future__ import annotations

import pytest
from sqlalchemy import (
    Column,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
)

from common.auth import AuthError, Principal
from common.closed_accounts import admitted_grants, closed_accounts_table, closings, refuse_closed
from common.db import Database, request_reads
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


GRANTS_TABLE = Table("grants", metadata, Column("user_id", String(100)),
                     Column("target", String(100)), Column("role", String(20)))
GRANTS = union_all(
    select(literal("b").label("kind"), GRANTS_TABLE.c.target, GRANTS_TABLE.c.role)
    .where(GRANTS_TABLE.c.user_id == bindparam("user_id")),
    select(literal("s").label("kind"), GRANTS_TABLE.c.target, GRANTS_TABLE.c.role)
    .where(GRANTS_TABLE.c.user_id == bindparam("user_id"), GRANTS_TABLE.c.role == "ADMIN"),
)


async def test_the_grants_read_with_the_check_last_the_request_and_a_revoked_grant_or_a_closing_counts_at_the_next(  # noqa: E501
    database_url: str,
) -> None:
    db = Database(database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with db.transaction() as session:
        await session.execute(insert(GRANTS_TABLE).values(user_id="ann", target="org1",
                                                          role="EDITOR"))
    admit = refuse_closed(db, CLOSED, GRANTS)

    async with request_reads():
        await admit(person("ann"))
        assert [tuple(r) for r in admitted_grants(db, "ann") or []] == [("b", "org1", "EDITOR")]
        assert admitted_grants(db, "bob") is None  # only the admitted caller's
        async with db.transaction() as session:  # the request writes: the grants are re-read
            await session.execute(delete(GRANTS_TABLE))
        assert admitted_grants(db, "ann") is None
    assert admitted_grants(db, "ann") is None  # nothing outside a request

    async with request_reads():  # the revoked grant counts from the next request
        await admit(person("ann"))
        assert admitted_grants(db, "ann") == []
    async with db.transaction() as session:
        await closings(CLOSED)(session, event("identity.user.deactivated", "ann", 1))
    async with request_reads():  # and so does the closing
        with pytest.raises(AuthError, match="closed"):
            await admit(person("ann"))
        assert admitted_grants(db, "ann") is None
    await db.dispose()
