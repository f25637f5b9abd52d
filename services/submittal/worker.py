"""The submittal event worker: the outbox relay, the facility read-model consumer and the
closed-accounts consumer."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from common.closed_accounts import closings
from common.db import Database
from common.events import EventBus
from common.events.envelope import Envelope
from common.settings import Settings
from services.submittal.adapters.read_model import FacilityHook, ReadModelConsumer
from services.submittal.adapters.tables import CLOSED_ACCOUNTS, EVENTS
from services.submittal.service_layer.changes import FacilityEvents

FACILITY_DURABLE = "submittal-facility"
IDENTITY_DURABLE = "submittal-identity"


def build_bus(db: Database, settings: Settings, on_facility_created: FacilityHook | None = None,
              **options: Any) -> EventBus:
    bus = EventBus.from_settings("submittal", db, EVENTS, settings, **options)
    bus.subscribe(durable=FACILITY_DURABLE, stream="FACILITY", subjects=["facility.>"],
                  handler=FacilityConsumer(on_facility_created))
    # Every event of each account, so the inbox sees no gaps; only closings change anything.
    bus.subscribe(durable=IDENTITY_DURABLE, stream="IDENTITY", subjects=["identity.user.>"],
                  handler=closings(CLOSED_ACCOUNTS))
    return bus


class FacilityConsumer(ReadModelConsumer):
    """The read model, and then what the same event means for the search and the feed."""

    def __init__(self, on_facility_created: FacilityHook | None = None) -> None:
        super().__init__(on_facility_created)
        self.search_and_feed = FacilityEvents()

    async def __call__(self, session: AsyncSession, envelope: Envelope) -> None:
        # The feed lists the facility's own event before anything the demo seed's hook (run
        # by the read model) submits for it.
        await self.search_and_feed(session, envelope)
        await super().__call__(session, envelope)
