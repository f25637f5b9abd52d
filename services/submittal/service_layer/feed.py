"""The integration feed: every submittal event and facility change, in one dense order.

A reader keeps the position of the last entry it read and asks for what follows. That is safe
only if no entry can appear later *below* a position a reader has already passed: positions
are therefore not taken when a row is written but handed out as the very last step before its
transaction commits, under the lock of the one ``feed_counter`` row (held until the commit).
So positions are 1, 2, 3 ... with no gaps, in commit order, and an entry is visible exactly
when its position is: a reader never skips one and never sees one twice. On SQLite writers
are serialized anyway; on PostgreSQL the counter row queues them for the length of a commit.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from common.events.envelope import Envelope
from services.submittal.adapters.search_tables import FeedEntry
from services.submittal.service_layer.search import Scope

PENDING = "feed_entries_pending"
MAX_PAGE = 10_000

_ASSIGN = text(
    "UPDATE feed_entries SET position = :base + numbered.n FROM "
    "(SELECT id, row_number() OVER (ORDER BY id) AS n FROM feed_entries "
    "WHERE position IS NULL) AS numbered WHERE feed_entries.id = numbered.id"
)


@event.listens_for(Session, "before_commit")
def _assign_positions(session: Session) -> None:
    """Number this transaction's entries, as the last thing before it commits."""
    if not session.info.pop(PENDING, False):
        return
    session.flush()
    connection = session.connection()
    pending = connection.execute(text(
        "SELECT count(*) FROM feed_entries WHERE position IS NULL")).scalar_one()
    if not pending:
        return
    # The UPDATE takes the counter row's lock; it is released by the commit that follows.
    last = connection.execute(text(
        "UPDATE feed_counter SET last_position = last_position + :n WHERE name = 'feed' "
        "RETURNING last_position"), {"n": pending}).scalar_one()
    connection.execute(_ASSIGN, {"base": int(last) - int(pending)})


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(PENDING, None)


async def append(session: AsyncSession, envelope: Envelope, *, facility_id: str,
                 cers_id: int | None, organization_id: str | None, agency_id: str | None,
                 also_organization_id: str | None = None, also_agency_id: str | None = None,
                 data: dict[str, Any] | None = None) -> None:
    """Add one entry for ``envelope``; it gets its position when the transaction commits.

    An event already in the feed (a replayed facility event) is not added again: the feed is
    a log of what happened, which a replay does not repeat.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(insert(FeedEntry).on_conflict_do_nothing(
        index_elements=["event_id"]).values(
        event_id=envelope.id, type=envelope.type, facility_id=facility_id, cers_id=cers_id,
        organization_id=organization_id, agency_id=agency_id,
        also_organization_id=also_organization_id if also_organization_id != organization_id
        else None,
        also_agency_id=also_agency_id if also_agency_id != agency_id else None,
        occurred_at=envelope.occurred_at, actor=envelope.actor,
        data=envelope.data if data is None else data))
    session.sync_session.info[PENDING] = True


def _branches(scope: Scope) -> list[Any]:
    """One condition per index the scope can use: an ordered scan for each."""
    if scope.statewide:
        return [None]
    branches = []
    if scope.agencies:
        branches += [col(FeedEntry.agency_id).in_(scope.agencies),
                     col(FeedEntry.also_agency_id).in_(scope.agencies)]
    if scope.organizations:
        branches += [col(FeedEntry.organization_id).in_(scope.organizations),
                     col(FeedEntry.also_organization_id).in_(scope.organizations)]
    return branches


async def read(session: AsyncSession, scope: Scope, after: int, limit: int
               ) -> list[FeedEntry]:
    """Up to ``limit`` entries after position ``after`` that the scope may read, in order."""
    limit = max(1, min(limit, MAX_PAGE))
    streams: list[Sequence[FeedEntry]] = []
    for branch in _branches(scope):
        query = select(FeedEntry).where(col(FeedEntry.position) > after)
        if branch is not None:
            query = query.where(branch)
        query = query.order_by(col(FeedEntry.position)).limit(limit)
        streams.append(list((await session.execute(query)).scalars()))
    if len(streams) == 1:
        return list(streams[0])
    merged: list[FeedEntry] = []
    seen: set[int] = set()
    for entry in heapq.merge(*streams, key=lambda e: e.position or 0):
        if entry.position not in seen:
            seen.add(entry.position or 0)
            merged.append(entry)
            if len(merged) == limit:
                break
    return merged


async def last_position(session: AsyncSession) -> int:
    value = (await session.execute(select(func.max(col(FeedEntry.position))))).scalar_one()
    return int(value or 0)


async def position_at(session: AsyncSession, since: datetime) -> int:
    """The position just before the first entry that occurred at or after ``since``."""
    first = (await session.execute(
        select(func.min(col(FeedEntry.position))).where(col(FeedEntry.occurred_at) >= since,
                                                      col(FeedEntry.position).is_not(None))
    )).scalar_one_or_none()
    if first is None:
        return await last_position(session)
    return int(first) - 1


def entry_json(entry: FeedEntry) -> dict[str, Any]:
    return {
        "position": entry.position, "type": entry.type, "facilityId": entry.facility_id,
        "cersId": entry.cers_id, "occurredAt": entry.occurred_at.isoformat(),
        "eventId": entry.event_id, "actor": entry.actor, "data": entry.data,
    }
