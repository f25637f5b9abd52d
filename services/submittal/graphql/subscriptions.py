"""Subscriptions of the submittal subgraph: the live review queue and a business's element
changes, fed by services/submittal/live.py. Every event is decided with the caller's rights
as they are when it arrives; an error ends the stream with its code."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError

from common.graphql import coded_error, context_of
from common.graphql_live import deliveries, fresh_for_event, mark, positions
from services.submittal.adapters.read_model import county_key
from services.submittal.adapters.tables import FacilityView
from services.submittal.domain.elements import SubmittalStatus
from services.submittal.graphql.context import Info, caller_of, deps_of
from services.submittal.graphql.queries import ReviewQueueFilter
from services.submittal.graphql.types import SubmittalElement
from services.submittal.live import Audience, Change, LiveSubmittals, Mark, Watcher
from services.submittal.service_layer.access import Caller
from services.submittal.service_layer.errors import Refused


@strawberry.enum
class ElementChangeKind(enum.Enum):
    SUBMITTED = "SUBMITTED"
    REVIEWED = "REVIEWED"
    NOT_APPLICABLE = "NOT_APPLICABLE"


@strawberry.type(description="An element was submitted, reviewed or marked not applicable. "
                 "`element` is the element as it is when the change is delivered.")
class SubmittalElementChange:
    kind: ElementChangeKind
    event_id: strawberry.ID = strawberry.field(
        description="The event's id: the same change delivered twice has the same id.")
    occurred_at: datetime
    element: SubmittalElement
    # (the event's load, the audience): subscribers of one operation with the same share
    # one execution (common/graphql_live.py).
    live_share: strawberry.Private[tuple[int, Audience] | None] = None


def _live(info: Info) -> LiveSubmittals:
    live = context_of(info).extra["live"]
    assert isinstance(live, LiveSubmittals)
    return live


async def _caller(info: Info) -> Caller | GraphQLError:
    if context_of(info).principal is None:
        return coded_error("UNAUTHENTICATED", "Sign in first: send the bearer token in the "
                           "connection_init payload.")
    # The connection's Context outlives its subscriptions: a new one reads current rights.
    fresh_for_event(info)
    try:
        return await caller_of(info)
    except Refused as refused:
        return coded_error(refused.code, refused.message)


def _caller_as(info: Info, change: Change, audience: Audience) -> Caller:
    """The caller with only the rights its audience has at the change's facility."""
    facility = change.facility
    return Caller(
        context_of(info).principal,
        {facility.organization_id: audience.level} if audience.level else {},
        {facility.agency_id: audience.role} if audience.role and facility.agency_id else {},
        deps_of(info).fresh)


def _settled(value: Any) -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


async def _stream(info: Info, watcher: Watcher) -> AsyncGenerator[Any, None]:
    """The watcher's changes, each tagged with its stream position (the ``next`` message's
    extensions); a subscription resumed from a position first replays what came after it."""
    live = _live(info)
    at = positions()
    watcher.replaying = at.resume is not None
    watcher.marks = at.marks
    key = live.add(watcher)

    def change_of(item: Change) -> SubmittalElementChange:
        at.current = item.sequence
        audience = watcher.audience(item)
        # The resolvers below read the caller's rights at this facility from the audience
        # alone, so every subscriber it stands for is sent the same result.
        context_of(info).extra["caller"] = _settled(_caller_as(info, item, audience))
        root = item.roots.get(audience)
        if not isinstance(root, SubmittalElementChange):
            root = item.roots[audience] = SubmittalElementChange(
                kind=ElementChangeKind(item.kind), event_id=strawberry.ID(item.envelope.id),
                occurred_at=item.envelope.occurred_at,
                element=SubmittalElement.from_domain(item.element, audience.sees_secrets),
                live_share=(item.serial, audience),
            )
        return root

    try:
        start = watcher.after  # a new subscription: the feed's position when it was added
        if at.resume is not None:
            async for change in live.replay(watcher, at.resume):
                fresh_for_event(info)
                yield change_of(change)
            # Not watcher.after: the live changes held during the replay may have moved it
            # past changes that still wait in the mailbox.
            start = watcher.replayed_to
        if at.marks and start is not None and not watcher.mailbox.ended:
            # Where this subscription starts (or its replay ended): resumable from here.
            watcher.marked = max(watcher.marked, start)
            yield mark(start)
        async for item in deliveries(info, watcher.mailbox):
            if isinstance(item, GraphQLError):
                yield item
                return
            yield mark(item.sequence) if isinstance(item, Mark) else change_of(item)
    finally:
        live.remove(key)


@strawberry.type
class Subscription:
    @strawberry.subscription(  # type: ignore[untyped-decorator]
        description="Changes to the review queue, live: elements submitted, reviewed or "
        "marked not applicable at facilities in the caller's jurisdiction (statewide readers: "
        "every county, without trade secrets). `filter.status` keeps the changes that leave "
        "the element in one of those statuses. Ends with FORBIDDEN when the caller's staff "
        "role is revoked, and UNAUTHENTICATED when the token expires.")
    async def review_queue_changed(
        self, info: Info, filter: ReviewQueueFilter | None = None
    ) -> AsyncGenerator[SubmittalElementChange, None]:
        caller = await _caller(info)
        if isinstance(caller, GraphQLError):
            yield caller  # type: ignore[misc]
            return
        if not caller.staff and not caller.is_statewide:
            yield coded_error(  # type: ignore[misc]
                "FORBIDDEN", "The live review queue is for regulator staff and statewide "
                "readers.")
            return
        flt = filter or ReviewQueueFilter()
        statuses = {SubmittalStatus(s).value for s in flt.status} if flt.status else None
        county = county_key(flt.county) if flt.county is not None else None

        def decide(change: Change, watcher: Watcher) -> bool:
            facility, element = change.facility, change.element
            return (
                (watcher.statewide or watcher.is_regulator(change))
                and (not flt.agency_id or facility.agency_id == str(flt.agency_id))
                and (county is None or facility.county_key == county)
                and (not flt.element or element.element_type == flt.element.value)
                and (not flt.facility_id or facility.id == str(flt.facility_id))
                and (statuses is None or element.status in statuses)
            )

        watcher = Watcher(caller.user_id, caller.is_statewide,
                          frozenset(f"agency:{a}" for a in caller.staff), decide,
                          deps_of(info).fresh)
        async for item in _stream(info, watcher):
            yield item

    @strawberry.subscription(  # type: ignore[untyped-decorator]
        description="A business's submitted elements as regulators review them (and as they "
        "are submitted or marked not applicable), live: at one facility, or at every facility "
        "of the caller's businesses. Ends with FORBIDDEN when the caller's access to the "
        "business is revoked, and UNAUTHENTICATED when the token expires.")
    async def submittal_element_changed(
        self, info: Info, facility_id: strawberry.ID | None = None
    ) -> AsyncGenerator[SubmittalElementChange, None]:
        caller = await _caller(info)
        if isinstance(caller, GraphQLError):
            yield caller  # type: ignore[misc]
            return
        organizations = set(caller.business)
        if facility_id is not None:
            async with deps_of(info).db.read() as session:
                facility = await session.get(FacilityView, str(facility_id))
            if facility is None or not caller.is_member(facility):
                yield coded_error(  # type: ignore[misc]
                    "NOT_FOUND", f"Facility {facility_id} is not one of your businesses'.")
                return
            organizations = {facility.organization_id}
        if not organizations:
            yield coded_error(  # type: ignore[misc]
                "FORBIDDEN", "You have access to no business.")
            return

        def decide(change: Change, watcher: Watcher) -> bool:
            return (change.facility.organization_id in organizations
                    and (facility_id is None or change.facility.id == str(facility_id))
                    and watcher.is_member(change))

        watcher = Watcher(caller.user_id, caller.is_statewide,
                          frozenset(f"organization:{o}" for o in organizations), decide,
                          deps_of(info).fresh)
        async for item in _stream(info, watcher):
            yield item
