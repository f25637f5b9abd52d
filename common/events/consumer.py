"""Durable pull consumers with an idempotent, ordered inbox, and dead letters."""

from __future__ import annotations

import asyncio
import enum
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError
from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import Database
from common.events.connection import NatsConnection
from common.events.envelope import Envelope
from common.events.tables import EventTables

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]

DURABLE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# Headers on a dead letter; the body is the original message, byte for byte.
DEADLETTER_HEADERS = (
    "Original-Subject", "Original-Stream", "Original-Sequence", "Delivery-Count", "Error",
    "Service", "Durable",
)


class Outcome(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # this event id is already in the inbox
    STALE = "stale"  # the aggregate is already at this sequence or newer


@dataclass(frozen=True)
class Subscription:
    durable: str
    stream: str
    subjects: list[str]
    handler: Handler

    def __post_init__(self) -> None:
        if not DURABLE_PATTERN.match(self.durable):
            raise ValueError(f"durable name {self.durable!r} must match {DURABLE_PATTERN.pattern}")

    def consumer_config(self, ack_wait: float) -> ConsumerConfig:
        # No server-side max_deliver: we count deliveries and dead-letter ourselves.
        return ConsumerConfig(
            name=self.durable,
            durable_name=self.durable,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=ack_wait,
            max_ack_pending=1000,
            filter_subjects=list(self.subjects),
        )


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


class Consumer:
    """Runs one durable subscription: fetch, apply once, ack; dead-letter what never applies.

    When a handler fails, the rest of the batch is handed back too and the consumer pauses
    for ``nak_delay`` and then fetches one message at a time, so the failed event is retried
    before anything after it.
    """

    def __init__(
        self,
        service: str,
        db: Database,
        tables: EventTables,
        subscription: Subscription,
        *,
        max_deliveries: int = 5,
        batch_size: int = 100,
        fetch_timeout: float = 1.0,
        nak_delay: float = 1.0,
        ack_wait: float = 30.0,
    ) -> None:
        self.service = service
        self.db = db
        self.tables = tables
        self.subscription = subscription
        self.durable = subscription.durable
        self.max_deliveries = max_deliveries
        self.batch_size = batch_size
        self.fetch_timeout = fetch_timeout
        self.nak_delay = nak_delay
        self.ack_wait = ack_wait
        self.pending: int | None = None
        self.caught_up = False
        self.caught_up_at = time.monotonic()
        self.counts = {outcome: 0 for outcome in Outcome}
        self.dead_letters = 0
        self._batch = batch_size

    def lag_seconds(self, connected: bool) -> float:
        if self.caught_up and connected:
            return 0.0
        return time.monotonic() - self.caught_up_at

    def _mark_caught_up(self) -> None:
        self.pending = 0
        self.caught_up = True
        self.caught_up_at = time.monotonic()

    async def ensure_consumer(self, js: JetStreamContext) -> None:
        config = self.subscription.consumer_config(self.ack_wait)
        try:
            await js.consumer_info(self.subscription.stream, self.durable)
        except NotFoundError:
            await js.add_consumer(self.subscription.stream, config)
            log.info("created durable consumer %s on %s", self.durable, self.subscription.stream)

    async def delete_consumer(self, js: JetStreamContext) -> None:
        try:
            await js.delete_consumer(self.subscription.stream, self.durable)
        except NotFoundError:
            pass

    async def run(self, connection: NatsConnection) -> None:
        backoff = 0.1
        while True:
            js = await connection.wait_ready()
            try:
                await self.ensure_consumer(js)
                pull = await js.pull_subscribe_bind(
                    durable=self.durable, stream=self.subscription.stream
                )
                try:
                    await self._consume(pull, js, connection)
                finally:
                    try:
                        await pull.unsubscribe()
                    except Exception:  # noqa: BLE001, S110 - the connection may be gone already
                        pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep consuming after NATS trouble
                self.caught_up = False
                log.warning(
                    "consumer %s of %s on NATS at %s failed: %s: %s; retrying in %.1fs",
                    self.durable, self.service, connection.url, type(exc).__name__, exc, backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.1

    async def _consume(
        self, pull: JetStreamContext.PullSubscription, js: JetStreamContext, conn: NatsConnection
    ) -> None:
        while conn.connected:
            try:
                messages = await pull.fetch(self._batch, timeout=self.fetch_timeout)
            except nats.errors.TimeoutError:
                if conn.connected:
                    self._mark_caught_up()
                continue
            for index, message in enumerate(messages):
                if await self.process(message, js):
                    self._batch = self.batch_size
                    continue
                # Hand back the rest with the same delay, then fetch one at a time until the
                # failed event applies: it comes back first, so order within the stream holds.
                for rest in messages[index + 1 :]:
                    await rest.nak(delay=self.nak_delay)
                self._batch = 1
                await asyncio.sleep(self.nak_delay)
                break
        self.caught_up = False

    async def process(self, message: Msg, js: JetStreamContext) -> bool:
        """Handle one message; False when it was handed back for a later retry."""
        metadata = message.metadata
        self.pending = metadata.num_pending
        self.caught_up = False
        try:
            envelope = Envelope.from_json(message.data)
        except ValidationError as exc:
            await self.dead_letter(js, message, f"unparseable envelope: {exc}")
            return True
        try:
            async with self.db.transaction() as session:
                outcome = await apply_once(
                    session, self.tables, self.durable, envelope, self.subscription.handler
                )
        except Exception as exc:  # noqa: BLE001 - rolled back; retried or dead-lettered
            error = f"{type(exc).__name__}: {exc}"
            if metadata.num_delivered >= self.max_deliveries:
                await self.dead_letter(js, message, error)
                return True
            log.warning(
                "consumer %s of %s failed on %s (event %s, delivery %d of %d): %s",
                self.durable, self.service, message.subject, envelope.id,
                metadata.num_delivered, self.max_deliveries, error,
            )
            await message.nak(delay=self.nak_delay)
            return False
        self.counts[outcome] += 1
        await message.ack()
        if metadata.num_pending == 0:
            self._mark_caught_up()
        return True

    async def dead_letter(self, js: JetStreamContext, message: Msg, error: str) -> None:
        metadata = message.metadata
        subject = f"deadletter.{self.service}.{self.durable}"
        headers: dict[str, Any] = dict(
            zip(
                DEADLETTER_HEADERS,
                (
                    message.subject,
                    metadata.stream,
                    str(metadata.sequence.stream),
                    str(metadata.num_delivered),
                    # Header values are one line; keep the first part of long errors.
                    " ".join(error.split())[:1000],
                    self.service,
                    self.durable,
                ),
                strict=True,
            )
        )
        headers["Nats-Msg-Id"] = f"{metadata.stream}-{metadata.sequence.stream}-{self.durable}"
        await js.publish(subject, message.data, headers=headers, stream="DEADLETTER")
        log.error(
            "dead-lettered %s (stream %s sequence %d) after %d deliveries to consumer %s of %s: "
            "%s; it is in stream DEADLETTER on subject %s",
            message.subject, metadata.stream, metadata.sequence.stream, metadata.num_delivered,
            self.durable, self.service, error, subject,
        )
        await message.term()
        self.dead_letters += 1
