"""What the use cases need, wired once per process in app.py."""

from __future__ import annotations

from dataclasses import dataclass

from common.db import Database
from services.submittal.adapters.storage import DocumentStorage
from services.submittal.service_layer.access import Freshness


@dataclass(frozen=True)
class Deps:
    db: Database
    fresh: Freshness
    storage: DocumentStorage
