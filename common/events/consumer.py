"""Durable pull consumers with an idempotent, ordered inbox, held events and dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind
from pydantic import ValidationError
from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from common import tracing
from common.db import Database
from common.events.connection import NatsConnection
from common.events.envelope import Envelope
from common.events.inbox import (
    Handler,
    Outcome,
    apply_in_order,
    apply_many,
    apply_once,
    forget,
    hold,
    retry_held,
)
from common.events.metrics import EventTimings
from common.events.outbox import message_attributes
from common.events.relay import FOLLOWING_HEADER
from common.events.tables import EventTables

__all__ = ["Consumer", "HeldAggregate", "Handler", "Outcome", "Subscription", "apply_once",
           "forget"]

T = TypeVar("T")
log = logging.getLogger(__name__)
_tracer = tracing.tracer(__name__)

# Errors that mean the database is unreachable or busy, not that the event is bad.
DATABASE_DOWN = (OperationalError, InterfaceError, ConnectionError, TimeoutError)



class ApplyTimedOut(Exception):
    """An apply outlived its bound and was rolled back; it counts as a failed attempt (a
    hang must become a retry, then a dead letter and a stuck aggregate, never a silent
    stall holding the consumer's messages in progress)."""


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


@dataclass(frozen=True)
class HeldAggregate:
    """An aggregate whose read model is behind: this consumer holds events it cannot apply."""

    aggregate_id: str
    next_sequence: int  # the one it waits for
    held: int
    since: float  # time.time() of the oldest held event
    dead_lettered: bool
    last_error: str | None

    def stuck(self, alarm_seconds: float, now: float) -> bool:
        return self.dead_lettered or now - self.since >= alarm_seconds

    def describe(self, now: float) -> dict[str, Any]:
        return {
            "aggregate_id": self.aggregate_id, "waiting_for_sequence": self.next_sequence,
            "held": self.held, "held_seconds": round(now - self.since, 1),
            "dead_lettered": self.dead_lettered, "last_error": self.last_error,
        }


class Consumer:
    """Runs one durable subscription: fetch, apply in aggregate order, ack.

    Up to ``transaction_size`` fetched events apply in one transaction. If any fails, that
    transaction rolls back and they apply one by one, each in its own transaction.
    A failed event is retried in place every ``retry_delay`` seconds (the messages fetched
    behind it wait, kept alive with in-progress acks), so nothing overtakes it. Its
    ``max_deliveries``-th failed attempt sends it to the dead letters and holds it, so its
    aggregate's later events wait behind it and the aggregate reads as stuck. A database outage
    is not the event's fault and is retried for as long as it lasts.

    An event ahead of a missing predecessor is held in the database and acknowledged; it
    applies as soon as the predecessor does. :meth:`sweep` retries held events that can
    apply, and reports aggregates held longer than ``stuck_after`` seconds as stuck.
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
        burst_wait: float = 0.02,
        retry_delay: float = 1.0,
        ack_wait: float = 5.0,
        stuck_after: float = 180.0,
        sweep_seconds: float = 1.0,
        apply_timeout: float = 30.0,
        timings: EventTimings | None = None,
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
        self.burst_wait = burst_wait
        self.retry_delay = retry_delay
        self.ack_wait = ack_wait
        self.stuck_after = stuck_after
        self.sweep_seconds = sweep_seconds
        self.apply_timeout = apply_timeout
        self.timings = timings or EventTimings()
        self.held: dict[str, HeldAggregate] = {}
        self._reported_stuck: set[str] = set()
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
                # Caught up, ask for one: nats-py's fetch of a batch, once a late status of its
                # previous request has reached it, keeps the messages that come until its
                # timeout (the first event after an idle spell arrived up to fetch_timeout
                # late); a fetch of one returns with the first, and the rest of its burst is
                # fetched right after. A backlog is fetched by the batch.
                size = 1 if self.caught_up else self.batch_size
                messages = await pull.fetch(size, timeout=self.fetch_timeout)
            except TimeoutError:  # nats.errors.TimeoutError too: nothing to fetch
                if conn.connected:
                    self._mark_caught_up()
                continue
            messages = await self._rest_of_burst(pull, messages)
            async with self._heartbeat(messages):
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

    async def _rest_of_burst(
        self, pull: JetStreamContext.PullSubscription, messages: list[Msg]
    ) -> list[Msg]:
        """Fetch the events the relay is still publishing behind the last one fetched.

        A fetch returns as soon as the first message is stored, so the events of one commit
        used to arrive split (one, then the other three) and apply in two or three
        transactions, one after the other. The relay says how many events of the same
        aggregate follow (``FOLLOWING_HEADER``); wait for those, at most ``burst_wait``
        seconds, so they apply together. Nothing is lost by stopping early: what is not
        fetched now comes with the next fetch.
        """
        deadline = time.monotonic() + self.burst_wait
        while len(messages) < self.batch_size:
            following = _following(messages[-1])
            left = deadline - time.monotonic()
            if following <= 0 or left < 0.002:
                break
            try:
                more = await pull.fetch(min(following, self.batch_size - len(messages)),
                                        timeout=left)
            except Exception:  # noqa: BLE001 - a timeout, or NATS trouble the next fetch meets
                break
            messages = [*messages, *more]
        return messages

    @contextlib.asynccontextmanager
    async def _heartbeat(self, messages: Sequence[Msg]) -> AsyncIterator[None]:
        """Keep fetched messages from redelivery while we work through them.

        The ack wait is short so a crashed consumer's events come back within seconds; a
        live one says "in progress" for what it has not acknowledged yet.
        """

        async def beat() -> None:
            while True:
                await asyncio.sleep(self.ack_wait / 3)
                for message in messages:
                    if not message._ackd:
                        with contextlib.suppress(Exception):
                            await message.in_progress()

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _apply_together(self, messages: Sequence[Msg]) -> bool:
        """Apply a run of messages in one transaction and ack them; False to go one by one."""
        try:
            envelopes = [Envelope.from_json(message.data) for message in messages]
        except ValidationError:
            return False
        contexts = {e.id: tracing.extract(m.headers) for e, m in zip(envelopes, messages,
                                                                     strict=True)}
        handler = self._traced(contexts)
        try:
            result = await self._apply_traced(
                envelopes, contexts,
                lambda session: apply_many(session, self.tables, self.durable, envelopes,
                                           handler))
        except Exception as exc:  # noqa: BLE001 - rolled back; each one gets its own chance
            log.info(
                "consumer %s of %s applies %d events one by one after %s: %s",
                self.durable, self.service, len(messages), type(exc).__name__, exc,
            )
            return False
        self.counts[Outcome.UNHELD] += result.unheld
        for message, envelope, outcome in zip(messages, envelopes, result.outcomes, strict=True):
            self.counts[outcome] += 1
            self._observe_age(envelope, outcome)
            await message.ack()
        if Outcome.HELD in result.outcomes:
            self._note_held(envelopes, result.outcomes)
        self.pending = messages[-1].metadata.num_pending
        self.caught_up = False
        return True

    async def _apply_traced(
        self, envelopes: Sequence[Envelope], contexts: dict[str, Any],
        apply: Callable[[AsyncSession], Awaitable[T]], *, attempt: int | None = None,
    ) -> T:
        """``apply`` in one write transaction, inside the span that links the producers'
        traces; a failure is recorded on the span and raised (the transaction rolled back)."""
        with self._transaction_span(envelopes, contexts) as span:
            if attempt is not None:
                span.set_attribute("messaging.message.delivery_attempt", attempt)
            try:
                async with self._bounded_transaction() as session:
                    return await apply(session)
            except Exception as exc:
                tracing.record_error(span, f"{type(exc).__name__}: {exc}")
                raise

    @contextlib.asynccontextmanager
    async def _bounded_transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction that is cancelled and rolled back after ``apply_timeout``."""
        bound = asyncio.timeout(self.apply_timeout)
        try:
            async with bound:
                async with self.db.transaction() as session:
                    yield session
        except TimeoutError as exc:
            if not bound.expired():
                raise  # the database's own timeout: an outage, not a hang
            log.error(
                "consumer %s of %s: applying took longer than %.0fs (EVENT_APPLY_TIMEOUT_SECONDS)"
                "; rolled back, to be retried",
                self.durable, self.service, self.apply_timeout,
            )
            raise ApplyTimedOut(
                f"rolled back after {self.apply_timeout:.0f}s without finishing") from exc

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
        contexts = {envelope.id: tracing.extract(message.headers)}
        handler = self._traced(contexts)
        while True:
            try:
                result = await self._apply_traced(
                    [envelope], contexts,
                    lambda session: apply_in_order(session, self.tables, self.durable,
                                                   envelope, handler),
                    attempt=attempt)
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
                    await self.give_up(js, message, envelope, error, attempts=attempt)
                    return
                log.warning(
                    "consumer %s of %s failed on %s (event %s, attempt %d of %d): %s",
                    self.durable, self.service, message.subject, envelope.id,
                    attempt, self.max_deliveries, error,
                )
                await self._keep_alive([message, *holding])
                await asyncio.sleep(self.retry_delay)
                attempt += 1
        outcome = result.outcomes[0]
        self.counts[outcome] += 1
        self.counts[Outcome.UNHELD] += result.unheld
        self._observe_age(envelope, outcome)
        await message.ack()
        if outcome is Outcome.HELD:
            self._note_held([envelope], [outcome])
        if metadata.num_pending == 0 and not holding:
            self._mark_caught_up()

    @contextlib.contextmanager
    def _transaction_span(
        self, envelopes: Sequence[Envelope], contexts: dict[str, Context | None]
    ) -> Iterator[Span]:
        """The span of one consumer transaction: a child of the event's send span when it
        applies one event, else linked to each event's (a batch belongs to many traces)."""
        parents = [c for c in (contexts.get(e.id) for e in envelopes) if c is not None]
        attributes: dict[str, str | int] = {
            "messaging.system": "nats", "messaging.operation.type": "process",
            "messaging.consumer.group.name": self.durable,
            "messaging.batch.message_count": len(envelopes),
        }
        if len(envelopes) == 1:
            name = f"process {envelopes[0].type}"
            attributes.update(message_attributes(envelopes[0], "process"))
            parent, links = (parents[0] if parents else None), []
        else:
            name = f"process {self.durable}"
            parent, links = None, [link for c in parents for link in tracing.link_to(c)]
        # A fresh context, not the consumer task's: a batch has no parent of its own.
        with _tracer.start_as_current_span(
            name, context=parent or Context(), kind=SpanKind.CONSUMER, links=links,
            attributes=attributes,
        ) as span:
            yield span

    def _traced(self, contexts: dict[str, Context | None]) -> Handler:
        """The handler, with a span per event in the event's own trace (its send span's
        child, linked to the transaction) unless the transaction's span is that already."""
        handler = self.subscription.handler
        if not tracing.enabled():
            return handler

        async def traced(session: Any, envelope: Envelope) -> None:
            parent = contexts.get(envelope.id)
            current = trace.get_current_span().get_span_context()
            remote = tracing.span_context_of(parent)
            links: list[Link] = []
            kind = SpanKind.INTERNAL
            if remote is None or remote.trace_id == current.trace_id:
                parent = None
            else:
                links, kind = [Link(current)], SpanKind.CONSUMER
            with _tracer.start_as_current_span(
                f"apply {envelope.type}", context=parent, kind=kind, links=links,
                attributes=message_attributes(envelope, "process"),
            ):
                await handler(session, envelope)

        return traced

    def _observe_age(self, envelope: Envelope, outcome: Outcome) -> None:
        if outcome is Outcome.APPLIED:
            age = (datetime.now(UTC) - envelope.occurred_at).total_seconds()
            self.timings.event_age.labels(self.service, self.durable).observe(max(age, 0.0))

    async def give_up(
        self, js: JetStreamContext, message: Msg, envelope: Envelope, error: str, *, attempts: int
    ) -> None:
        """Dead-letter an event that keeps failing, and hold it: its aggregate's later events
        wait behind it, and the aggregate reads as stuck until an operator retries it."""
        async with self.db.transaction() as session:
            await hold(session, self.tables, self.durable, envelope, error=error,
                       dead_lettered=True)
        await self.dead_letter(js, message, error, attempts=attempts)

    def _note_held(self, envelopes: Sequence[Envelope], outcomes: Sequence[Outcome]) -> None:
        # Seen at once by this replica's fail-closed checks; the sweep refreshes the details.
        now = time.time()
        for envelope, outcome in zip(envelopes, outcomes, strict=True):
            if outcome is Outcome.HELD and envelope.aggregate_id not in self.held:
                self.held[envelope.aggregate_id] = HeldAggregate(
                    envelope.aggregate_id, 0, 1, now, dead_lettered=False, last_error=None
                )
                log.info(
                    "consumer %s of %s holds event %s (%s sequence %d of %s): an earlier event "
                    "of that aggregate has not arrived yet",
                    self.durable, self.service, envelope.id, envelope.type, envelope.sequence,
                    envelope.aggregate_id,
                )

    async def sweep(self, js: JetStreamContext | None) -> None:
        """Apply held events that can apply now, give up on those that keep failing, and
        refresh :attr:`held` (logging an aggregate at ERROR when it becomes stuck)."""
        held, positions = self.tables.held, self.tables.positions
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(
                        held.c.aggregate_id, func.count(), func.min(held.c.sequence),
                        func.min(held.c.held_at), func.max(held.c.dead_lettered_at),
                        func.max(held.c.last_error),
                        func.max(positions.c.last_sequence),
                    )
                    .select_from(held.outerjoin(positions, and_(
                        positions.c.consumer == held.c.consumer,
                        positions.c.aggregate_id == held.c.aggregate_id,
                    )))
                    .where(held.c.consumer == self.durable)
                    .group_by(held.c.aggregate_id)
                )
            ).all()
        current: dict[str, HeldAggregate] = {}
        retry: list[str] = []
        for aggregate, count, head, since, dead, error, last in rows:
            last = int(last or 0)
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            current[aggregate] = HeldAggregate(
                aggregate, last + 1, int(count), since.timestamp(), dead is not None, error
            )
            if head == last + 1 and dead is None:
                retry.append(aggregate)
        for aggregate in retry:
            await self._retry(aggregate, js, current)
        self.held = current
        self._report_stuck()

    async def _retry(
        self, aggregate: str, js: JetStreamContext | None, current: dict[str, HeldAggregate]
    ) -> None:
        try:
            async with self._bounded_transaction() as session:
                unheld = await retry_held(
                    session, self.tables, self.durable, aggregate, self.subscription.handler
                )
        except (*DATABASE_DOWN, ApplyTimedOut):
            return
        self.counts[Outcome.UNHELD] += unheld
        state = await self._held_head(aggregate)
        if state is None:
            current.pop(aggregate, None)
            return
        attempts, error, envelope = state
        if attempts >= self.max_deliveries and js is not None:
            await self._dead_letter_held(js, envelope, error or "failed", attempts)
            current[aggregate] = HeldAggregate(
                aggregate, envelope.sequence, current[aggregate].held, current[aggregate].since,
                dead_lettered=True, last_error=error,
            )

    async def _held_head(self, aggregate: str) -> tuple[int, str | None, Envelope] | None:
        held = self.tables.held
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(held.c.attempts, held.c.last_error, held.c.payload)
                    .where(and_(held.c.consumer == self.durable, held.c.aggregate_id == aggregate))
                    .order_by(held.c.sequence)
                    .limit(1)
                )
            ).first()
        if row is None:
            return None
        return int(row.attempts), row.last_error, Envelope.from_json(row.payload)

    async def _dead_letter_held(
        self, js: JetStreamContext, envelope: Envelope, error: str, attempts: int
    ) -> None:
        subject = f"deadletter.{self.service}.{self.durable}"
        headers = {
            "Original-Subject": envelope.type, "Original-Stream": self.subscription.stream,
            "Original-Sequence": "", "Delivery-Count": str(attempts),
            "Error": " ".join(error.split())[:1000], "Service": self.service,
            "Durable": self.durable, "Nats-Msg-Id": f"held-{envelope.id}-{self.durable}",
        }
        await js.publish(subject, envelope.to_json(), headers=headers, stream="DEADLETTER")
        held = self.tables.held
        async with self.db.transaction() as session:
            await session.execute(
                update(held)
                .where(and_(held.c.consumer == self.durable,
                            held.c.aggregate_id == envelope.aggregate_id,
                            held.c.sequence == envelope.sequence))
                .values(dead_lettered_at=datetime.now(UTC))
            )
        self.dead_letters += 1
        log.error(
            "dead-lettered held event %s (%s sequence %d of %s) after %d attempts by consumer "
            "%s of %s: %s; it is in stream DEADLETTER on subject %s and stays held",
            envelope.id, envelope.type, envelope.sequence, envelope.aggregate_id, attempts,
            self.durable, self.service, error, subject,
        )

    def _report_stuck(self) -> None:
        now = time.time()
        stuck = {a for a, state in self.held.items() if state.stuck(self.stuck_after, now)}
        for aggregate in sorted(stuck - self._reported_stuck):
            state = self.held[aggregate]
            log.error(
                "consumer %s of %s is stuck on aggregate %s: it waits for sequence %d and "
                "holds %d later event(s) for %.0fs%s. Operations on it answer UNAVAILABLE. "
                "List with `python -m services.%s events stuck`; after fixing the cause, "
                "`events retry` or `events replay --durable %s --from-stream-sequence N`.",
                self.durable, self.service, aggregate, state.next_sequence, state.held,
                now - state.since,
                f" (dead-lettered: {state.last_error})" if state.dead_lettered else "",
                self.service, self.durable,
            )
        for aggregate in sorted(self._reported_stuck - stuck):
            log.info("consumer %s of %s is no longer stuck on aggregate %s",
                     self.durable, self.service, aggregate)
        self._reported_stuck = stuck

    def stuck(self) -> list[HeldAggregate]:
        now = time.time()
        return [s for s in self.held.values() if s.stuck(self.stuck_after, now)]

    async def sweep_forever(self, connection: NatsConnection) -> None:
        while True:
            try:
                await self.sweep(connection.js if connection.connected else None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the next round tries again
                log.warning("consumer %s of %s could not sweep its held events: %s: %s",
                            self.durable, self.service, type(exc).__name__, exc)
            await asyncio.sleep(self.sweep_seconds)

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


def _following(message: Msg) -> int:
    """How many events of ``message``'s aggregate the relay published right behind it."""
    try:
        return int((message.headers or {}).get(FOLLOWING_HEADER, 0))
    except ValueError:
        return 0
