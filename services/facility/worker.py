"""The event worker in the facility process: outbox relay, consumers and periodic jobs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from common.events import EventBus
from common.events.envelope import Envelope
from common.settings import Settings
from common.tasks import cancel_and_wait
from services.facility.adapters.tables import EVENTS, KnownUser
from services.facility.service_layer import compliance, consumers
from services.facility.service_layer.context import Facilities

log = logging.getLogger(__name__)

Handler = Callable[[Facilities, AsyncSession, Envelope], Awaitable[None]]

IDENTITY_HANDLERS: dict[str, Handler] = {
    "identity.user.activated": consumers.user_activated,
    "identity.user.updated": consumers.user_updated,
    "identity.user.deactivated": consumers.user_deactivated,
}
SUBMITTAL_HANDLERS: dict[str, Handler] = {
    "submittal.hmbp.certified": compliance.hmbp_certified,
    "submittal.element.submitted": compliance.element_submitted,
    "submittal.element.reviewed": compliance.element_reviewed,
}
DURABLES = {"facility-identity": "IDENTITY", "facility-submittal": "SUBMITTAL"}
# Only identity's events feed a read model here (known accounts), so only they are replayed by
# resync. Submittal's events changed facility state (due dates, reasons) when they happened;
# applying them again would certify a late cycle twice or reopen a cleared correction.
RESYNC_DURABLES = ("facility-identity",)


async def clear_read_model(app: Facilities) -> None:
    """Forget the accounts learnt from identity, before replaying its events from the start."""
    async with app.db.transaction() as session:
        await session.execute(delete(KnownUser))


def dispatcher(
    app: Facilities, handlers: dict[str, Handler]
) -> Callable[[AsyncSession, Envelope], Awaitable[None]]:
    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        handler = handlers.get(envelope.type)
        if handler is not None:
            await handler(app, session, envelope)

    return handle


class Worker:
    def __init__(self, app: Facilities, settings: Settings, *, job_seconds: float = 60.0) -> None:
        self.app = app
        self.job_seconds = job_seconds
        self.bus = EventBus.from_settings("facility", app.db, EVENTS, settings)
        self.bus.subscribe(
            durable="facility-identity",
            stream="IDENTITY",
            subjects=["identity.user.>"],
            handler=dispatcher(app, IDENTITY_HANDLERS),
        )
        self.bus.subscribe(
            durable="facility-submittal",
            stream="SUBMITTAL",
            subjects=["submittal.>"],
            handler=dispatcher(app, SUBMITTAL_HANDLERS),
        )
        self._jobs: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.bus.start()
        self._jobs = [
            asyncio.create_task(self._every(2.0, self.app.send_mail), name="facility:mail"),
            asyncio.create_task(
                self._every(self.job_seconds, lambda: compliance.send_reminders(self.app)),
                name="facility:reminders",
            ),
        ]

    async def stop(self) -> None:
        await cancel_and_wait(self._jobs, within=5.0, what="facility jobs")
        await self.bus.stop()

    @staticmethod
    async def _every(seconds: float, job: Callable[[], Awaitable[int]]) -> None:
        while True:
            try:
                await job()
            except Exception:  # noqa: BLE001 - a failed round is retried on the next tick
                log.exception("periodic job failed; retrying in %ss", seconds)
            await asyncio.sleep(seconds)
