"""Event payloads shared by producer and consumer: one module per producing service.

- ``identity.py``: ``identity.user.*`` (stream ``IDENTITY``)
- ``facility.py``: ``facility.*`` (stream ``FACILITY``)
- ``submittal.py``: ``submittal.*`` (stream ``SUBMITTAL``)

Each module holds the subject constants and a pydantic model per event ``data``. The producer
records ``Model(...).model_dump(mode="json")`` with ``common.events.record_event``; a consumer
reads ``Model.model_validate(envelope.data)``. Models ignore unknown fields, so adding an
optional field is compatible; removing or changing one is a new ``schema_version``, which
consumers must accept alongside the old one until every old event has been replayed away.
Contracts import nothing but pydantic and the standard library, so any service may import them.
"""
