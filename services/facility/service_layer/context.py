"""What every use case needs: the database, the clock, the mailer and the event tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import Database
from common.events.outbox import record_event
from common.mail import Mailer
from services.facility.adapters.tables import EVENTS
from services.facility.domain.compliance import Clock, utc_now


@dataclass
class Facilities:
    """The facility service's dependencies, built once per process (see ``app.py``)."""

    db: Database
    mailer: Mailer
    public_base_url: str = "http://127.0.0.1:8000"
    clock: Clock = utc_now
    invitation_days: int = 14

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.clock().date()

    async def emit(
        self,
        session: AsyncSession,
        type: str,
        aggregate_id: str,
        payload: BaseModel,
        actor: str | None,
    ) -> None:
        await record_event(
            session,
            EVENTS,
            type=type,
            aggregate_id=aggregate_id,
            data=payload.model_dump(mode="json"),
            actor=actor,
        )


class Mail:
    """Emails collected during a use case, sent once its transaction has committed, so a
    rolled-back change never emails anyone."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str, str]] = []

    def add(self, to: list[str] | str, subject: str, text: str) -> None:
        recipients = [to] if isinstance(to, str) else [t for t in to if t]
        if recipients:
            self.messages.append((recipients, subject, text))

    async def send(self, mailer: Mailer, log: Any) -> None:
        for to, subject, text in self.messages:
            try:
                await mailer.send(to, subject, text)
            except Exception:  # noqa: BLE001 - the change is committed; say what failed to send
                log.exception("could not send %r to %s", subject, to)
