"""Closed accounts: every service refuses the tokens of an account identity has closed.

An access token stays valid for its 15 minutes whatever happens to its account, so a verified
signature is not enough. Each service keeps the ids of closed accounts, learnt from
``identity.user.deactivated`` (:func:`record_closed`), and refuses their tokens as soon as it
has seen that event (:func:`refuse_closed`, the ``admit`` hook of ``graphql_route``). Closing
an account is final, so the list only grows and a replay rebuilds it exactly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    CompoundSelect,
    MetaData,
    Row,
    Select,
    String,
    Table,
    bindparam,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import AuthError, Principal
from common.contracts import identity
from common.db import Database, recall, remember
from common.events.envelope import Envelope
from common.timestamps import UTCDateTime

TABLE = "closed_accounts"
CLOSED_MESSAGE = (
    "This account was closed; its tokens no longer work. Sign in with another account."
)

Admit = Callable[[Principal], Awaitable[None]]


def closed_accounts_table(metadata: MetaData) -> Table:
    """Define ``closed_accounts`` (user id, when it was closed) on a service's metadata."""
    if TABLE in metadata.tables:
        return metadata.tables[TABLE]
    return Table(
        TABLE,
        metadata,
        Column("user_id", String(100), primary_key=True),
        Column("closed_at", UTCDateTime(), nullable=False),
    )


async def record_closed(session: AsyncSession, table: Table, envelope: Envelope) -> None:
    """Apply ``identity.user.deactivated``; other identity events change nothing here."""
    if envelope.type != identity.USER_DEACTIVATED:
        return
    event = identity.UserDeactivated.model_validate(envelope.data)
    await mark_closed(session, table, event.user_id, event.deactivated_at)


def closings(table: Table) -> Callable[[AsyncSession, Envelope], Awaitable[None]]:
    """An event handler for a consumer of ``identity.user.>`` that keeps ``table``."""

    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        await record_closed(session, table, envelope)

    return handle


async def mark_closed(session: AsyncSession, table: Table, user_id: str, at: datetime) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(table).values(user_id=user_id, closed_at=at).on_conflict_do_nothing()
    )


_IS_CLOSED: dict[int, Select[Any]] = {}


async def is_closed(session: AsyncSession, table: Table, user_id: str) -> bool:
    # Built once per table: this runs on every request of a person.
    query = _IS_CLOSED.get(id(table))
    if query is None:
        query = _IS_CLOSED[id(table)] = select(table.c.user_id).where(
            table.c.user_id == bindparam("user_id"))
    found = await session.execute(query, {"user_id": user_id})
    return found.first() is not None


async def refuse_if_closed(session: AsyncSession, table: Table, principal: Principal) -> None:
    """Raise UNAUTHENTICATED for a person whose account this service knows is closed."""
    if principal.user_id is not None and await is_closed(session, table, principal.user_id):
        raise AuthError(CLOSED_MESSAGE)


CLOSED_KIND = "closed"


def refuse_closed(db: Database, table: Table, grants: CompoundSelect[Any] | None = None) -> Admit:
    """The ``admit`` hook of ``graphql_route``: one primary-key lookup per person's request.

    ``grants`` is the service's statement of a person's grants: rows of (kind, target, role)
    for the bound parameter ``user_id``, a UNION ALL of selects. With it the hook reads the
    grants in the same statement as the closed-account check and keeps them for the rest of
    the request (``admitted_grants``): one round trip instead of two. Nothing is kept past
    the request, so a closed account or a revoked grant counts from the next request on.
    """
    if grants is None:
        async def admit(principal: Principal) -> None:
            if principal.user_id is None:
                return
            async with db.read(leaf=True) as session:
                await refuse_if_closed(session, table, principal)

        return admit

    combined: CompoundSelect[Any] = union_all(
        *grants.selects,
        select(literal(CLOSED_KIND).label("kind"), table.c.user_id.label("target"),
               null().label("role")).where(table.c.user_id == bindparam("user_id")),
    )

    async def admit_with_grants(principal: Principal) -> None:
        if principal.user_id is None:
            return
        async with db.read(leaf=True) as session:
            rows = (await session.execute(combined, {"user_id": principal.user_id})).all()
        if any(row[0] == CLOSED_KIND for row in rows):
            raise AuthError(CLOSED_MESSAGE)
        remember(db, ("grants", principal.user_id), rows)

    return admit_with_grants


def admitted_grants(db: Database, user_id: str) -> list[Row[Any]] | None:
    """The grants ``refuse_closed(..., grants=...)`` read for ``user_id`` in this request, or
    None (no such hook ran, or the request has written to ``db`` since)."""
    rows: list[Row[Any]] | None = recall(db, ("grants", user_id))
    return rows
