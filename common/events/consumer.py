"""Durable pull consumers with an idempotent, ordered inbox, and dead letters."""

from __future__ import annotations

import asyncio
import enum
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError
from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import Database
from common.events.connection import NatsConnection
from common.events.envelope import Envelope
from common.events.tables import EventTables

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]

# Errors that mean the database is unreachable or busy, not that the event is bad.
DATABASE_DOWN = (OperationalError, InterfaceError, ConnectionError, TimeoutError)

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

    A failed event is retried in place every ``retry_delay`` seconds (the messages fetched
    behind it wait, kept alive with in-progress acks), so nothing overtakes it. Its
    ``max_deliveries``-th failed attempt sends it to the dead letters. A database outage is
    not the event's fault and is retried for as long as it lasts.
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
        retry_delay: float = 1.0,
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
        self.retry_delay = retry_delay
        self.ack_wait = ack_wait
        self.pending: int | None = None
        self.caught_up = False
        self.caught_up_at = time.monotonic()
        self.counts = {outcome: 0 for outcome in Outcome}
        self.dead_letters = 0

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
                messages = await pull.fetch(self.batch_size, timeout=self.fetch_timeout)
            except TimeoutError:  # nats.errors.TimeoutError too: nothing to fetch
                if conn.connected:
                    self._mark_caught_up()
                continue
            for index, message in enumerate(messages):
                await self.process(message, js, holding=messages[index + 1 :])
        self.caught_up = False

    async def process(
        self, message: Msg, js: JetStreamContext, holding: Sequence[Msg] = ()
    ) -> None:
        """Apply one message, retrying here so nothing after it overtakes it; ack when done.

        ``holding`` are the fetched messages waiting behind it, kept from redelivery meanwhile.
        """
        metadata = message.metadata
        self.pending = metadata.num_pending
        self.caught_up = False
        try:
            envelope = Envelope.from_json(message.data)
        except ValidationError as exc:
            await self.dead_letter(js, message, f"unparseable envelope: {exc}", attempts=1)
            return
        # A redelivery after a crash or ack timeout counts as an attempt already made.
        attempt = metadata.num_delivered
        error: str | None = None
        outage = 0
        while True:
            try:
                async with self.db.transaction() as session:
                    outcome = await apply_once(
                        session, self.tables, self.durable, envelope, self.subscription.handler
                    )
                break
            except Exception as exc:  # noqa: BLE001 - rolled back; retried or dead-lettered
                if isinstance(exc, DATABASE_DOWN):
                    # Not the event's fault: wait for the database, however long it takes.
                    outage += 1
                    wait = min(self.retry_delay * 2 ** min(outage - 1, 8), 30.0)
                    log.error(
                        "consumer %s of %s cannot reach its database (%s: %s); "
                        "retrying event %s in %.1fs",
                        self.durable, self.service, type(exc).__name__, exc, envelope.id, wait,
                    )
                    await self._keep_alive([message, *holding])
                    await asyncio.sleep(wait)
                    continue
                error = f"{type(exc).__name__}: {exc}"
                if attempt >= self.max_deliveries:
                    await self.dead_letter(js, message, error, attempts=attempt)
                    return
                log.warning(
                    "consumer %s of %s failed on %s (event %s, attempt %d of %d): %s",
                    self.durable, self.service, message.subject, envelope.id,
                    attempt, self.max_deliveries, error,
                )
                await self._keep_alive([message, *holding])
                await asyncio.sleep(self.retry_delay)
                attempt += 1
        if outcome is Outcome.STALE and error is not None:
            # It failed, and meanwhile another replica applied a newer event of its aggregate:
            # it will never apply now, so an operator must see it.
            await self.dead_letter(
                js, message, f"superseded by a newer event after failing: {error}",
                attempts=attempt,
            )
            return
        self.counts[outcome] += 1
        await message.ack()
        if metadata.num_pending == 0 and not holding:
            self._mark_caught_up()

    async def _keep_alive(self, messages: Sequence[Msg]) -> None:
        for message in messages:
            await message.in_progress()

    async def dead_letter(
        self, js: JetStreamContext, message: Msg, error: str, *, attempts: int
    ) -> None:
        metadata = message.metadata
        subject = f"deadletter.{self.service}.{self.durable}"
        headers: dict[str, Any] = dict(
            zip(
                DEADLETTER_HEADERS,
                (
                    message.subject,
                    metadata.stream,
                    str(metadata.sequence.stream),
                    str(attempts),
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
            "dead-lettered %s (stream %s sequence %d) after %d attempts by consumer %s of %s: "
            "%s; it is in stream DEADLETTER on subject %s",
            message.subject, metadata.stream, metadata.sequence.stream, attempts,
            self.durable, self.service, error, subject,
        )
        await message.term()
        self.dead_letters += 1
