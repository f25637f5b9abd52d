"""What every use case needs: the database, the clock, the mailer and the event tables."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.db import Database
from common.events.outbox import record_event
from common.mail import Mailer
from services.facility.adapters.tables import EVENTS, OutgoingMail
from services.facility.domain.compliance import Clock, utc_now

log = logging.getLogger(__name__)


@dataclass
class Facilities:
    """The facility service's dependencies, built once per process (see ``app.py``)."""

    db: Database
    mailer: Mailer
    public_base_url: str = "http://127.0.0.1:8000"
    clock: Clock = utc_now
    invitation_days: int = 14
    # DEMO=1 outside production: the demo business is made when its account activates.
    demo: bool = False
    # Whether identity's events are applied recently enough to trust known_users; wired to
    # the EventBus in app.py. Grants from a stale read model are refused (fail closed).
    # bus.read_model_fresh: within the lag bound, and no event of these aggregates held.
    read_model_fresh: Callable[..., bool] = lambda *aggregate_ids: True

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.clock().date()

    def mail(self, session: AsyncSession, to: list[str] | str, subject: str, text: str) -> None:
        """Queue an email in the caller's transaction; it goes out after commit."""
        recipients = sorted({to} if isinstance(to, str) else {t for t in to if t})
        if recipients:
            session.add(
                OutgoingMail(
                    recipients=recipients, subject=subject, body=text, created_at=self.now()
                )
            )

    async def send_mail(self, limit: int = 100) -> int:
        """Send queued email; each row is marked sent in the transaction that claimed it."""
        # Most rounds find nothing: look first, without the write transaction that would take
        # SQLite's writer lock (every 2 s) from the event consumers and the mutations.
        async with self.db.read() as session:
            queued = (await session.execute(
                select(col(OutgoingMail.id)).where(col(OutgoingMail.sent_at).is_(None)).limit(1)
            )).first()
        if queued is None:
            return 0
        sent = 0
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    select(OutgoingMail)
                    .where(col(OutgoingMail.sent_at).is_(None))
                    .order_by(col(OutgoingMail.created_at))
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).scalars()
            for row in rows:
                try:
                    await self.mailer.send(row.recipients, row.subject, row.body)
                except Exception:  # noqa: BLE001 - left unsent; the next round retries it
                    log.exception(
                        "could not send %r to %s; will retry", row.subject, row.recipients
                    )
                    continue
                row.sent_at = self.now()
                sent += 1
        return sent

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
