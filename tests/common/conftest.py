from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import Database
from common.events import Envelope, EventBus, EventTables, event_tables, record_event


async def eventually(
    predicate: Callable[[], Awaitable[bool]] | Callable[[], bool],
    within: float = 20.0,
    interval: float = 0.05,
    message: str = "condition",
) -> None:
    """Poll ``predicate`` until it holds, failing after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} did not hold within {within}s")
        await asyncio.sleep(interval)


@dataclass
class EventWorld:
    """A service's database with the event tables and a read model the test handler fills."""

    db: Database
    tables: EventTables
    effects: Table
    buses: list[EventBus] = field(default_factory=list)
    fail_times: dict[str, int] = field(default_factory=dict)
    always_fail: set[str] = field(default_factory=set)
    hang_times: dict[str, int] = field(default_factory=dict)
    failure: Callable[[], Exception] = lambda: RuntimeError("transient failure")

    async def record(self, aggregate_id: str, value: str, type: str = "facility.thing.changed"
                     ) -> Envelope:
        async with self.db.transaction() as session:
            return await record_event(
                session, self.tables, type=type, aggregate_id=aggregate_id,
                data={"value": value}, actor="user-1",
            )

    async def handler(self, session: AsyncSession, envelope: Envelope) -> None:
        await session.execute(
            insert(self.effects).values(
                event_id=envelope.id, aggregate_id=envelope.aggregate_id,
                sequence=envelope.sequence, value=envelope.data.get("value"),
            )
        )
        if self.hang_times.get(envelope.id, 0) > 0:
            self.hang_times[envelope.id] -= 1
            await asyncio.Event().wait()  # a handler that never returns, e.g. a lost lock
        if envelope.data.get("value") in self.always_fail:
            raise RuntimeError(f"cannot apply {envelope.data['value']}")
        if self.fail_times.get(envelope.id, 0) > 0:
            self.fail_times[envelope.id] -= 1
            raise self.failure()

    async def effect_rows(self) -> list[Any]:
        async with self.db.read() as session:
            return list(
                (await session.execute(select(self.effects).order_by(self.effects.c.id))).all()
            )

    async def effect_count(self) -> int:
        async with self.db.read() as session:
            return int((await session.execute(select(func.count()).select_from(self.effects)))
                       .scalar_one())

    async def outbox_rows(self) -> list[Any]:
        outbox = self.tables.outbox
        async with self.db.read() as session:
            return list(
                (await session.execute(select(outbox).order_by(outbox.c.position))).all()
            )

    def bus(self, url: str, service: str = "facility", **options: Any) -> EventBus:
        options = {
            "poll_seconds": 0.05, "retry_delay": 0.1, "fetch_timeout": 0.3,
            "reconnect_seconds": 0.1, "backoff_max": 0.3, "lease_seconds": 1.5, **options,
        }
        bus = EventBus(service, self.db, self.tables, url, **options)
        self.buses.append(bus)
        return bus


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[EventWorld]:
    metadata = MetaData()
    tables = event_tables(metadata)
    effects = Table(
        "effects", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False),
        Column("aggregate_id", String(255), nullable=False),
        Column("sequence", Integer, nullable=False),
        Column("value", String(100)),
    )
    db = Database(database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    state = EventWorld(db, tables, effects)
    yield state
    for bus in state.buses:
        await bus.stop()
    await db.dispose()


@pytest.fixture
async def js_client(private_nats_server: Any) -> AsyncIterator[JetStreamContext]:
    client: NATS = await nats.connect(private_nats_server.url, max_reconnect_attempts=-1,
                                      reconnect_time_wait=0.1)  # type: ignore[arg-type]
    yield client.jetstream()
    await client.close()


async def stream_messages(js: JetStreamContext, stream: str) -> list[RawStreamMsg]:
    """Every message in ``stream``, in stream order, with headers."""
    info = await js.stream_info(stream)
    messages = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        if info.state.messages == 0:
            break
        messages.append(await js.get_msg(stream, seq))
    return messages
