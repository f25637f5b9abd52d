"""Prometheus view of an EventBus: consumer lag and outcomes, relay output, NATS connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from common.events.bus import EventBus


# From a poll interval to the stuck alarm's neighbourhood.
DELAY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)


class EventTimings:
    """Histograms the relay and the consumers fill; the bus's collector exposes them."""

    def __init__(self) -> None:
        self.relay_lag = Histogram(
            "events_relay_lag_seconds",
            "From an event's commit to JetStream's acknowledgement of it",
            ["service"], registry=None, buckets=DELAY_BUCKETS,
        )
        self.event_age = Histogram(
            "events_consumer_event_age_seconds",
            "Age of each event when its consumer applied it: how far the read model trails "
            "the producer's commit",
            ["service", "durable"], registry=None, buckets=DELAY_BUCKETS,
        )

    def collect(self) -> Iterator[Metric]:
        yield from self.relay_lag.collect()
        yield from self.event_age.collect()


class EventBusCollector(Collector):
    """Read at scrape time, so the numbers are never stale and cost nothing in between."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def collect(self) -> Iterator[Metric]:
        bus, service = self.bus, self.bus.service
        connected = bus.connection.connected
        nats = GaugeMetricFamily(
            "events_nats_connected", "1 while connected to NATS", labels=["service"]
        )
        nats.add_metric([service], 1.0 if connected else 0.0)
        yield nats
        if bus.relay is not None:
            published = CounterMetricFamily(
                "events_published", "Events the relay published", labels=["service"]
            )
            published.add_metric([service], float(bus.relay.published))
            leader = GaugeMetricFamily(
                "events_relay_leader", "1 while this process runs the relay", labels=["service"]
            )
            leader.add_metric([service], 1.0 if bus.relay.is_leader else 0.0)
            unsent = GaugeMetricFamily(
                "events_outbox_unsent", "Committed events the relay has not published yet",
                labels=["service"],
            )
            unsent.add_metric([service], float(bus.backlog[0]))
            oldest = GaugeMetricFamily(
                "events_outbox_oldest_unsent_age_seconds",
                "How long the oldest unpublished event has waited in the outbox (0 when none)",
                labels=["service"],
            )
            oldest.add_metric([service], bus.backlog[1])
            yield from (published, leader, unsent, oldest)
        threshold = GaugeMetricFamily(
            "events_read_model_max_lag_seconds",
            "READ_MODEL_MAX_LAG_SECONDS: past this consumer lag, dependent operations answer "
            "UNAVAILABLE", labels=["service"],
        )
        threshold.add_metric([service], bus.max_lag_seconds)
        yield threshold
        yield from bus.timings.collect()
        labels = ["service", "durable"]
        lag = GaugeMetricFamily(
            "events_consumer_lag_seconds", "Seconds since the consumer was caught up", labels=labels
        )
        pending = GaugeMetricFamily(
            "events_consumer_pending", "Events in the stream not yet delivered", labels=labels
        )
        handled = CounterMetricFamily(
            "events_consumer_handled", "Events handled, by outcome", labels=[*labels, "outcome"]
        )
        dead = CounterMetricFamily(
            "events_dead_letters", "Messages sent to the DEADLETTER stream", labels=labels
        )
        held = GaugeMetricFamily(
            "events_consumer_held_aggregates",
            "Aggregates whose read model is behind: events held for a missing predecessor",
            labels=labels,
        )
        stuck = GaugeMetricFamily(
            "events_consumer_stuck_aggregates",
            "Held aggregates past EVENT_STUCK_AFTER_SECONDS or behind a dead letter",
            labels=labels,
        )
        for consumer in bus.running_consumers():
            key = [service, consumer.durable]
            lag.add_metric(key, consumer.lag_seconds(connected))
            pending.add_metric(key, float(consumer.pending or 0))
            for outcome, count in consumer.counts.items():
                handled.add_metric([*key, outcome.value], float(count))
            dead.add_metric(key, float(consumer.dead_letters))
            held.add_metric(key, float(len(consumer.held)))
            stuck.add_metric(key, float(len(consumer.stuck())))
        yield from (lag, pending, handled, dead, held, stuck)
