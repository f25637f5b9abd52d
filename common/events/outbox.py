"""Writing events into the outbox, inside the transaction that makes the change."""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import SpanKind
from sqlalchemy import insert as core_insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from common import tracing
from common.events.envelope import Envelope
from common.events.streams import stream_for_subject
from common.events.tables import EventTables

MAX_EVENT_BYTES = 900_000
# Set in session.info by record_event; the bus wakes its relay when such a transaction commits.
EVENTS_RECORDED = "events_recorded"

_tracer = tracing.tracer(__name__)


async def next_sequence(session: AsyncSession, tables: EventTables, aggregate_id: str) -> int:
    """Allocate the aggregate's next sequence with one atomic upsert (never max()+1).

    On PostgreSQL the upserted row stays locked until the transaction ends, so two writers of
    one aggregate queue here and their outbox rows land in sequence order.
    """
    table = tables.sequences
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    if dialect not in ("postgresql", "sqlite"):
        raise RuntimeError(f"event sequences need PostgreSQL or SQLite, not {dialect}")
    statement = (
        insert(table)
        .values(aggregate_id=aggregate_id, last_sequence=1)
        .on_conflict_do_update(
            index_elements=[table.c.aggregate_id],
            set_={"last_sequence": table.c.last_sequence + 1},
        )
        .returning(table.c.last_sequence)
    )
    result = await session.execute(statement)
    return int(result.scalar_one())


async def record_event(
    session: AsyncSession,
    tables: EventTables,
    *,
    type: str,
    aggregate_id: str,
    data: dict[str, Any],
    actor: str | None = None,
    schema_version: int = 1,
) -> Envelope:
    """Add an event to the outbox in the caller's transaction and return its envelope.

    It is published only if that transaction commits. ``data`` must be JSON-serializable
    (dump pydantic contracts with ``model_dump(mode="json")``).
    """
    # Fail at write time, not forever in the relay.
    if stream_for_subject(type) == "DEADLETTER":
        raise ValueError(f"{type!r}: only consumers write dead letters")
    sequence = await next_sequence(session, tables, aggregate_id)
    session.info[EVENTS_RECORDED] = True
    envelope = Envelope(
        type=type,
        aggregate_id=aggregate_id,
        sequence=sequence,
        actor=actor,
        data=data,
        schema_version=schema_version,
    )
    payload = envelope.to_json()
    if len(payload) > MAX_EVENT_BYTES:
        # NATS refuses messages over its max_payload (1 MB by default); the relay would stall.
        raise ValueError(
            f"event {type} for {aggregate_id} is {len(payload)} bytes; events carry at most "
            f"{MAX_EVENT_BYTES} (put large content in the service's own tables)"
        )
    # The producer span of the event: the relay's send, and through it every consumer's
    # processing, continue the trace from here (the context travels in the outbox row).
    with _tracer.start_as_current_span(f"create {envelope.type}", kind=SpanKind.PRODUCER) as span:
        if span.is_recording():
            span.set_attributes(message_attributes(envelope, "create"))
        await session.execute(
            core_insert(tables.outbox).values(
                event_id=envelope.id,
                subject=envelope.type,
                aggregate_id=envelope.aggregate_id,
                sequence=envelope.sequence,
                payload=payload.decode(),
                created_at=envelope.occurred_at,
                trace_context=tracing.stored_context(),
            )
        )
    return envelope


def message_attributes(envelope: Envelope, operation: str) -> dict[str, str | int]:
    """Span attributes of an event (OpenTelemetry's messaging conventions, plus ours)."""
    return {
        "messaging.system": "nats",
        "messaging.operation.type": operation,
        "messaging.destination.name": envelope.type,
        "messaging.message.id": envelope.id,
        "cers.event.aggregate_id": envelope.aggregate_id,
        "cers.event.sequence": envelope.sequence,
    }
