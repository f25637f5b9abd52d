from __future__ import annotations

import logging
import uuid

import pytest
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry
from sqlalchemy import delete, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import Database
from common.events import Envelope, EventBus, Outcome, apply_once, record_event
from common.natsserver import NatsServerProcess
from tests.common.conftest import EventWorld, eventually, stream_messages

DURABLE = "facility-things"


def subscribe(world: EventWorld, bus: EventBus) -> None:
    bus.subscribe(
        durable=DURABLE, stream="FACILITY", subjects=["facility.>"], handler=world.handler
    )


async def effects_are(world: EventWorld, count: int) -> bool:
    return await world.effect_count() == count


async def test_each_event_applies_exactly_once_across_a_nats_outage_and_redelivery(
    world: EventWorld, private_nats_server: NatsServerProcess, js_client: JetStreamContext
):
    bus = world.bus(private_nats_server.url)
    subscribe(world, bus)
    written = [await world.record(f"f-{i % 4}", str(i)) for i in range(10)]
    # Two events fail once each: rolled back, handed back, applied on redelivery.
    world.fail_times = {written[2].id: 1, written[7].id: 1}
    await bus.start()
    await eventually(lambda: effects_are(world, 10), message="10 effects")

    private_nats_server.stop()
    await eventually(lambda: not bus.connection.connected)
    written += [await world.record(f"f-{i % 4}", f"while down {i}") for i in range(10)]
    private_nats_server.start()
    await eventually(lambda: effects_are(world, 20), message="20 effects after the outage")

    # Redeliver everything: the same events again under new Nats-Msg-Ids.
    for message in await stream_messages(js_client, "FACILITY"):
        await js_client.publish(
            message.subject or "", message.data or b"", headers={"Nats-Msg-Id": str(uuid.uuid4())}
        )
    consumer = bus.consumers[DURABLE]
    await eventually(lambda: consumer.counts[Outcome.DUPLICATE] == 20, message="20 duplicates")

    rows = await world.effect_rows()
    assert sorted(row.event_id for row in rows) == sorted(e.id for e in written)
    assert consumer.counts[Outcome.APPLIED] == 20
    assert consumer.dead_letters == 0


async def test_the_events_one_transaction_commits_apply_in_one_consumer_transaction(
    world: EventWorld, private_nats_server: NatsServerProcess
):
    # A fetch returns as soon as the first event is stored; the consumer then waits for the
    # ones the relay says follow it (generously here: it stops waiting as soon as they come).
    bus = world.bus(private_nats_server.url, burst_wait=5.0)
    applied_in: dict[str, list[object]] = {}

    async def handler(session: AsyncSession, envelope: Envelope) -> None:
        await world.handler(session, envelope)
        transaction = session.info.setdefault("test-transaction", object())
        applied_in.setdefault(envelope.data["value"].split("/")[0], []).append(transaction)

    bus.subscribe(durable=DURABLE, stream="FACILITY", subjects=["facility.>"], handler=handler)
    await bus.start()
    for commit in range(5):
        async with world.db.transaction() as session:
            for i in range(4):
                await record_event(session, world.tables, type="facility.thing.changed",
                                   aggregate_id="f-1", data={"value": f"{commit}/{i}"})
        await eventually(lambda n=commit: effects_are(world, 4 * (n + 1)),
                         message=f"commit {commit} applied")
    assert [len(set(map(id, applied_in[str(c)]))) for c in range(5)] == [1] * 5
    assert [row.value for row in await world.effect_rows()] == [
        f"{c}/{i}" for c in range(5) for i in range(4)]


async def test_two_replicas_of_a_consumer_apply_each_event_once_and_in_aggregate_order(
    world: EventWorld, private_nats_server: NatsServerProcess
):
    other_db = Database(world.db.url)
    try:
        replicas = [
            world.bus(private_nats_server.url, consumer_batch_size=20, transaction_size=7),
            EventBus(
                "facility", other_db, world.tables, private_nats_server.url, relay=False,
                consumer_batch_size=20, transaction_size=7, fetch_timeout=0.3, retry_delay=0.1,
            ),
        ]
        for bus in replicas:
            subscribe(world, bus)
            await bus.start()
        for start in range(0, 200, 25):
            async with world.db.transaction() as session:
                for i in range(start, start + 25):
                    await record_event(
                        session, world.tables, type="facility.thing.changed",
                        aggregate_id=f"f-{i % 10}", data={"value": str(i)},
                    )
            replicas[0].notify()
        await eventually(
            lambda: sum(b.consumers[DURABLE].counts[Outcome.APPLIED]
                        + b.consumers[DURABLE].counts[Outcome.UNHELD] for b in replicas) >= 200,
            message="every event handled by one replica or the other",
        )
        await replicas[1].stop()
    finally:
        await other_db.dispose()

    rows = await world.effect_rows()
    assert len({row.event_id for row in rows}) == len(rows)
    for aggregate in {row.aggregate_id for row in rows}:
        sequences = [row.sequence for row in rows if row.aggregate_id == aggregate]
        assert sequences == sorted(sequences), f"{aggregate} went back: {sequences}"


async def test_an_event_ahead_of_a_missing_one_is_held_and_applies_right_after_it(
    world: EventWorld, private_nats_server: NatsServerProcess, js_client: JetStreamContext
):
    bus = world.bus(private_nats_server.url, relay=False)
    subscribe(world, bus)
    await bus.start()
    await bus.connection.wait_ready()

    def event(sequence: int, value: str) -> Envelope:
        return Envelope(
            type="facility.membership.changed", aggregate_id="m-1", sequence=sequence,
            data={"value": value},
        )

    # "revoked" (3) got through before "granted again" (2), e.g. redelivered after a crash.
    for envelope in [event(1, "granted"), event(3, "revoked"), event(2, "granted again")]:
        await js_client.publish(envelope.type, envelope.to_json())
    consumer = bus.consumers[DURABLE]
    await eventually(lambda: effects_are(world, 3))

    assert [row.value for row in await world.effect_rows()] == [
        "granted", "granted again", "revoked"
    ]
    assert consumer.counts[Outcome.HELD] == 1
    assert consumer.counts[Outcome.UNHELD] == 1
    await eventually(lambda: not consumer.held, message="nothing held any more")


async def test_an_event_a_crashed_consumer_held_is_applied_before_the_newer_ones(
    world: EventWorld, private_nats_server: NatsServerProcess, js_client: JetStreamContext
):
    # The defect this rule fixes: a consumer died holding "transferred" unacknowledged; by the
    # time JetStream redelivered it, "updated" had been applied, and "transferred" was dropped
    # as stale. Now "updated" waits for it.
    bus = world.bus(private_nats_server.url, ack_wait=1.0)
    subscribe(world, bus)
    await world.record("f-1", "created")
    await bus.start()
    await eventually(lambda: effects_are(world, 1))
    await bus.stop()

    transferred = await world.record("f-1", "transferred")
    publisher = world.bus(private_nats_server.url, publisher_only=True)
    await publisher.start()
    await eventually(lambda: all_sent(world))
    # The "crashed" replica: fetches the event and never acknowledges it.
    crashed = await js_client.pull_subscribe_bind(DURABLE, stream="FACILITY")
    (taken,) = await crashed.fetch(1, timeout=5)
    assert Envelope.from_json(taken.data).id == transferred.id
    renamed = await world.record("f-1", "renamed")
    publisher.notify()

    restarted = world.bus(private_nats_server.url, relay=False, ack_wait=1.0)
    subscribe(world, restarted)
    await restarted.start()
    await eventually(lambda: effects_are(world, 3), message="both applied, in order")

    rows = await world.effect_rows()
    assert [row.value for row in rows] == ["created", "transferred", "renamed"]
    assert [row.event_id for row in rows[1:]] == [transferred.id, renamed.id]
    assert restarted.consumers[DURABLE].dead_letters == 0


async def all_sent(world: EventWorld) -> bool:
    return all(row.sent_at is not None for row in await world.outbox_rows())


async def test_a_gap_that_does_not_fill_makes_the_aggregate_stuck_and_fails_it_closed(
    world: EventWorld,
    private_nats_server: NatsServerProcess,
    js_client: JetStreamContext,
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.ERROR, logger="common.events")
    bus = world.bus(private_nats_server.url, relay=False, stuck_after=0.5)
    subscribe(world, bus)
    registry = CollectorRegistry()
    bus.register_metrics(registry)
    await bus.start()
    await bus.connection.wait_ready()

    def event(aggregate: str, sequence: int) -> Envelope:
        return Envelope(type="facility.thing.changed", aggregate_id=aggregate, sequence=sequence,
                        data={"value": f"{aggregate}#{sequence}"})

    for envelope in [event("f-1", 1), event("f-1", 3), event("f-2", 1)]:
        await js_client.publish(envelope.type, envelope.to_json())
    await eventually(lambda: effects_are(world, 2))
    await eventually(lambda: bool(bus.stuck()), message="f-1 reported stuck")

    assert not bus.read_model_fresh("f-1"), "operations on f-1 must fail closed"
    assert bus.read_model_fresh("f-2") and bus.read_model_fresh()
    ok, detail = await bus.readiness()
    assert ok, "one stuck aggregate must not take the whole service out of rotation"
    (stuck,) = detail["held"][DURABLE]["stuck"]
    assert stuck["aggregate_id"] == "f-1" and stuck["waiting_for_sequence"] == 2
    labels = {"service": "facility", "durable": DURABLE}
    assert registry.get_sample_value("events_consumer_stuck_aggregates", labels) == 1
    await eventually(
        lambda: any("stuck on aggregate f-1" in r.getMessage() for r in caplog.records),
        message="an ERROR log names the stuck aggregate",
    )

    # The missing event turns up (here: published late); everything applies in order.
    await js_client.publish("facility.thing.changed", event("f-1", 2).to_json())
    await eventually(lambda: effects_are(world, 4))
    await eventually(lambda: bus.read_model_fresh("f-1"), message="f-1 in step again")
    values = [row.value for row in await world.effect_rows() if row.aggregate_id == "f-1"]
    assert values == ["f-1#1", "f-1#2", "f-1#3"]
    assert registry.get_sample_value("events_consumer_stuck_aggregates", labels) == 0


async def test_a_failed_event_is_retried_before_the_events_behind_it(
    world: EventWorld, private_nats_server: NatsServerProcess
):
    bus = world.bus(private_nats_server.url, max_deliveries=4)
    subscribe(world, bus)
    written = [await world.record("f-1", str(i)) for i in range(4)]
    world.fail_times = {written[1].id: 2}
    await bus.start()
    await eventually(lambda: effects_are(world, 4))

    assert [row.sequence for row in await world.effect_rows()] == [1, 2, 3, 4]
    consumer = bus.consumers[DURABLE]
    assert consumer.counts[Outcome.HELD] == 0
    assert consumer.dead_letters == 0


async def test_an_apply_that_hangs_is_rolled_back_and_retried_and_nothing_behind_it_waits(
    world: EventWorld, private_nats_server: NatsServerProcess, caplog: pytest.LogCaptureFixture
):
    bus = world.bus(private_nats_server.url, apply_timeout=0.5)
    subscribe(world, bus)
    written = [await world.record("f-1", str(i)) for i in range(3)]
    written.append(await world.record("f-2", "other aggregate"))
    world.hang_times = {written[1].id: 2}  # hangs in the batch and in its first retry
    with caplog.at_level(logging.ERROR, logger="common.events.consumer"):
        await bus.start()
        await eventually(lambda: effects_are(world, 4), message="every event applied")

    rows = await world.effect_rows()
    assert [row.sequence for row in rows if row.aggregate_id == "f-1"] == [1, 2, 3]
    assert len({row.event_id for row in rows}) == 4
    consumer = bus.consumers[DURABLE]
    assert consumer.dead_letters == 0
    assert "applying took longer than" in caplog.text


async def test_an_apply_that_always_hangs_ends_dead_lettered_holding_its_aggregate(
    world: EventWorld, private_nats_server: NatsServerProcess, js_client: JetStreamContext
):
    bus = world.bus(private_nats_server.url, apply_timeout=0.3, max_deliveries=2)
    subscribe(world, bus)
    stuck = await world.record("f-1", "hangs")
    after = await world.record("f-1", "behind it")
    elsewhere = await world.record("f-2", "unrelated")
    world.hang_times = {stuck.id: 1000}
    await bus.start()
    consumer = bus.consumers[DURABLE]
    await eventually(lambda: consumer.dead_letters == 1, message="the hanging event dead-lettered")
    await eventually(lambda: effects_are(world, 1), message="the other aggregate applied")

    assert [row.event_id for row in await world.effect_rows()] == [elsewhere.id]
    assert (await js_client.stream_info("DEADLETTER")).state.messages == 1
    await eventually(lambda: "f-1" in consumer.held, message="f-1 held behind the dead letter")
    assert not bus.read_model_fresh("f-1")
    assert after.id not in {row.event_id for row in await world.effect_rows()}


async def test_a_database_outage_is_waited_out_and_never_dead_letters_the_event(
    world: EventWorld, private_nats_server: NatsServerProcess, js_client: JetStreamContext
):
    bus = world.bus(private_nats_server.url, max_deliveries=2)
    subscribe(world, bus)
    event = await world.record("f-1", "during the outage")
    world.failure = lambda: OperationalError(
        "INSERT INTO effects", {}, ConnectionRefusedError("connection refused")
    )
    world.fail_times = {event.id: 4}
    await bus.start()
    await eventually(lambda: effects_are(world, 1), message="applied once the database is back")

    assert bus.consumers[DURABLE].dead_letters == 0
    assert (await js_client.stream_info("DEADLETTER")).state.messages == 0


async def test_a_poison_message_ends_in_the_deadletter_stream_with_its_facts(
    world: EventWorld,
    private_nats_server: NatsServerProcess,
    js_client: JetStreamContext,
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.ERROR, logger="common.events")
    world.always_fail = {"poison"}
    bus = world.bus(private_nats_server.url, max_deliveries=3)
    subscribe(world, bus)
    good = await world.record("f-1", "good")
    poison = await world.record("f-2", "poison")
    after = await world.record("f-2", "after the poison")
    await bus.start()
    await eventually(lambda: effects_are(world, 1), message="the good event applied")
    await eventually(lambda: bus.consumers[DURABLE].dead_letters == 1)
    await eventually(lambda: bool(bus.stuck()), message="f-2 is stuck behind its dead letter")

    letters = await stream_messages(js_client, "DEADLETTER")
    assert len(letters) == 1
    letter = letters[0]
    assert letter.subject == f"deadletter.facility.{DURABLE}"
    assert Envelope.from_json(letter.data or b"") == poison
    assert letter.headers is not None
    assert letter.headers["Original-Subject"] == "facility.thing.changed"
    assert letter.headers["Original-Stream"] == "FACILITY"
    assert letter.headers["Original-Sequence"] == "2"
    assert letter.headers["Delivery-Count"] == "3"
    assert "cannot apply poison" in letter.headers["Error"]
    # The event after the poison waits behind it: applying it would skip one.
    assert [row.event_id for row in await world.effect_rows()] == [good.id]
    assert not bus.read_model_fresh("f-2")
    assert any(
        "dead-lettered" in r.getMessage() and "sequence 2" in r.getMessage()
        for r in caplog.records
    )

    # The cause is fixed; the operator retries: both apply, in order.
    world.always_fail = set()
    assert await bus.retry_held(DURABLE) == 2
    assert [row.event_id for row in await world.effect_rows()] == [good.id, poison.id, after.id]
    await eventually(lambda: bus.read_model_fresh("f-2"), message="f-2 in step again")


async def test_a_replica_never_applies_an_event_past_one_another_replica_is_retrying(
    world: EventWorld, private_nats_server: NatsServerProcess
):
    # A long retry delay leaves room for "another replica" to try the newer event.
    bus = world.bus(private_nats_server.url, retry_delay=1.0, max_deliveries=10)
    subscribe(world, bus)
    older = await world.record("m-1", "granted")
    newer = await world.record("m-1", "revoked")
    world.fail_times = {older.id: 3}
    await bus.start()
    await eventually(lambda: world.fail_times[older.id] <= 1, message="the older event failed")
    # "Another replica" gets the newer event meanwhile: it is held, not applied.
    async with world.db.transaction() as session:
        assert await apply_once(session, world.tables, DURABLE, newer, world.handler) is (
            Outcome.HELD
        )
    await eventually(lambda: effects_are(world, 2))

    assert [row.value for row in await world.effect_rows()] == ["granted", "revoked"]
    assert bus.consumers[DURABLE].dead_letters == 0


async def test_an_unparseable_message_is_dead_lettered_at_once(
    world: EventWorld, private_nats_server: NatsServerProcess, js_client: JetStreamContext
):
    bus = world.bus(private_nats_server.url, relay=False)
    subscribe(world, bus)
    await bus.start()
    await bus.connection.wait_ready()
    await js_client.publish("facility.thing.changed", b"{not json")
    await eventually(lambda: bus.consumers[DURABLE].dead_letters == 1)

    letters = await stream_messages(js_client, "DEADLETTER")
    assert [(m.data, m.headers and m.headers["Delivery-Count"]) for m in letters] == [
        (b"{not json", "1")
    ]
    assert letters[0].headers and letters[0].headers["Error"].startswith("unparseable envelope")
    assert await world.effect_count() == 0


async def test_replay_applies_every_event_again_after_the_read_model_is_cleared(
    world: EventWorld, private_nats_server: NatsServerProcess
):
    bus = world.bus(private_nats_server.url)
    subscribe(world, bus)
    written = [await world.record(f"f-{i % 2}", str(i)) for i in range(6)]
    await bus.start()
    await eventually(lambda: effects_are(world, 6))

    async with world.db.transaction() as session:
        await session.execute(delete(world.effects))
    await bus.replay(DURABLE)
    await eventually(lambda: effects_are(world, 6), message="6 effects after replay")

    assert [row.event_id for row in await world.effect_rows()] == [e.id for e in written]
    async with world.db.read() as session:
        inbox = await session.execute(select(func.count()).select_from(world.tables.inbox))
        assert inbox.scalar_one() == 6


async def test_lag_grows_while_nats_is_unreachable_and_the_read_model_turns_stale(
    world: EventWorld, private_nats_server: NatsServerProcess
):
    bus = world.bus(private_nats_server.url, max_lag_seconds=0.5)
    subscribe(world, bus)
    await bus.start()
    await eventually(lambda: bus.consumers[DURABLE].caught_up, message="caught up")
    assert bus.read_model_fresh()
    ok, detail = await bus.readiness()
    assert ok
    assert detail == {
        "nats": "connected",
        "consumers": {DURABLE: {"pending": 0, "lag_seconds": 0}},
        "outbox": {"unsent": 0},
    }

    private_nats_server.stop()
    await eventually(lambda: not bus.read_model_fresh(), message="stale while NATS is down")
    ok, detail = await bus.readiness()
    assert ok and detail["nats"] == "disconnected"
    # Reported lag is rounded, so a lag just past the 0.5 s threshold may read 0.5.
    assert detail["consumers"][DURABLE]["lag_seconds"] >= 0.5

    private_nats_server.start()
    await world.record("f-1", "after the outage")
    await eventually(bus.read_model_fresh, message="fresh again")
    await eventually(lambda: effects_are(world, 1))


async def test_the_bus_metrics_show_lag_outcomes_and_relay_output(
    world: EventWorld, private_nats_server: NatsServerProcess
):
    bus = world.bus(private_nats_server.url)
    subscribe(world, bus)
    registry = CollectorRegistry()
    bus.register_metrics(registry)
    await world.record("f-1", "one")
    await bus.start()
    await eventually(lambda: effects_are(world, 1))
    await eventually(lambda: bus.consumers[DURABLE].caught_up)

    labels = {"service": "facility", "durable": DURABLE}
    assert registry.get_sample_value(
        "events_consumer_handled_total", {**labels, "outcome": "applied"}
    ) == 1
    assert registry.get_sample_value("events_consumer_lag_seconds", labels) == 0
    assert registry.get_sample_value("events_dead_letters_total", labels) == 0
    assert registry.get_sample_value("events_published_total", {"service": "facility"}) == 1
    assert registry.get_sample_value("events_nats_connected", {"service": "facility"}) == 1


async def test_a_durable_resubscribed_to_more_subjects_receives_their_new_events(
    world: EventWorld, private_nats_server: NatsServerProcess
):
    narrow = world.bus(private_nats_server.url)
    narrow.subscribe(
        durable=DURABLE, stream="FACILITY", subjects=["facility.thing.>"], handler=world.handler
    )
    await world.record("f-1", "thing", type="facility.thing.changed")
    await world.record("o-1", "other", type="facility.other.changed")
    await narrow.start()
    await eventually(lambda: effects_are(world, 1))
    await narrow.stop()

    # The consumer moved past what it skipped: the newer event of o-1 is held, never applied
    # over the gap, until a replay from the stream brings the older one.
    wide = world.bus(private_nats_server.url)
    subscribe(world, wide)
    await wide.start()
    await world.record("o-1", "other, later", type="facility.other.changed")
    await eventually(lambda: not wide.read_model_fresh("o-1"), message="o-1 held")
    assert await world.effect_count() == 1

    await wide.replay_from(DURABLE, stream_sequence=1)
    await eventually(lambda: effects_are(world, 3))
    assert [row.value for row in await world.effect_rows()] == ["thing", "other", "other, later"]
