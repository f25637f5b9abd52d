"""The local read model built from facility events: who owns, who may act, who regulates.

Payloads are validated with common/contracts/facility.py (extra fields are ignored, so
additive changes there never break us; a malformed event fails and is dead-lettered). Every
write is an upsert or a delete, so applying an event twice leaves the same state; the
EventBus inbox already applies each event once and never out of per-aggregate order.
``facility.agency.jurisdiction_changed`` needs no handler: facility follows it with a
``facility.updated`` snapshot of each reassigned facility.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic.alias_generators import to_camel
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.contracts import facility
from common.events.envelope import Envelope
from services.submittal.adapters.tables import (
    Element,
    FacilityView,
    MembershipView,
    OrganizationView,
    StaffView,
    now,
)

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]
# Called after a facility appears in the read model, with its facility.created event (the
# demo seed hooks in here).
FacilityHook = Callable[[AsyncSession, FacilityView, Envelope], Awaitable[None]]

# The facility record's names that differ from ours beyond snake_case -> camelCase.
_RENAMES = {"phone24h": "phone24Hour", "zip": "zipCode"}


def camel_record(value: Any) -> Any:
    """The facility record with our camelCase keys, the way GraphQL and prefill read it."""
    if isinstance(value, dict):
        return {_RENAMES.get(str(k), to_camel(str(k))): camel_record(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_record(v) for v in value]
    return value


def county_key(county: str | None) -> str:
    return " ".join((county or "").lower().split())


def _view_values(snapshot: facility.Facility) -> dict[str, Any]:
    return {
        "organization_id": snapshot.organization_id, "agency_id": snapshot.agency_id,
        "cers_id": snapshot.cers_id, "name": snapshot.record.name,
        "county_key": county_key(snapshot.record.county),
        "record": camel_record(snapshot.record.model_dump(mode="json")), "updated_at": now(),
    }


async def _upsert(session: AsyncSession, row: Any, **values: Any) -> None:
    existing = await session.get(type(row), row_key(row))
    if existing is None:
        session.add(row)
    else:
        for key, value in values.items():
            setattr(existing, key, value)
    await session.flush()


def row_key(row: Any) -> Any:
    mapper = type(row).__mapper__
    keys = tuple(getattr(row, c.key) for c in mapper.primary_key)
    return keys[0] if len(keys) == 1 else keys


class ReadModelConsumer:
    """Applies facility events to the read model; ``on_facility_created`` is optional."""

    def __init__(self, on_facility_created: FacilityHook | None = None) -> None:
        self.on_facility_created = on_facility_created
        self.handlers: dict[str, Handler] = {
            "facility.organization.created": self._organization,
            "facility.organization.updated": self._organization,
            "facility.facility.created": self._facility_created,
            "facility.facility.updated": self._facility_updated,
            "facility.facility.transferred": self._facility_transferred,
            "facility.membership.granted": self._membership,
            "facility.membership.changed": self._membership,
            "facility.membership.revoked": self._membership_revoked,
            "facility.staff.granted": self._staff,
            "facility.staff.changed": self._staff,
            "facility.staff.revoked": self._staff_revoked,
        }

    async def __call__(self, session: AsyncSession, envelope: Envelope) -> None:
        handler = self.handlers.get(envelope.type)
        if handler is not None:
            await handler(session, envelope)

    async def _organization(self, session: AsyncSession, e: Envelope) -> None:
        event = facility.OrganizationCreated.model_validate(e.data)
        await _upsert(session, OrganizationView(id=event.organization_id, name=event.name),
                      name=event.name)

    async def _facility_created(self, session: AsyncSession, e: Envelope) -> None:
        snapshot = facility.FacilityCreated.model_validate(e.data).facility
        values = _view_values(snapshot)
        existed = await session.get(FacilityView, snapshot.facility_id) is not None
        row = FacilityView(id=snapshot.facility_id, **values)
        await _upsert(session, row, **values)
        if not existed and self.on_facility_created is not None:
            await self.on_facility_created(session, row, e)

    async def _facility_updated(self, session: AsyncSession, e: Envelope) -> None:
        snapshot = facility.FacilityUpdated.model_validate(e.data).facility
        values = _view_values(snapshot)
        await _upsert(session, FacilityView(id=snapshot.facility_id, **values), **values)

    async def _facility_transferred(self, session: AsyncSession, e: Envelope) -> None:
        event = facility.FacilityTransferred.model_validate(e.data)
        values = {**_view_values(event.facility), "organization_id": event.to_organization_id}
        await _upsert(session, FacilityView(id=event.facility.facility_id, **values), **values)
        # DESIGN §1: open drafts are discarded; submitted history stays with the facility.
        await session.execute(delete(Element).where(
            col(Element.facility_id) == event.facility.facility_id,
            col(Element.status) == "DRAFT"))

    async def _membership(self, session: AsyncSession, e: Envelope) -> None:
        event = facility.MembershipGranted.model_validate(e.data)
        row = MembershipView(organization_id=event.organization_id, user_id=event.user_id,
                             role=event.role)
        await _upsert(session, row, role=event.role)

    async def _membership_revoked(self, session: AsyncSession, e: Envelope) -> None:
        event = facility.MembershipRevoked.model_validate(e.data)
        await session.execute(delete(MembershipView).where(
            col(MembershipView.organization_id) == event.organization_id,
            col(MembershipView.user_id) == event.user_id))

    async def _staff(self, session: AsyncSession, e: Envelope) -> None:
        event = facility.StaffGranted.model_validate(e.data)
        row = StaffView(agency_id=event.agency_id, user_id=event.user_id, role=event.role)
        await _upsert(session, row, role=event.role)

    async def _staff_revoked(self, session: AsyncSession, e: Envelope) -> None:
        event = facility.StaffRevoked.model_validate(e.data)
        await session.execute(delete(StaffView).where(
            col(StaffView.agency_id) == event.agency_id, col(StaffView.user_id) == event.user_id))
