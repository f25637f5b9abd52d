"""EventBus: one per service process, wiring the connection, the relay and the consumers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from common.db import Database
from common.events.connection import NatsConnection
from common.events.consumer import Consumer, Handler, HeldAggregate, Subscription, forget
from common.events.inbox import retry_held
from common.events.metrics import EventBusCollector, EventTimings
from common.events.outbox import EVENTS_RECORDED
from common.events.relay import OutboxRelay
from common.events.tables import EventTables
from common.settings import Settings
from common.tasks import cancel_and_wait, finish_within

log = logging.getLogger(__name__)


class EventBus:
    """Publishes this service's outbox and feeds its subscriptions; never blocks on NATS.

    Register subscriptions with :meth:`subscribe` before :meth:`start`. ``publisher_only``
    runs the relay without consumers; ``relay=False`` runs consumers only.
    """

    def __init__(
        self,
        service: str,
        db: Database,
        tables: EventTables,
        nats_url: str,
        *,
        stream_replicas: int = 1,
        poll_seconds: float = 0.2,
        max_deliveries: int = 5,
        max_lag_seconds: float = 30.0,
        publisher_only: bool = False,
        relay: bool = True,
        relay_batch_size: int = 500,
        lease_seconds: float = 15.0,
        backoff_max: float = 10.0,
        consumer_batch_size: int = 100,
        transaction_size: int = 50,
        fetch_timeout: float = 1.0,
        burst_wait: float = 0.02,
        retry_delay: float = 1.0,
        ack_wait: float = 5.0,
        stuck_after: float = 180.0,
        apply_timeout: float = 30.0,
        reconnect_seconds: float = 1.0,
        stop_seconds: float = 10.0,
    ) -> None:
        self.service = service
        self.db = db
        self.tables = tables
        self.max_deliveries = max_deliveries
        self.max_lag_seconds = max_lag_seconds
        self.publisher_only = publisher_only
        self.stop_seconds = stop_seconds
        self.timings = EventTimings()
        # (unsent events, seconds the oldest has waited), refreshed before each scrape.
        self.backlog: tuple[int, float] = (0, 0.0)
        self.connection = NatsConnection(
            nats_url, name=service, stream_replicas=stream_replicas,
            reconnect_seconds=reconnect_seconds,
        )
        self.relay: OutboxRelay | None = (
            OutboxRelay(
                service, db, tables, poll_seconds=poll_seconds, batch_size=relay_batch_size,
                lease_seconds=lease_seconds, backoff_max=backoff_max, timings=self.timings,
            )
            if relay
            else None
        )
        self._consumer_options: dict[str, Any] = dict(
            max_deliveries=max_deliveries, batch_size=consumer_batch_size,
            transaction_size=transaction_size,
            fetch_timeout=fetch_timeout, burst_wait=burst_wait, retry_delay=retry_delay,
            ack_wait=ack_wait,
            stuck_after=stuck_after, sweep_seconds=min(retry_delay, 1.0),
            apply_timeout=apply_timeout,
            timings=self.timings,
        )
        self.consumers: dict[str, Consumer] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._started = False

    @classmethod
    def from_settings(
        cls, service: str, db: Database, tables: EventTables, settings: Settings, **options: Any
    ) -> EventBus:
        return cls(
            service, db, tables, settings.nats_url,
            stream_replicas=settings.nats_stream_replicas,
            poll_seconds=settings.outbox_poll_seconds,
            max_deliveries=settings.max_deliveries,
            max_lag_seconds=settings.read_model_max_lag_seconds,
            ack_wait=settings.event_ack_wait_seconds,
            stuck_after=settings.event_stuck_after_seconds,
            apply_timeout=settings.event_apply_timeout_seconds,
            **options,
        )

    def subscribe(
        self, *, durable: str, stream: str, subjects: list[str], handler: Handler
    ) -> Consumer:
        """Apply ``handler(session, envelope)`` exactly once per event, in aggregate order."""
        if self._started:
            raise RuntimeError("subscribe() before start()")
        if durable in self.consumers:
            raise ValueError(f"durable {durable!r} is already subscribed")
        consumer = Consumer(
            self.service, self.db, self.tables,
            Subscription(durable=durable, stream=stream, subjects=subjects, handler=handler),
            **self._consumer_options,
        )
        self.consumers[durable] = consumer
        return consumer

    async def start(self) -> None:
        """Start connecting and working in the background; returns at once."""
        if self._started:
            return
        self._started = True
        self.connection.start()
        if self.relay is not None:
            self.db.add_commit_hook(self._wake_relay)
            self._spawn("relay", self.relay.run(self.connection))
        if not self.publisher_only:
            for durable, consumer in self.consumers.items():
                self._spawn(f"consumer:{durable}", consumer.run(self.connection))
                self._spawn(f"sweep:{durable}", consumer.sweep_forever(self.connection))

    async def stop(self) -> None:
        """Stop within about ``stop_seconds`` whatever the state of NATS or the database.

        Unsent events stay in the outbox for the next start; an unacknowledged event is
        delivered again. Kubernetes waits 30 s after SIGTERM, so this must never hang.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.stop_seconds
        self.db.remove_commit_hook(self._wake_relay)
        await cancel_and_wait(
            self._tasks.values(), within=self.stop_seconds / 2,
            what=f"event bus tasks of {self.service}",
        )
        self._tasks.clear()
        if self.relay is not None:
            # The lease expires by itself anyway; releasing it only lets another relay start now.
            await finish_within(
                asyncio.ensure_future(self.relay.release()),
                within=max(deadline - loop.time() - 1.0, 0.5),
                what=f"releasing the relay lease of {self.service}",
            )
        await self.connection.close(within=max(deadline - loop.time(), 1.0))
        self._started = False

    def notify(self) -> None:
        """Wake the relay. Transactions of ``db.transaction()`` that recorded events do this
        when they commit; call it after committing events any other way."""
        if self.relay is not None:
            self.relay.notify()

    def _wake_relay(self, session_info: dict[str, Any]) -> None:
        if session_info.get(EVENTS_RECORDED):
            self.notify()

    def lag_seconds(self) -> float:
        """The largest lag of this process's consumers (0 with none)."""
        connected = self.connection.connected
        return max((c.lag_seconds(connected) for c in self.running_consumers()), default=0.0)

    def read_model_fresh(self, *aggregate_ids: str) -> bool:
        """False past the lag threshold, or while a consumer holds events of any of
        ``aggregate_ids`` (their read model is known to be behind): fail closed then."""
        if self.lag_seconds() > self.max_lag_seconds:
            return False
        return not any(
            aggregate in consumer.held
            for consumer in self.running_consumers()
            for aggregate in aggregate_ids
        )

    def stuck(self) -> dict[str, list[HeldAggregate]]:
        """Per consumer, the aggregates held past ``stuck_after`` or behind a dead letter."""
        return {
            c.durable: stuck for c in self.running_consumers() if (stuck := c.stuck())
        }

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        """For /readyz. Not ready only when the bus is not running; NATS being down is
        reported (writes still succeed then) and stale read models refuse their own operations.
        """
        connected = self.connection.connected
        detail: dict[str, Any] = {
            "nats": "connected" if connected else "disconnected",
            "consumers": {
                c.durable: {"pending": c.pending, "lag_seconds": round(c.lag_seconds(connected), 3)}
                for c in self.running_consumers()
            },
        }
        if self.connection.last_error and not connected:
            detail["nats_error"] = self.connection.last_error
        now = time.time()
        held = {
            c.durable: {
                "aggregates": len(c.held),
                "stuck": [state.describe(now) for state in c.stuck()[:20]],
            }
            for c in self.running_consumers()
            if c.held
        }
        if held:
            detail["held"] = held
        if self.relay is not None:
            detail["outbox"] = await self._outbox_backlog()
        dead = [name for name, task in self._tasks.items() if task.done()]
        if dead:
            detail["stopped"] = dead
        return self._started and not dead, detail

    async def _outbox_backlog(self) -> dict[str, Any]:
        outbox = self.tables.outbox
        try:
            async with self.db.read() as session:
                count, oldest = (
                    await session.execute(
                        select(func.count(), func.min(outbox.c.created_at)).where(
                            outbox.c.sent_at.is_(None)
                        )
                    )
                ).one()
        except Exception as exc:  # noqa: BLE001 - the database check reports this properly
            return {"error": f"{type(exc).__name__}: {exc}"}
        backlog: dict[str, Any] = {"unsent": int(count)}
        if oldest is not None:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            backlog["oldest_unsent_seconds"] = round(
                (datetime.now(UTC) - oldest).total_seconds(), 3
            )
        return backlog

    async def replay(self, durable: str, *, connect_timeout: float = 30.0) -> None:
        """Apply every event of ``durable`` again from the stream's start.

        The service clears its own read-model tables first. Needs NATS to be reachable.
        """
        consumer = self.consumers[durable]
        self.connection.start()
        try:
            async with asyncio.timeout(connect_timeout):
                js = await self.connection.wait_ready()
        except TimeoutError:
            raise ConnectionError(
                f"cannot replay {durable}: NATS at {self.connection.url} not reachable "
                f"within {connect_timeout}s ({self.connection.last_error})"
            ) from None
        tasks = [self._tasks.pop(f"{kind}:{durable}", None) for kind in ("consumer", "sweep")]
        await cancel_and_wait(
            [task for task in tasks if task is not None], within=self.stop_seconds,
            what=f"consumer {durable}",
        )
        await consumer.delete_consumer(js)
        await forget(self.db, self.tables, durable)
        consumer.caught_up = False
        await consumer.ensure_consumer(js)
        log.info("replaying consumer %s of %s from the start", durable, self.service)
        if self._started and not self.publisher_only:
            self._spawn(f"consumer:{durable}", consumer.run(self.connection))
            self._spawn(f"sweep:{durable}", consumer.sweep_forever(self.connection))

    async def retry_held(self, durable: str, aggregate_id: str | None = None) -> int:
        """Apply held events that can apply now, dead-lettered ones included (an operator's
        decision after fixing their cause); returns how many applied."""
        consumer = self.consumers[durable]
        held = self.tables.held
        async with self.db.read() as session:
            query = select(held.c.aggregate_id).where(held.c.consumer == durable).distinct()
            if aggregate_id is not None:
                query = query.where(held.c.aggregate_id == aggregate_id)
            aggregates = list((await session.execute(query)).scalars())
        applied = 0
        for aggregate in aggregates:
            async with self.db.transaction() as session:
                applied += await retry_held(
                    session, self.tables, durable, aggregate, consumer.subscription.handler,
                    dead_lettered_too=True,
                )
        return applied

    async def replay_from(
        self, durable: str, stream_sequence: int, *, connect_timeout: float = 30.0
    ) -> int:
        """Deliver ``durable``'s stream again from ``stream_sequence`` through the inbox rule.

        Applied events are duplicates and change nothing; a missing one applies and releases
        what was held behind it. The durable consumer itself is left where it is.
        """
        consumer = self.consumers[durable]
        self.connection.start()
        try:
            async with asyncio.timeout(connect_timeout):
                js = await self.connection.wait_ready()
        except TimeoutError:
            raise ConnectionError(
                f"cannot replay {durable}: NATS at {self.connection.url} not reachable "
                f"within {connect_timeout}s ({self.connection.last_error})"
            ) from None
        subscription = consumer.subscription
        name = f"{durable}-replay-{uuid.uuid4().hex[:8]}"
        await js.add_consumer(subscription.stream, ConsumerConfig(
            name=name, deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=stream_sequence, ack_policy=AckPolicy.EXPLICIT,
            filter_subjects=list(subscription.subjects), inactive_threshold=60.0,
            ack_wait=consumer.ack_wait,
        ))
        delivered = 0
        try:
            pull = await js.pull_subscribe_bind(name, stream=subscription.stream)
            while True:
                try:
                    messages = await pull.fetch(consumer.batch_size, timeout=2.0)
                except TimeoutError:
                    break
                for message in messages:
                    await consumer.process(message, js)
                    delivered += 1
                if messages[-1].metadata.num_pending == 0:
                    break
            await pull.unsubscribe()
        finally:
            with contextlib.suppress(Exception):
                await js.delete_consumer(subscription.stream, name)
        log.info("replayed %d events of %s from stream sequence %d", delivered, durable,
                 stream_sequence)
        return delivered

    def register_metrics(
        self, registry: CollectorRegistry,
        refreshers: list[Callable[[], Awaitable[None]]] | None = None,
    ) -> None:
        """Expose lag, outcomes, relay output and the outbox backlog on ``registry`` (the
        app's /metrics); the backlog is counted by :meth:`refresh_metrics`, which goes in
        ``refreshers`` (awaited before each scrape)."""
        registry.register(EventBusCollector(self))
        if refreshers is not None:
            refreshers.append(self.refresh_metrics)

    async def refresh_metrics(self) -> None:
        """Count the unsent outbox rows: from the database, so it holds while NATS is down
        and on replicas that do not lead the relay."""
        if self.relay is None:
            return
        backlog = await self._outbox_backlog()
        if "error" in backlog:
            raise RuntimeError(backlog["error"])
        self.backlog = (int(backlog["unsent"]), float(backlog.get("oldest_unsent_seconds", 0.0)))

    def running_consumers(self) -> list[Consumer]:
        return [] if self.publisher_only else list(self.consumers.values())

    def _spawn(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work, name=f"{self.service}:{name}")
        self._tasks[name] = task

        def report(done: asyncio.Task[None]) -> None:
            if not done.cancelled() and done.exception() is not None:
                log.error(
                    "event bus task %s of %s stopped: %r", name, self.service, done.exception()
                )

        task.add_done_callback(report)
