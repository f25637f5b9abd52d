"""The inbox rule: each aggregate's events apply in ``sequence`` order, each exactly once.

- A duplicate (its id is in the inbox, or its sequence was already applied) changes nothing.
- The next event of its aggregate (``sequence == last + 1``) applies, and so do the held
  events that were waiting for it, in order.
- An event ahead of a missing predecessor is *held* (``event_held``) until the predecessor
  applies. It is never dropped as stale: a redelivered older event is exactly the one a newer
  event waits for.

Everything happens in the caller's write transaction, together with the handler's effect.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
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
    DUPLICATE = "duplicate"  # this event was already applied
    HELD = "held"  # ahead of a missing predecessor; applies once that one has
    UNHELD = "unheld"  # a held event applied after its predecessor arrived


@dataclass
class Applied:
    """What one call did: the outcome of each given event, and the held events it applied."""

    outcomes: list[Outcome]
    unheld: int = 0


def _dialect_insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def _lock_position(
    session: AsyncSession, tables: EventTables, consumer: str, aggregate_id: str
) -> int:
    # The no-op upsert locks this aggregate's position row on PostgreSQL, so two replicas
    # cannot apply two events of one aggregate at once (SQLite's BEGIN IMMEDIATE already can't).
    positions = tables.positions
    return int(
        (
            await session.execute(
                _dialect_insert(session)(positions)
                .values(consumer=consumer, aggregate_id=aggregate_id, last_sequence=0)
                .on_conflict_do_update(
                    index_elements=[positions.c.consumer, positions.c.aggregate_id],
                    set_={"last_sequence": positions.c.last_sequence},
                )
                .returning(positions.c.last_sequence)
            )
        ).scalar_one()
    )


async def hold(
    session: AsyncSession,
    tables: EventTables,
    consumer: str,
    envelope: Envelope,
    *,
    error: str | None = None,
    dead_lettered: bool = False,
) -> None:
    """Keep ``envelope`` until it can apply (a second hold of the same event keeps the first)."""
    now = datetime.now(UTC)
    await session.execute(
        _dialect_insert(session)(tables.held)
        .values(
            consumer=consumer, aggregate_id=envelope.aggregate_id, sequence=envelope.sequence,
            event_id=envelope.id, subject=envelope.type, payload=envelope.to_json().decode(),
            held_at=now, attempts=1 if error else 0, last_error=error,
            dead_lettered_at=now if dead_lettered else None,
        )
        .on_conflict_do_nothing(
            index_elements=[tables.held.c.consumer, tables.held.c.aggregate_id,
                            tables.held.c.sequence]
        )
    )


async def _held_after(
    session: AsyncSession, tables: EventTables, consumer: str, aggregates: Sequence[str]
) -> dict[tuple[str, int], Envelope]:
    held = tables.held
    rows = await session.execute(
        select(held.c.payload).where(
            and_(held.c.consumer == consumer, held.c.aggregate_id.in_(sorted(set(aggregates))),
                 held.c.dead_lettered_at.is_(None))
        )
    )
    found = (Envelope.from_json(row.payload) for row in rows)
    return {(envelope.aggregate_id, envelope.sequence): envelope for envelope in found}


async def _release(
    session: AsyncSession, tables: EventTables, consumer: str, up_to: dict[str, int]
) -> None:
    """Forget held events whose sequence has now been applied."""
    held = tables.held
    for aggregate_id, sequence in up_to.items():
        await session.execute(
            delete(held).where(
                and_(held.c.consumer == consumer, held.c.aggregate_id == aggregate_id,
                     held.c.sequence <= sequence)
            )
        )


async def apply_once(
    session: AsyncSession, tables: EventTables, consumer: str, envelope: Envelope, handler: Handler
) -> Outcome:
    """:func:`apply_in_order` for one event; returns its outcome."""
    return (await apply_in_order(session, tables, consumer, envelope, handler)).outcomes[0]


async def apply_in_order(
    session: AsyncSession, tables: EventTables, consumer: str, envelope: Envelope, handler: Handler
) -> Applied:
    """Apply one event by the inbox rule, then any held successors it unblocks.

    A held successor whose handler fails is rolled back to a savepoint and stays held with the
    error recorded (the consumer's sweep retries it); the event itself still commits.
    """
    inbox = tables.inbox
    last = await _lock_position(session, tables, consumer, envelope.aggregate_id)
    seen = (
        await session.execute(
            select(inbox.c.event_id).where(
                and_(inbox.c.consumer == consumer, inbox.c.event_id == envelope.id)
            )
        )
    ).first()
    if seen is not None or envelope.sequence <= last:
        return Applied([Outcome.DUPLICATE])
    if envelope.sequence > last + 1:
        await hold(session, tables, consumer, envelope)
        return Applied([Outcome.HELD])
    await _apply(session, tables, consumer, envelope, handler)
    last, unheld = await _drain(
        session, tables, consumer, envelope.aggregate_id, envelope.sequence, handler
    )
    await _move_position(session, tables, consumer, envelope.aggregate_id, last)
    return Applied([Outcome.APPLIED], unheld)


async def retry_held(
    session: AsyncSession, tables: EventTables, consumer: str, aggregate_id: str,
    handler: Handler, *, dead_lettered_too: bool = False,
) -> int:
    """Apply the held events of an aggregate that can apply now; returns how many did.

    A dead-lettered one is retried only with ``dead_lettered_too`` (an operator's decision).
    """
    last = await _lock_position(session, tables, consumer, aggregate_id)
    new_last, unheld = await _drain(
        session, tables, consumer, aggregate_id, last, handler,
        dead_lettered_too=dead_lettered_too,
    )
    if new_last != last:
        await _move_position(session, tables, consumer, aggregate_id, new_last)
    return unheld


async def _drain(
    session: AsyncSession, tables: EventTables, consumer: str, aggregate_id: str, last: int,
    handler: Handler, *, dead_lettered_too: bool = False,
) -> tuple[int, int]:
    """Apply held successors of ``last`` in order, each under a savepoint; a failing one stays
    held with its error recorded. Returns the new last sequence and how many applied."""
    held = tables.held
    rows = (
        await session.execute(
            select(held.c.payload, held.c.dead_lettered_at)
            .where(and_(held.c.consumer == consumer, held.c.aggregate_id == aggregate_id,
                        held.c.sequence > last))
            .order_by(held.c.sequence)
        )
    ).all()
    unheld = 0
    for row in rows:
        successor = Envelope.from_json(row.payload)
        if successor.sequence != last + 1 or (
            row.dead_lettered_at is not None and not dead_lettered_too
        ):
            break
        try:
            async with session.begin_nested():
                await _apply(session, tables, consumer, successor, handler)
        except Exception as exc:  # noqa: BLE001 - it stays held; the sweep retries it
            await record_failure(session, tables, consumer, successor, exc)
            break
        last += 1
        unheld += 1
    return last, unheld


async def _apply(
    session: AsyncSession, tables: EventTables, consumer: str, envelope: Envelope, handler: Handler
) -> None:
    await handler(session, envelope)
    await session.execute(
        insert(tables.inbox).values(
            consumer=consumer, event_id=envelope.id, subject=envelope.type,
            processed_at=datetime.now(UTC),
        )
    )


async def _move_position(
    session: AsyncSession, tables: EventTables, consumer: str, aggregate_id: str, last: int
) -> None:
    positions = tables.positions
    await session.execute(
        update(positions)
        .where(and_(positions.c.consumer == consumer, positions.c.aggregate_id == aggregate_id))
        .values(last_sequence=last)
    )
    await _release(session, tables, consumer, {aggregate_id: last})


async def record_failure(
    session: AsyncSession, tables: EventTables, consumer: str, envelope: Envelope,
    exc: BaseException,
) -> None:
    held = tables.held
    await session.execute(
        update(held)
        .where(
            and_(held.c.consumer == consumer, held.c.aggregate_id == envelope.aggregate_id,
                 held.c.sequence == envelope.sequence)
        )
        .values(attempts=held.c.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000])
    )


async def forget(db: Database, tables: EventTables, consumer: str) -> None:
    """Delete a consumer's inbox, positions and held events, so a replay applies every event
    again."""
    async with db.transaction() as session:
        for table in (tables.inbox, tables.positions, tables.held):
            await session.execute(delete(table).where(table.c.consumer == consumer))


async def apply_many(
    session: AsyncSession,
    tables: EventTables,
    consumer: str,
    envelopes: Sequence[Envelope],
    handler: Handler,
) -> Applied:
    """The inbox rule for a run of events in one transaction, with a handful of bookkeeping
    statements for all of them. Any exception means: roll back and apply them one by one.
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
    waiting = await _held_after(session, tables, consumer, aggregates)
    had_held = {aggregate for aggregate, _ in waiting}
    last = dict(existing)
    outcomes: list[Outcome] = []
    applied: list[dict[str, Any]] = []
    to_hold: list[Envelope] = []
    unheld = 0
    now = datetime.now(UTC)

    async def apply(envelope: Envelope) -> None:
        await handler(session, envelope)
        seen.add(envelope.id)
        last[envelope.aggregate_id] = envelope.sequence
        applied.append(
            {"consumer": consumer, "event_id": envelope.id, "subject": envelope.type,
             "processed_at": now}
        )

    for envelope in envelopes:
        position = last.get(envelope.aggregate_id, 0)
        if envelope.id in seen or envelope.sequence <= position:
            outcomes.append(Outcome.DUPLICATE)
        elif envelope.sequence > position + 1:
            waiting[(envelope.aggregate_id, envelope.sequence)] = envelope
            to_hold.append(envelope)
            outcomes.append(Outcome.HELD)
        else:
            await apply(envelope)
            outcomes.append(Outcome.APPLIED)
            key = (envelope.aggregate_id, envelope.sequence + 1)
            while (successor := waiting.pop(key, None)) is not None:
                await apply(successor)
                unheld += 1
                key = (successor.aggregate_id, successor.sequence + 1)
    if applied:
        await session.execute(insert(inbox), applied)
    for envelope in to_hold:
        if envelope.sequence > last.get(envelope.aggregate_id, 0):
            await hold(session, tables, consumer, envelope)
    moved = {
        aggregate: sequence for aggregate, sequence in last.items()
        if aggregate in existing and existing[aggregate] != sequence
    }
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
            [{"b_consumer": consumer, "b_aggregate": a, "b_sequence": s} for a, s in moved.items()],
        )
    new = {aggregate: sequence for aggregate, sequence in last.items() if aggregate not in existing}
    if new:
        await session.execute(
            insert(positions),
            [{"consumer": consumer, "aggregate_id": a, "last_sequence": s} for a, s in new.items()],
        )
    # Only aggregates that had held rows can have rows to forget (usually none at all).
    await _release(
        session, tables, consumer,
        {a: s for a, s in {**moved, **new}.items() if a in had_held},
    )
    return Applied(outcomes, unheld)
