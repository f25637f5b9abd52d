"""The submittal event worker: the outbox relay and the facility read-model consumer."""

from __future__ import annotations

from typing import Any

from common.db import Database
from common.events import EventBus
from common.settings import Settings
from services.submittal.adapters.read_model import FacilityHook, ReadModelConsumer
from services.submittal.adapters.tables import EVENTS

FACILITY_DURABLE = "submittal-facility"


def build_bus(db: Database, settings: Settings, on_facility_created: FacilityHook | None = None,
              **options: Any) -> EventBus:
    bus = EventBus.from_settings("submittal", db, EVENTS, settings, **options)
    bus.subscribe(durable=FACILITY_DURABLE, stream="FACILITY", subjects=["facility.>"],
                  handler=ReadModelConsumer(on_facility_created))
    return bus
