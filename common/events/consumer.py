"""Durable pull consumers with an idempotent, ordered inbox, and dead letters."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError

from common.db import Database
from common.events.connection import NatsConnection
from common.events.envelope import Envelope
from common.events.inbox import Handler, Outcome, apply_many, apply_once, forget
from common.events.tables import EventTables

__all__ = ["Consumer", "Handler", "Outcome", "Subscription", "apply_once", "forget"]

log = logging.getLogger(__name__)

# Errors that mean the database is unreachable or busy, not that the event is bad.
DATABASE_DOWN = (OperationalError, InterfaceError, ConnectionError, TimeoutError)

DURABLE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# Headers on a dead letter; the body is the original message, byte for byte.
DEADLETTER_HEADERS = (
    "Original-Subject", "Original-Stream", "Original-Sequence", "Delivery-Count", "Error",
    "Service", "Durable",
)


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


class Consumer:
    """Runs one durable subscription: fetch, apply once, ack; dead-letter what never applies.

    Up to ``transaction_size`` fetched events apply in one transaction. If any fails, that
    transaction rolls back and they apply one by one, each in its own transaction.
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
        transaction_size: int = 50,
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
        self.transaction_size = transaction_size
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
        # Create or update: a new release may subscribe to more subjects under the same durable.
        await js.add_consumer(
            self.subscription.stream, self.subscription.consumer_config(self.ack_wait)
        )

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
            for start in range(0, len(messages), self.transaction_size):
                chunk = messages[start : start + self.transaction_size]
                if await self._apply_together(chunk):
                    continue
                later = messages[start:]
                for index, message in enumerate(chunk):
                    await self.process(message, js, holding=later[index + 1 :])
            if messages and messages[-1].metadata.num_pending == 0:
                self._mark_caught_up()
        self.caught_up = False

    async def _apply_together(self, messages: Sequence[Msg]) -> bool:
        """Apply a run of messages in one transaction and ack them; False to go one by one."""
        try:
            envelopes = [Envelope.from_json(message.data) for message in messages]
        except ValidationError:
            return False
        try:
            async with self.db.transaction() as session:
                outcomes = await apply_many(
                    session, self.tables, self.durable, envelopes, self.subscription.handler
                )
        except Exception as exc:  # noqa: BLE001 - rolled back; each one gets its own chance
            log.info(
                "consumer %s of %s applies %d events one by one after %s: %s",
                self.durable, self.service, len(messages), type(exc).__name__, exc,
            )
            return False
        for message, outcome in zip(messages, outcomes, strict=True):
            self.counts[outcome] += 1
            await message.ack()
        self.pending = messages[-1].metadata.num_pending
        self.caught_up = False
        return True

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
