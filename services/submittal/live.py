"""Live submittal changes for this process's subscriptions.

One live feed of ``submittal.element.>`` (facts already in the SUBMITTAL stream) and one of
``facility.>`` (for revocations) per process. For each element event the hub reads, once,
the element, its facility and who holds which level or staff role there, from the read
model; then every watcher decides in memory, with its caller's rights as they are now,
whether its client may see the change. A revocation that touches a watcher's grounds ends
its subscription with FORBIDDEN; the client subscribes again with what it has left.

Every change carries its stream position; a subscription resumed from one (the gateway, after
this process restarted) is first replayed what followed it (:meth:`LiveSubmittals.replay`),
and no watcher is offered a position twice.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import col

from common.contracts import facility as facility_contract
from common.contracts import submittal as contract
from common.events.connection import NatsConnection
from common.events.envelope import Envelope
from common.events.live import MARK_EVERY, MAX_REPLAY, TOO_FAR, TOO_SLOW, LiveFeed, Mailbox
from services.submittal.adapters.tables import Element, FacilityView, MembershipView, StaffView
from services.submittal.service_layer.access import BUSINESS_ROLES, STAFF_ROLES
from services.submittal.service_layer.deps import Deps

log = logging.getLogger(__name__)
_serials = itertools.count(1)

KINDS = {
    contract.ELEMENT_SUBMITTED: "SUBMITTED",
    contract.ELEMENT_REVIEWED: "REVIEWED",
    contract.ELEMENT_NOT_APPLICABLE: "NOT_APPLICABLE",
}
REVOCATIONS = {
    facility_contract.STAFF_REVOKED: "agency",
    facility_contract.MEMBERSHIP_REVOKED: "organization",
}


@dataclass(frozen=True)
class Audience:
    """A subscriber's rights at one change's facility, as its resolvers read them: subscribers
    of one operation with the same audience are sent the same result."""

    statewide: bool
    in_step: bool
    level: str | None  # business level at the facility's business
    role: str | None  # staff role at the facility's agency

    @property
    def sees_secrets(self) -> bool:
        return self.level is not None or self.role is not None


@dataclass(frozen=True)
class Change:
    """One element event with what deciding on it needs, read once for every watcher."""

    envelope: Envelope
    kind: str
    element: Element
    facility: FacilityView
    members: dict[str, str]  # user id -> business level at the facility's business
    staff: dict[str, str]  # user id -> staff role at the facility's agency
    sequence: int = 0  # the event's position in the SUBMITTAL stream
    # This load of the event (a replay loads it again, as it is then): what subscribers of
    # one audience share an execution of.
    serial: int = field(default_factory=lambda: next(_serials))
    # The root value built for each audience (services/submittal/graphql/subscriptions.py).
    roots: dict[Audience, object] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Mark:
    """The stream moved on to ``sequence`` with nothing for this subscription."""

    sequence: int


@dataclass(eq=False)
class Watcher:
    """One subscription: its caller, the grounds of its rights, and its queue."""

    user_id: str | None
    statewide: bool
    # "agency:<id>" / "organization:<id>": a revocation of one of these ends the subscription
    grounds: frozenset[str]
    decide: Callable[[Change, Watcher], bool]
    fresh: Callable[..., bool]
    mailbox: Mailbox[Change | Mark] = field(default_factory=Mailbox)
    # The stream position of the last change offered: nothing at or before it is offered
    # again (a resuming subscription starts from the position it was given).
    after: int | None = None
    # While a resuming subscription is replayed, live changes wait here, then are offered.
    replaying: bool = False
    held: list[Change] = field(default_factory=list)
    marks: bool = False  # whether the subscriber wants position marks
    # Where a replay ended: every change up to here was offered; the held ones follow.
    replayed_to: int | None = None
    marked: int = 0  # the position last sent (change or mark)

    def business_level(self, change: Change) -> str | None:
        if self.user_id is None or not self._in_step(change):
            return None
        return change.members.get(self.user_id)

    def staff_role(self, change: Change) -> str | None:
        if self.user_id is None or not change.facility.agency_id or not self._in_step(change):
            return None
        return change.staff.get(self.user_id)

    def is_member(self, change: Change) -> bool:
        return self.business_level(change) in BUSINESS_ROLES

    def is_regulator(self, change: Change) -> bool:
        return self.staff_role(change) in STAFF_ROLES

    def sees_secrets(self, change: Change) -> bool:
        return self.is_member(change) or self.is_regulator(change)

    def audience(self, change: Change) -> Audience:
        """Everything of this caller that what it is sent about ``change`` depends on."""
        in_step = self.user_id is not None and self._in_step(change)
        level = change.members.get(self.user_id or "") if in_step else None
        role = (change.staff.get(self.user_id or "")
                if in_step and change.facility.agency_id else None)
        return Audience(self.statewide, in_step, level if level in BUSINESS_ROLES else None,
                        role if role in STAFF_ROLES else None)

    def _in_step(self, change: Change) -> bool:
        facility = change.facility
        aggregates = [facility.id, facility.organization_id,
                      f"{facility.organization_id}:{self.user_id}"]
        if facility.agency_id:
            aggregates.append(f"{facility.agency_id}:{self.user_id}")
        return bool(self.fresh(*aggregates))

    def offer(self, change: Change) -> None:
        if self.mailbox.ended:
            return
        if self.replaying:
            self.held.append(change)
            if len(self.held) > self.mailbox.size:
                self.end("UNAVAILABLE", TOO_SLOW)
            return
        if self.admits(change):
            self.marked = change.sequence
            self.mailbox.put(change)
        elif self.marks and self.after is not None and self.after - self.marked >= MARK_EVERY:
            self.marked = self.after
            self.mailbox.put(Mark(self.after))

    def admits(self, change: Change) -> bool:
        """Whether this subscription's client gets ``change``: never twice, and only with
        its caller's rights as they are now."""
        if self.after is not None and change.sequence <= self.after:
            return False
        self.after = change.sequence
        try:
            return self.decide(change, self)
        except Exception:  # a bug in one decision never reaches another watcher
            log.exception("live decision failed")
            return False

    def end(self, code: str, message: str) -> None:
        self.mailbox.end(code, message)


class LiveSubmittals:
    def __init__(self, deps: Deps, connection: NatsConnection) -> None:
        self.deps = deps
        self.elements = LiveFeed(connection, "SUBMITTAL", "submittal.element.>")
        self.rights = LiveFeed(connection, "FACILITY", "facility.>")
        self.elements.listen(self._on_element)
        self.rights.listen(self._on_rights)
        self.watchers: dict[int, Watcher] = {}
        self._ids = itertools.count(1)
        self._resets = 0

    def start(self) -> None:
        self.elements.start()
        self.rights.start()

    async def stop(self) -> None:
        await self.elements.stop()
        await self.rights.stop()
        for watcher in list(self.watchers.values()):
            watcher.end("UNAVAILABLE", "The service is restarting; subscribe again.")

    def add(self, watcher: Watcher) -> int:
        """Registers ``watcher``; unless it resumes (``replaying``), it gets the changes after
        the feed's current position."""
        if not watcher.replaying and self.elements.last_sequence is not None:
            watcher.after = watcher.marked = self.elements.last_sequence
        key = next(self._ids)
        self.watchers[key] = watcher
        return key

    def remove(self, key: int) -> None:
        self.watchers.pop(key, None)

    async def replay(self, watcher: Watcher, after: int) -> AsyncIterator[Change]:
        """The changes after stream position ``after`` that ``watcher``'s client gets, up to
        where the live feed takes over; then the live changes held meanwhile go to its
        mailbox. The watcher must be added (and ``replaying``) before this starts, so no
        change falls between the two. Too far back (or a recreated stream): ends it."""
        watcher.after = after
        try:
            await self.elements.ready.wait()
            upto = self.elements.last_sequence
            if upto is None or upto < after or upto - after > MAX_REPLAY:
                watcher.end("UNAVAILABLE", TOO_FAR)
                return
            async for sequence, envelope in self.elements.replay(after, upto):
                kind = KINDS.get(envelope.type)
                change = await self._load(envelope, kind, sequence) if kind else None
                if change is not None and not watcher.mailbox.ended and watcher.admits(change):
                    watcher.marked = sequence
                    yield change
            watcher.after = watcher.replayed_to = max(watcher.after or 0, upto)
        finally:
            watcher.replaying = False
            held, watcher.held = watcher.held, []
            for change in held:
                watcher.offer(change)

    async def _on_element(self, envelope: Envelope) -> None:
        kind = KINDS.get(envelope.type)
        if kind is None or not self.watchers:
            return
        sequence = self.elements.last_sequence or 0  # set before its listeners are called
        if self.elements.resets != self._resets:
            # The stream was recreated: its positions started again.
            self._resets = self.elements.resets
            for watcher in self.watchers.values():
                watcher.after = watcher.marked = 0
        change = await self._load(envelope, kind, sequence)
        if change is None:
            return
        for watcher in list(self.watchers.values()):
            watcher.offer(change)

    async def _load(self, envelope: Envelope, kind: str, sequence: int) -> Change | None:
        element_id = envelope.data.get("element_id")
        if not isinstance(element_id, str):
            return None
        async with self.deps.db.read() as session:
            element = await session.get(Element, element_id)
            facility = (await session.get(FacilityView, element.facility_id)
                        if element is not None else None)
            if element is None or facility is None:
                return None
            members = await session.execute(
                select(col(MembershipView.user_id), col(MembershipView.role)).where(
                    col(MembershipView.organization_id) == facility.organization_id))
            staff: dict[str, str] = {}
            if facility.agency_id:
                rows = await session.execute(
                    select(col(StaffView.user_id), col(StaffView.role)).where(
                        col(StaffView.agency_id) == facility.agency_id))
                staff = {r[0]: r[1] for r in rows}
            return Change(envelope, kind, element, facility, {r[0]: r[1] for r in members},
                          staff, sequence)

    async def _on_rights(self, envelope: Envelope) -> None:
        scope = REVOCATIONS.get(envelope.type)
        if scope is None or not self.watchers:
            return
        user_id = envelope.data.get("user_id")
        target = envelope.data.get(f"{scope}_id")
        ground = f"{scope}:{target}"
        for watcher in list(self.watchers.values()):
            if watcher.user_id == user_id and ground in watcher.grounds:
                what = "staff role at the agency" if scope == "agency" else (
                    "access to the business")
                watcher.end("FORBIDDEN", f"Your {what} {target} was revoked; this "
                            "subscription has ended.")
