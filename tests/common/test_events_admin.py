"""The operator's `events stuck|retry|replay` commands, against a real bus and NATS."""

from __future__ import annotations

import json

import pytest
from nats.js import JetStreamContext

from common.events import Envelope, EventBus, admin
from common.natsserver import NatsServerProcess
from tests.common.conftest import EventWorld, eventually

DURABLE = "facility-things"


def event(aggregate: str, sequence: int) -> Envelope:
    return Envelope(type="facility.thing.changed", aggregate_id=aggregate, sequence=sequence,
                    data={"value": f"{aggregate}#{sequence}"})


async def test_an_operator_lists_a_stuck_aggregate_and_replays_the_missing_event(
    world: EventWorld,
    private_nats_server: NatsServerProcess,
    js_client: JetStreamContext,
    capsys: pytest.CaptureFixture[str],
):
    def consumer_bus() -> EventBus:
        # A short ack wait: a pull the stopped bus left open may take the next message.
        bus = world.bus(private_nats_server.url, relay=False, stuck_after=0.0, ack_wait=1.0)
        bus.subscribe(durable=DURABLE, stream="FACILITY", subjects=["facility.>"],
                      handler=world.handler)
        return bus

    running = consumer_bus()
    await running.start()
    await running.connection.wait_ready()
    await js_client.publish("facility.thing.changed", event("f-1", 1).to_json())
    await eventually(lambda: effects_are(world, 1))
    await running.stop()
    # A delivery lost: sequence 2 is acknowledged by something that never applied it.
    missing = await js_client.publish("facility.thing.changed", event("f-1", 2).to_json())
    thief = await js_client.pull_subscribe_bind(DURABLE, stream="FACILITY")
    (taken,) = await thief.fetch(1, timeout=10)
    await taken.ack()
    await js_client.publish("facility.thing.changed", event("f-1", 3).to_json())
    again = consumer_bus()
    await again.start()
    await eventually(lambda: not again.read_model_fresh("f-1"), message="f-1 held")
    await again.stop()

    assert await admin.run(consumer_bus(), ["stuck"], "python -m services.facility") == 0
    (line,) = capsys.readouterr().out.splitlines()
    report = json.loads(line)
    assert report["durable"] == DURABLE and report["aggregate_id"] == "f-1"
    assert report["waiting_for_sequence"] == 2 and report["held"] == 1 and report["stuck"]

    assert await admin.run(
        consumer_bus(), ["replay", "--durable", DURABLE, "--from-stream-sequence",
                         str(missing.seq)], "python -m services.facility",
    ) == 0
    assert "delivered 2 event(s)" in capsys.readouterr().out
    assert [row.value for row in await world.effect_rows()] == ["f-1#1", "f-1#2", "f-1#3"]
    assert await admin.run(consumer_bus(), ["stuck"], "python -m services.facility") == 0
    assert "every consumer is in step" in capsys.readouterr().out


async def effects_are(world: EventWorld, count: int) -> bool:
    return await world.effect_count() == count


async def test_an_unknown_durable_is_refused_with_the_known_ones(
    world: EventWorld, private_nats_server: NatsServerProcess, capsys: pytest.CaptureFixture[str]
):
    bus = world.bus(private_nats_server.url, relay=False)
    bus.subscribe(durable=DURABLE, stream="FACILITY", subjects=["facility.>"],
                  handler=world.handler)
    assert await admin.run(bus, ["retry", "--durable", "nope"], "python -m services.x") == 1
    assert "facility-things" in capsys.readouterr().out
