"""Events between services: envelope, transactional outbox and relay, streams, idempotent inbox.

The public API (import from here):

- ``Envelope``: the JSON envelope of DESIGN §3 (``to_json()``, ``Envelope.from_json()``).
- ``event_tables(metadata) -> EventTables``: the outbox, inbox and bookkeeping tables, added
  to a service's own MetaData. Each service's first Alembic migration creates them by calling
  ``create_event_tables_op(op)`` (and ``drop_event_tables_op(op)`` in its downgrade).
- ``record_event(session, tables, *, type, aggregate_id, data, actor=None, schema_version=1)``:
  writes an event to the outbox inside the caller's transaction, allocating the next
  per-aggregate ``sequence``. Returns the Envelope.
- ``EventBus``: one per service process. Connects to NATS (and keeps reconnecting), bootstraps
  the streams, runs the outbox relay (one leader per service) and the registered consumers
  (``subscribe(durable=, stream=, subjects=, handler=)``), reports lag (``readiness()``,
  ``lag_seconds()``, ``read_model_fresh()``, ``register_metrics(registry)``) and replays a
  consumer (``replay(durable)``).
- ``ensure_streams(js, replicas)`` and ``STREAMS``: the JetStream streams.
- ``apply_once(session, tables, consumer, envelope, handler) -> Outcome`` (and ``apply_many``
  for a run of events): the inbox rule on its own, for code that applies events outside a
  JetStream consumer.

docs/events.md has the rules and the catalogue index.
"""

from __future__ import annotations

from common.events.bus import EventBus
from common.events.connection import NatsConnection
from common.events.consumer import (
    DEADLETTER_HEADERS,
    Consumer,
    Handler,
    Outcome,
    Subscription,
    apply_once,
)
from common.events.envelope import Envelope
from common.events.inbox import apply_many
from common.events.outbox import record_event
from common.events.relay import OutboxRelay
from common.events.streams import STREAMS, ensure_streams, stream_for_subject
from common.events.tables import (
    EventTables,
    create_event_tables_op,
    drop_event_tables_op,
    event_tables,
)

__all__ = [
    "DEADLETTER_HEADERS",
    "STREAMS",
    "Consumer",
    "Envelope",
    "EventBus",
    "EventTables",
    "Handler",
    "NatsConnection",
    "Outcome",
    "OutboxRelay",
    "Subscription",
    "apply_many",
    "apply_once",
    "create_event_tables_op",
    "drop_event_tables_op",
    "ensure_streams",
    "event_tables",
    "record_event",
    "stream_for_subject",
]
