"""An event's trace: the transaction that wrote it, the relay's send, the consumer's apply;
and the event flow's metrics (outbox backlog, relay lag, event age at apply)."""

from __future__ import annotations

import json

from nats.js import JetStreamContext
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry

from common import tracing
from common.events import Envelope
from common.natsserver import NatsServerProcess
from tests.common.conftest import EventWorld, eventually, stream_messages
from tests.tracing import Spans, is_child, links_to


def is_traceparent_of(header: str, span: ReadableSpan) -> bool:
    version, trace_id, span_id, flags = header.split("-")
    return (version, trace_id, span_id) == (
        "00", f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}"
    ) and int(flags, 16) & 1 == 1  # sampled


async def record_in_a_request(world: EventWorld, aggregate: str, value: str
                              ) -> tuple[Envelope, trace.Span]:
    with tracing.tracer("test").start_as_current_span("request", kind=SpanKind.SERVER) as root:
        return await world.record(aggregate, value), root


async def test_the_outbox_row_and_the_nats_message_carry_the_writers_trace_context(
    spans: Spans, world: EventWorld, private_nats_server: NatsServerProcess,
    js_client: JetStreamContext,
) -> None:
    envelope, request = await record_in_a_request(world, "f-1", "one")
    # Say, a command an operator runs: its event starts a trace of its own.
    untraced = await world.record("f-2", "no request around it")
    rows = {row.event_id: row for row in await world.outbox_rows()}
    creates = {s.attributes["messaging.message.id"]: s
               for s in spans.named("create facility.thing.changed")}
    create = creates[envelope.id]
    assert is_child(create, spans.one("request")) and create.kind is SpanKind.PRODUCER
    assert create.attributes["messaging.message.id"] == envelope.id
    stored = json.loads(rows[envelope.id].trace_context)
    assert is_traceparent_of(stored["traceparent"], create)
    assert creates[untraced.id].parent is None
    assert json.loads(rows[untraced.id].trace_context)["traceparent"].split("-")[1] == (
        f"{creates[untraced.id].context.trace_id:032x}"
    )

    bus = world.bus(private_nats_server.url, publisher_only=True)
    await bus.start()
    await eventually(lambda: len(spans.named("send facility.thing.changed")) == 2)
    sends = {s.attributes["messaging.message.id"]: s for s in spans.named(
        "send facility.thing.changed")}
    assert is_child(sends[envelope.id], create)
    assert is_child(sends[untraced.id], creates[untraced.id])
    messages = {m.headers["Nats-Msg-Id"]: m for m in await stream_messages(js_client, "FACILITY")}
    send = sends[envelope.id]
    assert is_traceparent_of(messages[envelope.id].headers["traceparent"], send)
    assert request.get_span_context().trace_id == send.context.trace_id


async def test_a_consumer_continues_one_events_trace_and_links_a_batch_to_each(
    spans: Spans, world: EventWorld, private_nats_server: NatsServerProcess,
) -> None:
    batch = [await record_in_a_request(world, f"f-{i}", str(i)) for i in range(3)]
    publisher = world.bus(private_nats_server.url, publisher_only=True)
    await publisher.start()
    await eventually(lambda: len(spans.named("send facility.thing.changed")) == 3)
    consumer_bus = world.bus(private_nats_server.url, service="submittal", relay=False)
    consumer_bus.subscribe(durable="traced", stream="FACILITY", subjects=["facility.>"],
                           handler=world.handler)
    await consumer_bus.start()
    await eventually(lambda: _count(world, 3))

    sends = {s.attributes["messaging.message.id"]: s
             for s in spans.named("send facility.thing.changed")}
    # Fetched together, applied in one transaction: that span links to every event's send,
    # and each event's own apply span continues its trace.
    [transaction] = spans.named("process traced")
    assert transaction.kind is SpanKind.CONSUMER and transaction.parent is None
    assert transaction.attributes["messaging.batch.message_count"] == 3
    for envelope, request in batch:
        send = sends[envelope.id]
        assert links_to(transaction, [send])
        [apply] = [s for s in spans.named("apply facility.thing.changed")
                   if s.attributes["messaging.message.id"] == envelope.id]
        assert is_child(apply, send) and links_to(apply, [transaction])
        assert apply.context.trace_id == request.get_span_context().trace_id
        # The handler's statements are the apply span's children.
        assert any(s.kind is SpanKind.CLIENT and "INSERT INTO effects" in str(
            s.attributes.get("db.statement", s.attributes.get("db.query.text", "")))
            for s in spans.children(apply))

    alone, request = await record_in_a_request(world, "f-9", "alone")
    await eventually(lambda: _count(world, 4))
    [single] = spans.named("process facility.thing.changed")
    [send] = [s for s in spans.named("send facility.thing.changed")
              if s.attributes["messaging.message.id"] == alone.id]
    assert is_child(single, send) and single.kind is SpanKind.CONSUMER
    [apply] = [s for s in spans.named("apply facility.thing.changed")
               if s.attributes["messaging.message.id"] == alone.id]
    assert is_child(apply, single)
    assert single.context.trace_id == request.get_span_context().trace_id


async def _count(world: EventWorld, n: int) -> bool:
    return await world.effect_count() == n


async def test_the_outbox_backlog_and_the_event_flow_delays_are_metrics(
    world: EventWorld, private_nats_server: NatsServerProcess,
) -> None:
    registry = CollectorRegistry()
    refreshers: list = []
    bus = world.bus(private_nats_server.url, max_lag_seconds=30.0)
    bus.subscribe(durable="metered", stream="FACILITY", subjects=["facility.>"],
                  handler=world.handler)
    bus.register_metrics(registry, refreshers)
    for i in range(3):
        await world.record("f-1", str(i))
    for refresh in refreshers:
        await refresh()
    labels = {"service": "facility"}
    assert registry.get_sample_value("events_outbox_unsent", labels) == 3
    assert registry.get_sample_value("events_outbox_oldest_unsent_age_seconds", labels) > 0
    assert registry.get_sample_value("events_read_model_max_lag_seconds", labels) == 30

    await bus.start()
    await eventually(lambda: _count(world, 3))
    for refresh in refreshers:
        await refresh()
    assert registry.get_sample_value("events_outbox_unsent", labels) == 0
    assert registry.get_sample_value("events_outbox_oldest_unsent_age_seconds", labels) == 0
    assert registry.get_sample_value("events_relay_lag_seconds_count", labels) == 3
    consumer = {**labels, "durable": "metered"}
    assert registry.get_sample_value("events_consumer_event_age_seconds_count", consumer) == 3
