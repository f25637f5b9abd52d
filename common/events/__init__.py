"""Events between services: envelope, transactional outbox and relay, streams, idempotent inbox.

The public API (import from here):

- ``Envelope``: the JSON envelope of DESIGN §3.
- ``event_tables(metadata) -> EventTables``: the outbox, inbox and bookkeeping tables, added
  to a service's own MetaData; each service's first Alembic migration creates them.
- ``record_event(session, tables, *, type, aggregate_id, data, actor=None, schema_version=1)``:
  writes an event to the outbox inside the caller's transaction, allocating the next
  per-aggregate ``sequence``. Returns the Envelope.
- ``EventBus``: one per service process. Connects to NATS (and keeps reconnecting), bootstraps
  the streams, runs the outbox relay and the registered consumers, reports lag.
"""
