"""Live facility changes and access requests for this process's subscriptions.

One live feed of ``facility.>`` (this service's own events, already in the FACILITY stream)
per process. For each event the hub reads, once, the facility or access request it is about
and who holds which level or staff role there, from this service's own tables; then every
watcher decides in memory, with its caller's rights as they are now, whether its client may
see it. A revocation that touches a watcher's grounds ends its subscription with FORBIDDEN.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from common.contracts import facility as contract
from common.events.connection import NatsConnection
from common.events.envelope import Envelope
from common.events.live import LiveFeed, Mailbox
from services.facility.adapters import tables as t
from services.facility.service_layer.context import Facilities

log = logging.getLogger(__name__)

FACILITY_KINDS = {
    contract.FACILITY_UPDATED: "UPDATED",
    contract.FACILITY_TRANSFERRED: "TRANSFERRED",
    contract.FACILITY_COMPLIANCE_CHANGED: "COMPLIANCE_CHANGED",
    contract.PERMIT_ISSUED: "PERMIT_ISSUED",
    contract.DUE_DATE_CHANGED: "DUE_DATE_CHANGED",
}
REQUEST_KINDS = {
    contract.ACCESS_REQUEST_CREATED: "CREATED",
    contract.ACCESS_REQUEST_DECIDED: "DECIDED",
}
REVOCATIONS = {
    contract.STAFF_REVOKED: "agency",
    contract.MEMBERSHIP_REVOKED: "organization",
}
STAFF_ORDER = ("VIEWER", "INSPECTOR", "APPROVER", "ADMIN")


@dataclass(frozen=True)
class Change:
    """One event with what deciding on it needs, read once for every watcher."""

    envelope: Envelope
    kind: str
    organization_id: str
    agency_id: str | None
    members: dict[str, str]  # user id -> business level in the business concerned
    staff: dict[str, str]  # user id -> staff role at the agency concerned
    facility: t.Facility | None = None
    request: t.AccessRequest | None = None


@dataclass(eq=False)
class Watcher:
    user_id: str | None
    statewide: bool
    # "agency:<id>" / "organization:<id>": a revocation of one of these ends the subscription
    grounds: frozenset[str]
    topic: str  # "facility" or "access_request"
    decide: Callable[[Change, Watcher], bool]
    mailbox: Mailbox[Change] = field(default_factory=Mailbox)

    def level(self, change: Change) -> str | None:
        return change.members.get(self.user_id) if self.user_id else None

    def staff_role(self, change: Change) -> str | None:
        return change.staff.get(self.user_id) if self.user_id and change.agency_id else None

    def is_staff(self, change: Change, at_least: str = "VIEWER") -> bool:
        role = self.staff_role(change)
        return role in STAFF_ORDER and STAFF_ORDER.index(role) >= STAFF_ORDER.index(at_least)

    def offer(self, change: Change) -> None:
        if self.mailbox.ended:
            return
        try:
            if not self.decide(change, self):
                return
        except Exception:  # a bug in one decision never reaches another watcher
            log.exception("live decision failed")
            return
        self.mailbox.put(change)


class LiveFacilities:
    def __init__(self, app: Facilities, connection: NatsConnection) -> None:
        self.app = app
        self.feed = LiveFeed(connection, "FACILITY", "facility.>")
        self.feed.listen(self._on_event)
        self.watchers: dict[int, Watcher] = {}
        self._ids = itertools.count(1)

    def start(self) -> None:
        self.feed.start()

    async def stop(self) -> None:
        await self.feed.stop()
        for watcher in list(self.watchers.values()):
            watcher.mailbox.end("UNAVAILABLE", "The service is restarting; subscribe again.")

    def add(self, watcher: Watcher) -> int:
        key = next(self._ids)
        self.watchers[key] = watcher
        return key

    def remove(self, key: int) -> None:
        self.watchers.pop(key, None)

    async def _on_event(self, envelope: Envelope) -> None:
        if not self.watchers:
            return
        scope = REVOCATIONS.get(envelope.type)
        if scope is not None:
            self._revoked(envelope, scope)
            return
        topic = ("facility" if envelope.type in FACILITY_KINDS else
                 "access_request" if envelope.type in REQUEST_KINDS else None)
        if topic is None or not any(w.topic == topic for w in self.watchers.values()):
            return
        change = await self._load(envelope)
        if change is None:
            return
        for watcher in list(self.watchers.values()):
            if watcher.topic == topic:
                watcher.offer(change)

    async def _load(self, envelope: Envelope) -> Change | None:
        data: dict[str, Any] = envelope.data
        async with self.app.db.read() as session:
            facility = request = None
            if envelope.type in FACILITY_KINDS:
                facility_id = data.get("facility_id") or (data.get("facility") or {}).get(
                    "facility_id")
                facility = await session.get(t.Facility, facility_id) if facility_id else None
                if facility is None:
                    return None
                organization_id, agency_id = facility.organization_id, facility.agency_id
                kind = FACILITY_KINDS[envelope.type]
            else:
                request_id = data.get("access_request_id")
                request = await session.get(t.AccessRequest, request_id) if request_id else None
                if request is None:
                    return None
                organization_id, agency_id = request.organization_id, request.agency_id
                kind = REQUEST_KINDS[envelope.type]
            members = await session.execute(
                select(col(t.Membership.user_id), col(t.Membership.role)).where(
                    col(t.Membership.organization_id) == organization_id))
            staff: dict[str, str] = {}
            if agency_id:
                rows = await session.execute(
                    select(col(t.StaffMember.user_id), col(t.StaffMember.role)).where(
                        col(t.StaffMember.agency_id) == agency_id))
                staff = {r[0]: r[1] for r in rows if r[0]}
            return Change(envelope, kind, organization_id, agency_id,
                          {r[0]: r[1] for r in members}, staff, facility, request)

    def _revoked(self, envelope: Envelope, scope: str) -> None:
        user_id = envelope.data.get("user_id")
        target = envelope.data.get(f"{scope}_id")
        ground = f"{scope}:{target}"
        for watcher in list(self.watchers.values()):
            if watcher.user_id == user_id and ground in watcher.grounds:
                what = "staff role at the agency" if scope == "agency" else (
                    "access to the business")
                watcher.mailbox.end("FORBIDDEN", f"Your {what} {target} was revoked; this "
                                    "subscription has ended.")
