from __future__ import annotations

import asyncio

import pytest
from nats.js import JetStreamContext
from sqlalchemy import update

from common.db import Database
from common.events import Envelope, EventBus, OutboxRelay, record_event
from common.events.relay import FOLLOWING_HEADER
from common.natsserver import NatsServerProcess
from tests.common.conftest import EventWorld, eventually, stream_messages


async def all_sent(world: EventWorld) -> bool:
    return all(row.sent_at is not None for row in await world.outbox_rows())


async def test_the_relay_publishes_exactly_the_committed_events_in_order(
    world: EventWorld, private_nats_server: NatsServerProcess, js_client: JetStreamContext
):
    committed = [await world.record(f"f-{i % 3}", str(i)) for i in range(12)]
    with pytest.raises(RuntimeError):
        async with world.db.transaction() as session:
            await record_event(
                session, world.tables, type="facility.thing.changed", aggregate_id="f-9",
                data={"value": "rolled back"},
            )
            raise RuntimeError("the change failed")
    bus = world.bus(private_nats_server.url, publisher_only=True)
    await bus.start()
    await eventually(lambda: all_sent(world), message="every outbox row marked sent")

    messages = await stream_messages(js_client, "FACILITY")
    assert [m.headers and m.headers["Nats-Msg-Id"] for m in messages] == [e.id for e in committed]
    assert [Envelope.from_json(m.data or b"") for m in messages] == committed
    assert [m.subject for m in messages] == ["facility.thing.changed"] * 12


async def test_sent_outbox_rows_are_purged_after_their_retention_and_unsent_ones_never(
    world: EventWorld, private_nats_server: NatsServerProcess
):
    await world.record("f-1", "sent")
    bus = world.bus(private_nats_server.url, publisher_only=True)
    await bus.start()
    await eventually(lambda: all_sent(world))
    await bus.stop()
    unsent = await world.record("f-1", "not yet sent")
    assert bus.relay is not None
    assert await bus.relay.purge_sent() == 0  # a week's retention by default
    bus.relay.keep_sent_seconds = 0
    assert await bus.relay.purge_sent() == 1
    assert [row.event_id for row in await world.outbox_rows()] == [unsent.id]


async def test_the_relay_wakes_when_a_transaction_with_events_commits(
    world: EventWorld, private_nats_server: NatsServerProcess, js_client: JetStreamContext
):
    # A poll interval longer than the wait: only the commit can wake the relay in time.
    bus = world.bus(private_nats_server.url, publisher_only=True, poll_seconds=120.0)
    await bus.start()
    await eventually(lambda: bus.connection.connected)
    await asyncio.sleep(0.5)  # the relay is asleep in its poll
    for i in range(3):
        await world.record("f-1", str(i))  # no notify(): the commit wakes it
    await eventually(lambda: all_sent(world), within=10.0)
    assert len(await stream_messages(js_client, "FACILITY")) == 3


async def test_each_event_says_how_many_of_its_aggregate_the_relay_publishes_behind_it(
    world: EventWorld, private_nats_server: NatsServerProcess, js_client: JetStreamContext
):
    async with world.db.transaction() as session:
        for aggregate in ("f-1", "f-2", "f-1", "f-1"):
            await record_event(session, world.tables, type="facility.thing.changed",
                               aggregate_id=aggregate, data={"value": aggregate})
    bus = world.bus(private_nats_server.url, publisher_only=True)
    await bus.start()
    await eventually(lambda: all_sent(world), within=10.0)
    await world.record("f-1", "later")
    await eventually(lambda: all_sent(world), within=10.0)
    messages = await stream_messages(js_client, "FACILITY")
    assert [m.headers and m.headers[FOLLOWING_HEADER] for m in messages] == [
        "2", "0", "1", "0", "0"]


async def test_two_relays_over_one_database_publish_each_event_once_in_order(
    world: EventWorld, private_nats_server: NatsServerProcess, js_client: JetStreamContext
):
    before = [await world.record(f"f-{i % 5}", str(i)) for i in range(40)]
    other_db = Database(world.db.url)
    try:
        first = world.bus(private_nats_server.url, publisher_only=True, relay_batch_size=7)
        second = EventBus(
            "facility", other_db, world.tables, private_nats_server.url, publisher_only=True,
            poll_seconds=0.05, relay_batch_size=7, lease_seconds=5.0,
        )
        await first.start()
        await second.start()
        after = []
        for i in range(20):
            after.append(await world.record(f"f-{i % 5}", f"later {i}"))
            first.notify()
            second.notify()
        await eventually(lambda: all_sent(world))
        assert first.relay and second.relay
        assert first.relay.published + second.relay.published == 60
        assert [first.relay.is_leader, second.relay.is_leader].count(True) == 1

        # The leader leaves cleanly; the other takes over at once.
        leader, follower = (first, second) if first.relay.is_leader else (second, first)
        await leader.stop()
        last = await world.record("f-1", "after the leader left")
        follower.notify()
        await eventually(lambda: all_sent(world))
        assert follower.relay and follower.relay.is_leader
        await second.stop()
    finally:
        await other_db.dispose()

    messages = await stream_messages(js_client, "FACILITY")
    ids = [m.headers and m.headers["Nats-Msg-Id"] for m in messages]
    assert ids == [e.id for e in [*before, *after, last]]


async def test_a_relay_started_while_nats_is_down_delivers_when_it_comes_up(
    world: EventWorld, private_nats_server: NatsServerProcess
):
    private_nats_server.stop()
    bus = world.bus(private_nats_server.url, publisher_only=True)
    await bus.start()
    written = [await world.record("f-1", str(i)) for i in range(5)]
    ok, detail = await bus.readiness()
    assert ok and detail["nats"] == "disconnected"
    assert detail["outbox"]["unsent"] == 5 and detail["outbox"]["oldest_unsent_seconds"] >= 0
    assert not await all_sent(world)

    private_nats_server.start()
    await eventually(lambda: all_sent(world))
    ok, detail = await bus.readiness()
    assert ok and detail["nats"] == "connected" and detail["outbox"] == {"unsent": 0}
    js = bus.connection.js
    messages = await stream_messages(js, "FACILITY")
    assert [Envelope.from_json(m.data or b"").id for m in messages] == [e.id for e in written]


async def test_a_relay_that_died_holding_the_lease_is_replaced_once_it_expires(
    world: EventWorld, private_nats_server: NatsServerProcess, js_client: JetStreamContext
):
    crashed = OutboxRelay("facility", world.db, world.tables, lease_seconds=0.5)
    assert await crashed.hold_lease()
    written = [await world.record("f-1", str(i)) for i in range(3)]
    bus = world.bus(private_nats_server.url, publisher_only=True)
    await bus.start()
    await eventually(lambda: all_sent(world))

    assert bus.relay and bus.relay.is_leader
    crashed.is_leader = False  # its process is gone; were it to come back, it must not lead
    assert not await crashed.hold_lease()
    messages = await stream_messages(js_client, "FACILITY")
    assert [Envelope.from_json(m.data or b"").id for m in messages] == [e.id for e in written]


async def test_events_published_again_after_a_crash_before_marking_are_stored_once(
    world: EventWorld, private_nats_server: NatsServerProcess, js_client: JetStreamContext
):
    written = [await world.record("f-1", str(i)) for i in range(5)]
    bus = world.bus(private_nats_server.url, publisher_only=True)
    await bus.start()
    await eventually(lambda: all_sent(world))
    await bus.stop()
    # As if the relay had died after JetStream's acks and before marking the rows sent.
    async with world.db.transaction() as session:
        await session.execute(update(world.tables.outbox).values(sent_at=None))
    again = world.bus(private_nats_server.url, publisher_only=True)
    await again.start()
    await eventually(lambda: all_sent(world))

    assert again.relay and again.relay.published == 5
    messages = await stream_messages(js_client, "FACILITY")
    assert [Envelope.from_json(m.data or b"").id for m in messages] == [e.id for e in written]


async def test_stop_returns_even_when_a_wake_up_races_the_cancellation(
    world: EventWorld, private_nats_server: NatsServerProcess
):
    # On Python 3.11, asyncio.wait_for swallowed a cancellation that arrived just as the wake
    # event was set, and stop() then waited forever.
    for _ in range(10):
        bus = world.bus(private_nats_server.url, publisher_only=True, poll_seconds=5.0)
        await bus.start()
        await eventually(lambda bus=bus: bus.connection.connected)
        bus.notify()
        async with asyncio.timeout(10):
            await bus.stop()
