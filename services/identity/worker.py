"""identity's event worker: the outbox relay, and the consumer of facility's events that keeps
the relationship read model (who may read whose name; ``adapters/read_model.py``)."""

from __future__ import annotations

from typing import Any

from common.db import Database
from common.events import EventBus
from common.settings import Settings
from services.identity.adapters.read_model import apply_facility_event
from services.identity.adapters.tables import EVENTS

FACILITY_DURABLE = "identity-facility"


def create_bus(db: Database, settings: Settings, **options: Any) -> EventBus:
    bus = EventBus.from_settings("identity", db, EVENTS, settings, **options)
    # Every facility event, also those identity does not use: a consumer follows every event
    # of the aggregates it reads, so a gap in a sequence always means a missing event.
    bus.subscribe(durable=FACILITY_DURABLE, stream="FACILITY", subjects=["facility.>"],
                  handler=apply_facility_event)
    return bus
