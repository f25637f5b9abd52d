"""identity's read model of facility's events: who belongs to which business, who works at
which agency, which business owns and which agency regulates each facility, and who asked a
business (or its regulator) for access. Only ids: enough to decide whose names a caller may
read (``service_layer/visibility.py``), nothing facility owns beyond that.

Payloads are validated with ``common/contracts/facility.py`` (unknown fields ignored). Each
write is an upsert or a delete, so applying an event again leaves the same state; the inbox
applies each event once and in per-aggregate order. Events identity does not need are still
consumed, so a gap in an aggregate's sequence always means a missing event.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.contracts import facility as contract
from common.events.envelope import Envelope
from services.identity.adapters.tables import (
    AccessRequestView,
    FacilityView,
    MembershipView,
    StaffView,
)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]
READ_MODEL_TABLES = (MembershipView, StaffView, FacilityView, AccessRequestView)


async def _put(session: AsyncSession, row: Any, **values: Any) -> None:
    mapper = type(row).__mapper__
    key = tuple(getattr(row, c.key) for c in mapper.primary_key)
    existing = await session.get(type(row), key[0] if len(key) == 1 else key)
    if existing is None:
        session.add(row)
    else:
        for name, value in values.items():
            setattr(existing, name, value)
    await session.flush()


async def _facility(session: AsyncSession, snapshot: contract.Facility,
                    organization_id: str | None = None) -> None:
    owner = organization_id or snapshot.organization_id
    row = FacilityView(id=snapshot.facility_id, organization_id=owner,
                       agency_id=snapshot.agency_id)
    await _put(session, row, organization_id=owner, agency_id=snapshot.agency_id)


async def facility_created(session: AsyncSession, e: Envelope) -> None:
    await _facility(session, contract.FacilityCreated.model_validate(e.data).facility)


async def facility_updated(session: AsyncSession, e: Envelope) -> None:
    await _facility(session, contract.FacilityUpdated.model_validate(e.data).facility)


async def facility_transferred(session: AsyncSession, e: Envelope) -> None:
    event = contract.FacilityTransferred.model_validate(e.data)
    await _facility(session, event.facility, event.to_organization_id)


async def membership(session: AsyncSession, e: Envelope) -> None:
    event = contract.MembershipGranted.model_validate(e.data)
    await _put(session, MembershipView(organization_id=event.organization_id,
                                       user_id=event.user_id))


async def membership_revoked(session: AsyncSession, e: Envelope) -> None:
    event = contract.MembershipRevoked.model_validate(e.data)
    await session.execute(delete(MembershipView).where(
        col(MembershipView.organization_id) == event.organization_id,
        col(MembershipView.user_id) == event.user_id))


async def staff(session: AsyncSession, e: Envelope) -> None:
    event = contract.StaffGranted.model_validate(e.data)
    await _put(session, StaffView(agency_id=event.agency_id, user_id=event.user_id))


async def staff_revoked(session: AsyncSession, e: Envelope) -> None:
    event = contract.StaffRevoked.model_validate(e.data)
    await session.execute(delete(StaffView).where(
        col(StaffView.agency_id) == event.agency_id, col(StaffView.user_id) == event.user_id))


async def access_requested(session: AsyncSession, e: Envelope) -> None:
    event = contract.AccessRequestCreated.model_validate(e.data)
    row = AccessRequestView(id=event.access_request_id, requester_id=event.requester_id,
                            organization_id=event.organization_id,
                            routed_to_agency_id=event.routed_to_agency_id)
    await _put(session, row)


HANDLERS: dict[str, Handler] = {
    contract.FACILITY_CREATED: facility_created,
    contract.FACILITY_UPDATED: facility_updated,
    contract.FACILITY_TRANSFERRED: facility_transferred,
    contract.MEMBERSHIP_GRANTED: membership,
    contract.MEMBERSHIP_CHANGED: membership,
    contract.MEMBERSHIP_REVOKED: membership_revoked,
    contract.STAFF_GRANTED: staff,
    contract.STAFF_CHANGED: staff,
    contract.STAFF_REVOKED: staff_revoked,
    contract.ACCESS_REQUEST_CREATED: access_requested,
}


async def apply_facility_event(session: AsyncSession, envelope: Envelope) -> None:
    handler = HANDLERS.get(envelope.type)
    if handler is not None:
        await handler(session, envelope)
