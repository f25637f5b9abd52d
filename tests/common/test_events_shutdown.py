"""A service must stop within a bound whatever NATS is doing (Kubernetes waits 30 s)."""

from __future__ import annotations

import asyncio
import time

from common.events import EventBus, record_event
from common.natsserver import NatsServerProcess, free_port
from tests.common.conftest import EventWorld, eventually

# Inside Kubernetes' 30 s grace period (the bus bounds itself at about 10 s); a hang never ends.
STOP_BOUND_SECONDS = 15.0


def consuming_bus(world: EventWorld, url: str) -> EventBus:
    bus = world.bus(url)
    bus.subscribe(
        durable="facility-things", stream="FACILITY", subjects=["facility.>"],
        handler=world.handler,
    )
    return bus


async def stop_timed(bus: EventBus) -> float:
    started = time.monotonic()
    async with asyncio.timeout(STOP_BOUND_SECONDS * 4):
        await bus.stop()
    return time.monotonic() - started


async def test_a_bus_whose_nats_was_never_reachable_stops_at_once(world: EventWorld):
    bus = consuming_bus(world, f"nats://127.0.0.1:{free_port()}")
    await world.record("f-1", "waits in the outbox")
    await bus.start()
    await asyncio.sleep(0.5)  # a few connection attempts fail meanwhile

    assert await stop_timed(bus) < STOP_BOUND_SECONDS
    assert [row.sent_at for row in await world.outbox_rows()] == [None]


async def test_a_bus_stops_while_reconnecting_to_a_stopped_nats(
    world: EventWorld, private_nats_server: NatsServerProcess
):
    bus = consuming_bus(world, private_nats_server.url)
    await bus.start()
    await bus.connection.wait_ready()
    private_nats_server.stop()
    await eventually(lambda: not bus.connection.connected, message="the bus saw NATS go")
    await world.record("f-1", "written while NATS is down")
    bus.notify()
    await asyncio.sleep(0.3)  # mid-reconnect: attempts every 0.1 s

    assert await stop_timed(bus) < STOP_BOUND_SECONDS
    assert [row.sent_at for row in await world.outbox_rows()] == [None]


async def test_a_bus_stops_when_nats_dies_in_the_middle_of_a_publish(
    world: EventWorld, private_nats_server: NatsServerProcess
):
    bus = consuming_bus(world, private_nats_server.url)
    await bus.start()
    await bus.connection.wait_ready()
    writing = True

    async def write() -> None:
        while writing:
            async with world.db.transaction() as session:
                for i in range(50):
                    await record_event(
                        session, world.tables, type="facility.thing.changed",
                        aggregate_id=f"f-{i}", data={"value": "load"},
                    )
            bus.notify()
            await asyncio.sleep(0)

    writer = asyncio.create_task(write())
    assert bus.relay is not None
    await eventually(lambda: bus.relay is not None and bus.relay.published > 0)
    private_nats_server.stop()  # acks outstanding: the relay is mid-publish
    writing = False
    await writer

    assert await stop_timed(bus) < STOP_BOUND_SECONDS
    rows = await world.outbox_rows()
    assert any(row.sent_at is None for row in rows), "some events should still wait"


async def test_a_bus_stops_even_when_a_library_swallows_the_cancellation(
    world: EventWorld, private_nats_server: NatsServerProcess
):
    # Python 3.11's asyncio.wait_for (used inside nats-py) can swallow a cancellation that
    # lands as its inner future completes; the task then carries on with its loop.
    bus = consuming_bus(world, private_nats_server.url)
    waiting = bus.connection.wait_ready
    swallowed = 0

    async def wait_ready_swallowing_one_cancellation():  # type: ignore[no-untyped-def]
        nonlocal swallowed
        try:
            return await waiting()
        except asyncio.CancelledError:
            swallowed += 1
            return await waiting()

    bus.connection.wait_ready = wait_ready_swallowing_one_cancellation  # type: ignore[method-assign]
    await bus.start()
    await waiting()
    private_nats_server.stop()
    await eventually(lambda: not bus.connection.connected, message="the bus saw NATS go")
    await asyncio.sleep(0.3)  # the relay and the consumer now wait for NATS to return

    assert await stop_timed(bus) < STOP_BOUND_SECONDS
    assert swallowed >= 1
