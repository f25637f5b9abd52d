"""The submittal event worker: the outbox relay, the facility read-model consumer and the
closed-accounts consumer."""

from __future__ import annotations

from typing import Any

from common.closed_accounts import closings
from common.db import Database
from common.events import EventBus
from common.settings import Settings
from services.submittal.adapters.read_model import FacilityHook, ReadModelConsumer
from services.submittal.adapters.tables import CLOSED_ACCOUNTS, EVENTS

FACILITY_DURABLE = "submittal-facility"
IDENTITY_DURABLE = "submittal-identity"


def build_bus(db: Database, settings: Settings, on_facility_created: FacilityHook | None = None,
              **options: Any) -> EventBus:
    bus = EventBus.from_settings("submittal", db, EVENTS, settings, **options)
    bus.subscribe(durable=FACILITY_DURABLE, stream="FACILITY", subjects=["facility.>"],
                  handler=ReadModelConsumer(on_facility_created))
    # Every event of each account, so the inbox sees no gaps; only closings change anything.
    bus.subscribe(durable=IDENTITY_DURABLE, stream="IDENTITY", subjects=["identity.user.>"],
                  handler=closings(CLOSED_ACCOUNTS))
    return bus
