"""The inbox rule: apply each event once, and never an older one over a newer one."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import Database
from common.events.envelope import Envelope
from common.events.tables import EventTables

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]


class Outcome(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # this event id is already in the inbox
    STALE = "stale"  # the aggregate is already at this sequence or newer


async def apply_once(
    session: AsyncSession, tables: EventTables, consumer: str, envelope: Envelope, handler: Handler
) -> Outcome:
    """Run ``handler`` unless this event or a newer one of its aggregate was already applied.

    Call inside a write transaction; the inbox row and the new position commit with the effect.
    """
    positions, inbox = tables.positions, tables.inbox
    # The no-op upsert locks this aggregate's position row on PostgreSQL, so two replicas
    # cannot apply two events of one aggregate at once (SQLite's BEGIN IMMEDIATE already can't).
    dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else (
        sqlite.insert
    )
    last = (
        await session.execute(
            dialect_insert(positions)
            .values(consumer=consumer, aggregate_id=envelope.aggregate_id, last_sequence=0)
            .on_conflict_do_update(
                index_elements=[positions.c.consumer, positions.c.aggregate_id],
                set_={"last_sequence": positions.c.last_sequence},
            )
            .returning(positions.c.last_sequence)
        )
    ).scalar_one()
    seen = (
        await session.execute(
            select(inbox.c.event_id).where(
                and_(inbox.c.consumer == consumer, inbox.c.event_id == envelope.id)
            )
        )
    ).first()
    if seen is not None:
        return Outcome.DUPLICATE
    if envelope.sequence <= last:
        return Outcome.STALE
    await handler(session, envelope)
    await session.execute(
        insert(inbox).values(
            consumer=consumer,
            event_id=envelope.id,
            subject=envelope.type,
            processed_at=datetime.now(UTC),
        )
    )
    await session.execute(
        update(positions)
        .where(positions.c.consumer == consumer)
        .where(positions.c.aggregate_id == envelope.aggregate_id)
        .values(last_sequence=envelope.sequence)
    )
    return Outcome.APPLIED


async def forget(db: Database, tables: EventTables, consumer: str) -> None:
    """Delete a consumer's inbox and positions, so a replay applies every event again."""
    async with db.transaction() as session:
        await session.execute(delete(tables.inbox).where(tables.inbox.c.consumer == consumer))
        await session.execute(
            delete(tables.positions).where(tables.positions.c.consumer == consumer)
        )


async def apply_many(
    session: AsyncSession,
    tables: EventTables,
    consumer: str,
    envelopes: Sequence[Envelope],
    handler: Handler,
) -> list[Outcome]:
    """:func:`apply_once` for a run of events in one transaction, with at most five statements
    of bookkeeping in all. Any exception means: roll back and apply them one by one instead.
    """
    positions, inbox = tables.positions, tables.inbox
    ids = [envelope.id for envelope in envelopes]
    aggregates = sorted({envelope.aggregate_id for envelope in envelopes})
    seen = set(
        (
            await session.execute(
                select(inbox.c.event_id).where(
                    and_(inbox.c.consumer == consumer, inbox.c.event_id.in_(ids))
                )
            )
        ).scalars()
    )
    query = (
        select(positions.c.aggregate_id, positions.c.last_sequence)
        .where(and_(positions.c.consumer == consumer, positions.c.aggregate_id.in_(aggregates)))
        .order_by(positions.c.aggregate_id)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Locks what exists; a row another replica creates meanwhile makes our insert fail.
        query = query.with_for_update()
    existing: dict[str, int] = {row[0]: row[1] for row in (await session.execute(query)).all()}
    last = dict(existing)
    outcomes: list[Outcome] = []
    applied: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    for envelope in envelopes:
        if envelope.id in seen:
            outcomes.append(Outcome.DUPLICATE)
        elif envelope.sequence <= last.get(envelope.aggregate_id, 0):
            outcomes.append(Outcome.STALE)
        else:
            await handler(session, envelope)
            seen.add(envelope.id)
            last[envelope.aggregate_id] = envelope.sequence
            applied.append(
                {"consumer": consumer, "event_id": envelope.id, "subject": envelope.type,
                 "processed_at": now}
            )
            outcomes.append(Outcome.APPLIED)
    if applied:
        await session.execute(insert(inbox), applied)
    moved = [
        {"b_consumer": consumer, "b_aggregate": aggregate, "b_sequence": sequence}
        for aggregate, sequence in last.items()
        if aggregate in existing and existing[aggregate] != sequence
    ]
    if moved:
        await session.execute(
            update(positions)
            .where(
                and_(
                    positions.c.consumer == bindparam("b_consumer"),
                    positions.c.aggregate_id == bindparam("b_aggregate"),
                )
            )
            .values(last_sequence=bindparam("b_sequence")),
            moved,
        )
    new = [
        {"consumer": consumer, "aggregate_id": aggregate, "last_sequence": sequence}
        for aggregate, sequence in last.items()
        if aggregate not in existing
    ]
    if new:
        await session.execute(insert(positions), new)
    return outcomes
