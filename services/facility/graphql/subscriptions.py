"""Subscriptions of the facility subgraph: a facility's changes (record, transfer, compliance,
permits, due dates) and access requests, fed by services/facility/live.py. Every event is
decided with the caller's rights as they are when it arrives; an error ends the stream."""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError

from common.graphql import coded_error, context_of
from common.graphql_live import deliveries, fresh_for_event
from services.facility.adapters import tables as t
from services.facility.domain.roles import StaffRole
from services.facility.graphql import loaders
from services.facility.graphql.entities import AccessRequest, Facility
from services.facility.live import Change, LiveFacilities, Watcher

Info = strawberry.Info[Any, Any]


@strawberry.enum
class FacilityChangeKind(enum.Enum):
    UPDATED = "UPDATED"
    TRANSFERRED = "TRANSFERRED"
    COMPLIANCE_CHANGED = "COMPLIANCE_CHANGED"
    PERMIT_ISSUED = "PERMIT_ISSUED"
    DUE_DATE_CHANGED = "DUE_DATE_CHANGED"


@strawberry.type(description="Something about a facility changed: its record or regulator "
                 "(UPDATED), its business (TRANSFERRED), its UPDATE_REQUIRED reasons "
                 "(COMPLIANCE_CHANGED), a permit issued, or its annual due date. `facility` is "
                 "the facility as it is when the change is delivered.")
class FacilityChange:
    kind: FacilityChangeKind
    event_id: strawberry.ID = strawberry.field(
        description="The event's id: the same change delivered twice has the same id.")
    occurred_at: datetime
    facility: Facility


@strawberry.enum
class AccessRequestChangeKind(enum.Enum):
    CREATED = "CREATED"
    DECIDED = "DECIDED"


@strawberry.type(description="An access request was made or decided. `accessRequest` is the "
                 "request as it is when the change is delivered.")
class AccessRequestChange:
    kind: AccessRequestChangeKind
    event_id: strawberry.ID
    occurred_at: datetime
    access_request: AccessRequest


def _live(info: Info) -> LiveFacilities:
    live = context_of(info).extra["live"]
    assert isinstance(live, LiveFacilities)
    return live


async def _stream(info: Info, watcher: Watcher) -> AsyncGenerator[Any, None]:
    live = _live(info)
    key = live.add(watcher)
    try:
        async for item in deliveries(info, watcher.mailbox):
            if isinstance(item, GraphQLError):
                yield item
                return
            yield _typed(item)
    finally:
        live.remove(key)


def _typed(change: Change) -> FacilityChange | AccessRequestChange:
    envelope = change.envelope
    if change.facility is not None:
        return FacilityChange(kind=FacilityChangeKind(change.kind),
                              event_id=strawberry.ID(envelope.id),
                              occurred_at=envelope.occurred_at,
                              facility=Facility.from_domain(change.facility))
    assert change.request is not None
    return AccessRequestChange(kind=AccessRequestChangeKind(change.kind),
                               event_id=strawberry.ID(envelope.id),
                               occurred_at=envelope.occurred_at,
                               access_request=AccessRequest.from_domain(change.request))


def _signed_out() -> GraphQLError:
    return coded_error("UNAUTHENTICATED", "Sign in first: send the bearer token in the "
                       "connection_init payload.")


@strawberry.type
class Subscription:
    @strawberry.subscription(  # type: ignore[untyped-decorator]
        description="A facility's changes, live: its record or regulator, a transfer, its "
        "UPDATE_REQUIRED reasons, permits issued and its annual due date. One facility, or "
        "every facility the caller reads (the facilities of their businesses, their "
        "agency's jurisdiction; statewide readers: all). Ends with FORBIDDEN when the "
        "caller's access is revoked, and UNAUTHENTICATED when the token expires.")
    async def facility_changed(
        self, info: Info, facility_id: strawberry.ID | None = None
    ) -> AsyncGenerator[FacilityChange, None]:
        if context_of(info).principal is None:
            yield _signed_out()  # type: ignore[misc]
            return
        fresh_for_event(info)  # the connection's Context outlives its subscriptions
        caller = await loaders.caller_of(info)
        organizations, agencies = set(caller.businesses), set(caller.agencies)
        if facility_id is not None:
            async with loaders.app_of(info).db.read() as session:
                row = await session.get(t.Facility, str(facility_id))
            if row is None or not caller.can_read_facility(row):
                yield coded_error(  # type: ignore[misc]
                    "NOT_FOUND", f"Facility {facility_id} is not one you may read.")
                return
            organizations &= {row.organization_id}
            agencies &= {row.agency_id} if row.agency_id else set()
        elif not organizations and not agencies and not caller.statewide:
            yield coded_error(  # type: ignore[misc]
                "FORBIDDEN", "You have access to no business, agency or statewide reading.")
            return

        def decide(change: Change, watcher: Watcher) -> bool:
            assert change.facility is not None
            return ((facility_id is None or change.facility.id == str(facility_id))
                    and (watcher.statewide or watcher.level(change) is not None
                         or watcher.is_staff(change)))

        grounds = frozenset({f"organization:{o}" for o in organizations}
                            | {f"agency:{a}" for a in agencies})
        watcher = Watcher(caller.user_id, caller.statewide, grounds, "facility", decide)
        async for item in _stream(info, watcher):
            yield item

    @strawberry.subscription(  # type: ignore[untyped-decorator]
        description="Access requests, live: the caller's own as they are decided; the "
        "requests to the businesses they lead; and, for APPROVER staff and above, requests "
        "to businesses without a lead user that their agency decides. Ends with FORBIDDEN when "
        "the caller's lead-user or staff role is revoked, and UNAUTHENTICATED when the token "
        "expires.")
    async def access_request_changed(
        self, info: Info
    ) -> AsyncGenerator[AccessRequestChange, None]:
        if context_of(info).principal is None:
            yield _signed_out()  # type: ignore[misc]
            return
        fresh_for_event(info)  # the connection's Context outlives its subscriptions
        caller = await loaders.caller_of(info)
        led = {o for o, role in caller.businesses.items() if role.value == "LEAD_USER"}
        deciding = {a for a, role in caller.agencies.items() if role.at_least(StaffRole.APPROVER)}

        def decide(change: Change, watcher: Watcher) -> bool:
            assert change.request is not None
            return (change.request.requester_id == watcher.user_id
                    or watcher.level(change) == "LEAD_USER"
                    or watcher.is_staff(change, "APPROVER"))

        grounds = frozenset({f"organization:{o}" for o in led}
                            | {f"agency:{a}" for a in deciding})
        watcher = Watcher(caller.user_id, caller.statewide, grounds, "access_request", decide)
        async for item in _stream(info, watcher):
            yield item
