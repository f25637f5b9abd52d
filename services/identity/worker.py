"""identity's event worker: it only publishes (the outbox relay); it consumes nothing."""

from __future__ import annotations

from common.db import Database
from common.events import EventBus
from common.settings import Settings
from services.identity.adapters.tables import EVENTS


def create_bus(db: Database, settings: Settings) -> EventBus:
    return EventBus.from_settings("identity", db, EVENTS, settings, publisher_only=True)
