"""Live feeds: the events already in a JetStream stream, pushed to this process's live
subscribers as they arrive.

One ordered, ephemeral consumer per feed and process (never one per client); the process
fans each event out in memory to its listeners. The feed starts at the stream's end and,
after NATS comes back, resumes right after the last event it delivered, so a listener that
stays connected loses nothing and sees nothing twice. A subscriber that comes back (the
gateway resubscribing after this process restarted) is replayed the stream after the position
it last received (:meth:`LiveFeed.replay`, bounded by MAX_REPLAY). Durable processing (read models,
emails) stays with the inbox consumers; nothing here acknowledges or changes anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from common.events.connection import NatsConnection
from common.events.envelope import Envelope
from common.tasks import cancel_and_wait

log = logging.getLogger(__name__)

Listener = Callable[[Envelope], Awaitable[None]]
T = TypeVar("T")


class LiveFeed:
    """Events of ``stream`` on ``subjects``, from now on, handed to :meth:`listen`-ers."""

    def __init__(
        self, connection: NatsConnection, stream: str, subject: str, *,
        idle_heartbeat: float = 2.0, retry_seconds: float = 1.0,
    ) -> None:
        self.connection = connection
        self.stream = stream
        self.subject = subject
        self.idle_heartbeat = idle_heartbeat
        self.retry_seconds = retry_seconds
        self.listeners: list[Listener] = []
        self.last_sequence: int | None = None  # the stream sequence last delivered
        self.delivered = 0
        self.resets = 0  # times the stream was found recreated (positions started again)
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def listen(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"live-{self.stream}")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task], within=5.0, what=f"live feed {self.stream}")
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - NATS went away; follow again when back
                log.warning("live feed %s: %s: %s; resuming", self.stream, type(exc).__name__,
                            exc)
            self.ready.clear()
            await asyncio.sleep(self.retry_seconds)

    async def _follow(self) -> None:
        js = await self.connection.wait_ready()
        if self.last_sequence is not None:
            state = (await js.stream_info(self.stream)).state
            if state.last_seq < self.last_sequence:
                # The stream was recreated (a server that lost its store): its sequences
                # started again, and everything in it is new to us.
                log.warning("live feed %s: the stream restarted at %d (we had %d); following "
                            "it from its start", self.stream, state.first_seq,
                            self.last_sequence)
                self.last_sequence = max(state.first_seq, 1) - 1
                self.resets += 1
        if self.last_sequence is None:
            # From the stream's end, at a known position: a subscriber resuming from an
            # older one is replayed exactly up to here (:meth:`replay`).
            self.last_sequence = (await js.stream_info(self.stream)).state.last_seq
        # Resume after the last delivered event: nothing lost while NATS was away.
        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                opt_start_seq=self.last_sequence + 1)
        sub = await js.subscribe(self.subject, stream=self.stream, ordered_consumer=True,
                                 idle_heartbeat=self.idle_heartbeat, config=config,
                                 pending_msgs_limit=100_000,
                                 # A crashed process's consumer goes away by itself.
                                 inactive_threshold=30.0)
        self.ready.set()
        try:
            while True:
                try:
                    msg = await sub.next_msg(timeout=self.idle_heartbeat * 2)
                except TimeoutError:
                    if not self.connection.connected:
                        raise ConnectionError("NATS disconnected") from None
                    continue
                sequence = msg.metadata.sequence.stream
                if self.last_sequence is not None and sequence <= self.last_sequence:
                    continue  # seen before a resubscription
                self.last_sequence = sequence
                try:
                    envelope = Envelope.from_json(msg.data)
                except ValueError:
                    log.warning("live feed %s: malformed event at %d skipped", self.stream,
                                sequence)
                    continue
                self.delivered += 1
                for listener in list(self.listeners):
                    try:
                        await listener(envelope)
                    except Exception:  # one listener's bug never stops the feed
                        log.exception("live listener failed on %s", envelope.type)
        finally:
            try:
                await sub.unsubscribe()
            except Exception:  # noqa: BLE001, S110 - the connection may be gone already
                pass

    async def replay(self, after: int, upto: int) -> AsyncIterator[tuple[int, Envelope]]:
        """The feed's events after stream position ``after`` up to ``upto`` (inclusive),
        read from the stream one by one; the caller bounds ``upto - after``."""
        js = await self.connection.wait_ready()
        sequence = after + 1
        while sequence <= upto:
            try:
                msg = await js.get_msg(self.stream, seq=sequence, subject=self.subject,
                                       next=True)
            except NotFoundError:
                return
            found = msg.seq or sequence
            if found > upto:
                return
            sequence = found + 1
            try:
                envelope = Envelope.from_json(msg.data or b"")
            except ValueError:
                log.warning("live feed %s: malformed event at %d skipped", self.stream, found)
                continue
            yield found, envelope


@dataclass
class Ended:
    """The end of a live subscription, with its coded reason."""

    code: str
    message: str


# How far back a resuming subscriber may be replayed, in stream positions; further back, its
# subscription ends (UNAVAILABLE) and the client queries what changed instead.
MAX_REPLAY = 1000
# A subscription that asked for position marks gets one when this many stream positions
# passed without a change for it, so that its position stays within MAX_REPLAY.
MARK_EVERY = MAX_REPLAY // 2
TOO_FAR = ("This subscription cannot resume from so far back; subscribe again (and query what "
           "changed meanwhile).")
TOO_SLOW = ("This subscription fell too far behind its events and was ended; subscribe again "
            "(and query what changed meanwhile).")


class Mailbox(Generic[T]):
    """One subscription's pending changes. A client this far behind is ended (UNAVAILABLE),
    never slowed down for everyone else."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.queue: asyncio.Queue[T | Ended] = asyncio.Queue()
        self.ended = False

    def put(self, item: T) -> None:
        if self.ended:
            return
        if self.queue.qsize() >= self.size:
            self.end("UNAVAILABLE", TOO_SLOW)
            return
        self.queue.put_nowait(item)

    def end(self, code: str, message: str) -> None:
        if not self.ended:
            self.ended = True
            self.queue.put_nowait(Ended(code, message))

    async def get(self) -> T | Ended:
        return await self.queue.get()
