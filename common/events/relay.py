"""The outbox relay: publishes committed events to JetStream, in outbox order, one relay at a time.

Leadership is a lease row (``event_relay_leases``) claimed and renewed with a conditional
UPDATE, which works the same on SQLite and PostgreSQL. A relay that lost its lease (paused
past expiry) may publish a batch twice; ``Nats-Msg-Id`` and the consumers' inbox absorb that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.js import JetStreamContext
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from common import tracing
from common.db import Database
from common.events.connection import NatsConnection
from common.events.metrics import EventTimings
from common.events.tables import EventTables

log = logging.getLogger(__name__)
_tracer = tracing.tracer(__name__)

MSG_ID_HEADER = "Nats-Msg-Id"
# How many more events of the same aggregate this batch publishes behind this one: a
# consumer that received this one waits briefly for them and applies them in the same
# transaction (a certification's four events in one transaction instead of two or three).
FOLLOWING_HEADER = "Cers-Aggregate-Following"
PURGE_INTERVAL_SECONDS = 3600.0


class OutboxRelay:
    def __init__(
        self,
        service: str,
        db: Database,
        tables: EventTables,
        *,
        poll_seconds: float = 0.2,
        batch_size: int = 500,
        lease_seconds: float = 15.0,
        publish_timeout: float = 5.0,
        backoff_initial: float = 0.1,
        backoff_max: float = 10.0,
        keep_sent_seconds: float = 7 * 24 * 3600.0,
        timings: EventTimings | None = None,
    ) -> None:
        self.service = service
        self.db = db
        self.tables = tables
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.publish_timeout = publish_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.keep_sent_seconds = keep_sent_seconds
        self.timings = timings or EventTimings()
        self._purged_at = 0.0
        self.holder = f"{service}-{uuid.uuid4().hex[:12]}"
        self.published = 0
        self.is_leader = False
        self._lease_until = 0.0
        self._wake = asyncio.Event()

    def notify(self) -> None:
        """Wake the relay now (call after committing a transaction that recorded events)."""
        self._wake.set()

    async def run(self, connection: NatsConnection) -> None:
        backoff = self.backoff_initial
        while True:
            js = await connection.wait_ready()
            try:
                if not await self.hold_lease():
                    await self._sleep(self.lease_seconds / 3, wakeable=True)
                    continue
                sent = await self.publish_batch(js)
                if sent < self.batch_size:
                    await self._maybe_purge()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - retried below; the outbox keeps the events
                log.warning(
                    "outbox relay of %s (NATS at %s) failed: %s: %s; the events stay in the "
                    "outbox; retrying in %.2fs",
                    self.service, connection.url, type(exc).__name__, exc, backoff,
                )
                await self._sleep(backoff, wakeable=False)
                backoff = min(backoff * 2, self.backoff_max)
                continue
            backoff = self.backoff_initial
            if sent < self.batch_size:
                await self._sleep(self.poll_seconds, wakeable=True)

    async def release(self) -> None:
        """Give up the lease so another relay takes over at once (on clean shutdown)."""
        if not self.is_leader:
            return
        self.is_leader = False
        leases = self.tables.leases
        async with self.db.transaction() as session:
            await session.execute(
                update(leases)
                .where(and_(leases.c.name == self.service, leases.c.holder == self.holder))
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )

    async def hold_lease(self) -> bool:
        """Claim or renew the relay lease; True while this relay is the leader."""
        if self.is_leader and time.monotonic() < self._lease_until - self.lease_seconds / 2:
            return True
        leases = self.tables.leases
        now = datetime.now(UTC)
        started = time.monotonic()
        async with self.db.transaction() as session:
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else (
                sqlite.insert
            )
            await session.execute(
                insert(leases)
                .values(name=self.service, holder=self.holder, expires_at=now)
                .on_conflict_do_nothing(index_elements=[leases.c.name])
            )
            result: Any = await session.execute(
                update(leases)
                .where(
                    and_(
                        leases.c.name == self.service,
                        or_(leases.c.holder == self.holder, leases.c.expires_at <= now),
                    )
                )
                .values(holder=self.holder, expires_at=now + timedelta(seconds=self.lease_seconds))
            )
        won = bool(result.rowcount == 1)
        if won and not self.is_leader:
            log.info("outbox relay %s is now the leader for %s", self.holder, self.service)
        self.is_leader = won
        self._lease_until = started + self.lease_seconds if won else 0.0
        return won

    async def publish_batch(self, js: JetStreamContext) -> int:
        """Publish up to ``batch_size`` unsent events in order; mark the acknowledged ones sent.

        Raises on the first event JetStream did not acknowledge, after marking those before it.
        """
        outbox = self.tables.outbox
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(outbox.c.position, outbox.c.event_id, outbox.c.subject, outbox.c.payload,
                           outbox.c.aggregate_id, outbox.c.created_at, outbox.c.trace_context)
                    .where(outbox.c.sent_at.is_(None))
                    .order_by(outbox.c.position)
                    .limit(self.batch_size)
                )
            ).all()
        if not rows:
            return 0
        # Pipelined: one connection keeps the order, and we wait for the acks together.
        futures: list[asyncio.Future[Any]] = []
        spans = [self._send_span(row) for row in rows]
        following = _following(rows)
        publish_error: BaseException | None = None
        try:
            for row, span, behind in zip(rows, spans, following, strict=True):
                headers = {MSG_ID_HEADER: row.event_id, FOLLOWING_HEADER: str(behind)}
                tracing.inject(headers, span)
                futures.append(
                    await js.publish_async(
                        row.subject,
                        row.payload.encode(),
                        headers=headers,
                        wait_stall=self.publish_timeout,
                    )
                )
        except Exception as exc:  # noqa: BLE001 - mark what was acknowledged, then retry
            publish_error = exc
        error: BaseException | None = None
        acked: list[int] = []
        deadline = time.monotonic() + self.publish_timeout
        try:
            for row, future, span in zip(rows, futures, spans, strict=False):
                if error is not None:
                    future.cancel()
                    continue
                try:
                    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
                    # cancellation that lands as the awaited future completes, and stop()
                    # would hang.
                    async with asyncio.timeout(max(deadline - time.monotonic(), 0.001)):
                        await future
                except Exception as exc:  # noqa: BLE001
                    error = exc if str(exc) else TimeoutError(
                        f"no ack for event {row.event_id} within {self.publish_timeout}s"
                    )
                    tracing.record_error(span, f"not acknowledged: {error}")
                    continue
                acked.append(row.position)
                self._observe_lag(row.created_at, span)
        finally:
            for span in spans:
                span.end()
        if acked:
            await self._mark_sent(acked)
            self.published += len(acked)
        failure = error or publish_error
        if failure is not None:
            raise failure
        return len(rows)

    def _send_span(self, row: Any) -> Span:
        """The send span of one event: a child of the span that wrote it to the outbox."""
        span = _tracer.start_span(
            f"send {row.subject}", context=tracing.context_from_stored(row.trace_context),
            kind=SpanKind.PRODUCER,
        )
        if span.is_recording():
            span.set_attributes({
                "messaging.system": "nats", "messaging.operation.type": "send",
                "messaging.destination.name": row.subject, "messaging.message.id": row.event_id,
            })
        return span

    def _observe_lag(self, created_at: datetime, span: Span) -> None:
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)
        lag = max((datetime.now(UTC) - created_at).total_seconds(), 0.0)
        with trace.use_span(span, end_on_exit=False):
            self.timings.relay_lag.labels(self.service).observe(lag, tracing.exemplar())

    async def _mark_sent(self, positions: list[int]) -> None:
        outbox = self.tables.outbox
        async with self.db.transaction() as session:
            await session.execute(
                update(outbox)
                .where(and_(outbox.c.position.in_(positions), outbox.c.sent_at.is_(None)))
                .values(sent_at=datetime.now(UTC))
            )

    async def _maybe_purge(self) -> None:
        if time.monotonic() - self._purged_at >= PURGE_INTERVAL_SECONDS:
            self._purged_at = time.monotonic()
            await self.purge_sent()

    async def purge_sent(self) -> int:
        """Delete outbox rows sent more than ``keep_sent_seconds`` ago; the stream keeps them."""
        outbox = self.tables.outbox
        cutoff = datetime.now(UTC) - timedelta(seconds=self.keep_sent_seconds)
        async with self.db.transaction() as session:
            result: Any = await session.execute(
                delete(outbox).where(and_(outbox.c.sent_at.is_not(None), outbox.c.sent_at < cutoff))
            )
        if result.rowcount:
            log.info("purged %d sent outbox rows of %s", result.rowcount, self.service)
        return int(result.rowcount or 0)

    async def _sleep(self, seconds: float, *, wakeable: bool) -> None:
        if not wakeable:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        self._wake.clear()


def _following(rows: Sequence[Any]) -> list[int]:
    """For each row, how many later rows of the batch belong to its aggregate."""
    left: dict[str, int] = {}
    counts = []
    for row in reversed(rows):
        counts.append(left.get(row.aggregate_id, 0))
        left[row.aggregate_id] = counts[-1] + 1
    return counts[::-1]
