from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from common.events import Envelope, record_event
from tests.common.conftest import EventWorld


def test_an_envelope_round_trips_through_json_with_utc_iso_time():
    envelope = Envelope(
        type="facility.facility.created", aggregate_id="f-1", sequence=1, actor="u-1",
        data={"name": "Acme Plating"},
    )
    raw = json.loads(envelope.to_json())
    assert set(raw) == {
        "id", "type", "schema_version", "occurred_at", "aggregate_id", "sequence", "actor", "data",
    }
    assert raw["occurred_at"].endswith("Z")
    assert Envelope.from_json(envelope.to_json()) == envelope


def test_an_envelope_takes_local_times_as_utc():
    envelope = Envelope.from_json(json.dumps({
        "id": "5b1e8a3e-7c9d-4c1e-9d7a-3a0e6f1b2c3d", "type": "identity.user.activated",
        "schema_version": 1, "occurred_at": "2026-03-01T08:00:00-08:00",
        "aggregate_id": "u-1", "sequence": 2, "actor": None, "data": {},
    }))
    assert envelope.occurred_at == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "field,value",
    [("type", "FacilityCreated"), ("type", "facility.created"), ("id", "not-a-uuid"),
     ("sequence", 0)],
)
def test_an_envelope_rejects_malformed_fields(field, value):
    fields = {"type": "facility.facility.created", "aggregate_id": "f-1", "sequence": 1}
    with pytest.raises(ValidationError):
        Envelope(**{**fields, field: value})


async def test_a_rolled_back_transaction_leaves_no_event(world: EventWorld):
    with pytest.raises(RuntimeError):
        async with world.db.transaction() as session:
            await record_event(
                session, world.tables, type="facility.facility.created", aggregate_id="f-1",
                data={"name": "Acme"},
            )
            raise RuntimeError("the change failed")
    assert await world.outbox_rows() == []
    # The sequence allocation rolled back too: the next event of f-1 is still number 1.
    assert (await world.record("f-1", "a")).sequence == 1


async def test_sequences_increase_from_one_per_aggregate(world: EventWorld):
    first = [await world.record("f-1", str(i)) for i in range(3)]
    other = await world.record("f-2", "x")
    assert [e.sequence for e in first] == [1, 2, 3]
    assert other.sequence == 1
    rows = await world.outbox_rows()
    assert [(r.event_id, r.sequence, r.subject, r.sent_at) for r in rows] == [
        (e.id, e.sequence, e.type, None) for e in [*first, other]
    ]
    assert Envelope.from_json(rows[0].payload) == first[0]


async def test_concurrent_writers_of_one_aggregate_get_distinct_sequences_in_outbox_order(
    world: EventWorld,
):
    envelopes = await asyncio.gather(*(world.record("f-1", str(i)) for i in range(20)))
    assert sorted(e.sequence for e in envelopes) == list(range(1, 21))
    rows = await world.outbox_rows()
    assert [r.sequence for r in rows] == list(range(1, 21))


@pytest.mark.parametrize("type", ["inventory.thing.changed", "deadletter.facility.things"])
async def test_an_event_no_stream_would_capture_is_refused_at_write_time(
    world: EventWorld, type: str
):
    with pytest.raises(ValueError):
        await world.record("f-1", "x", type=type)
    assert await world.outbox_rows() == []


async def test_an_event_too_large_for_nats_is_refused_at_write_time(world: EventWorld):
    with pytest.raises(ValueError, match="bytes"):
        await world.record("f-1", "x" * 1_000_000)
    assert await world.outbox_rows() == []
