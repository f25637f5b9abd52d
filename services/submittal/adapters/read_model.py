"""The local read model built from facility events: who owns, who may act, who regulates.

Payload field names are read tolerantly (``facility_id`` or the envelope's aggregate id) so
the consumer survives additive changes in common/contracts/facility.py. Every write is an
upsert or a delete, so applying an event twice leaves the same state; the EventBus inbox
already makes sure it is applied once and never out of per-aggregate order.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic.alias_generators import to_camel
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

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
# Called after a facility appears in the read model (the demo seed hooks in here).
FacilityHook = Callable[[AsyncSession, FacilityView], Awaitable[None]]

RECORD_KEYS = ("name", "site_address", "county", "city", "mailing_address", "contacts",
               "owner_operator")


def camel_record(value: Any) -> Any:
    """The facility record with camelCase keys, the way our GraphQL and prefill read it."""
    if isinstance(value, dict):
        return {to_camel(str(k)): camel_record(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_record(v) for v in value]
    return value


def _facility_id(envelope: Envelope) -> str:
    return str(envelope.data.get("facility_id") or envelope.aggregate_id)


def _record(data: dict[str, Any]) -> dict[str, Any]:
    source = data.get("record") if isinstance(data.get("record"), dict) else data
    return camel_record({k: source[k] for k in RECORD_KEYS if k in source})


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
        org_id = str(e.data.get("organization_id") or e.aggregate_id)
        name = str(e.data.get("name") or "")
        await _upsert(session, OrganizationView(id=org_id, name=name), name=name)

    async def _facility_created(self, session: AsyncSession, e: Envelope) -> None:
        facility_id = _facility_id(e)
        row = FacilityView(
            id=facility_id,
            organization_id=str(e.data["organization_id"]),
            agency_id=e.data.get("agency_id"),
            cers_id=e.data.get("cers_id"),
            name=str(e.data.get("name") or ""),
            record=_record(e.data),
            updated_at=now(),
        )
        existed = await session.get(FacilityView, facility_id) is not None
        await _upsert(session, row, organization_id=row.organization_id, agency_id=row.agency_id,
                      cers_id=row.cers_id, name=row.name, record=row.record, updated_at=now())
        if not existed and self.on_facility_created is not None:
            await self.on_facility_created(session, row)

    async def _facility_updated(self, session: AsyncSession, e: Envelope) -> None:
        facility = await session.get(FacilityView, _facility_id(e))
        if facility is None:
            log.warning("facility.updated for unknown facility %s; waiting for its creation "
                        "event (run `python -m services.submittal resync` if this persists)",
                        _facility_id(e))
            return
        record = {**facility.record, **_record(e.data)}
        facility.record = record
        facility.name = str(record.get("name") or facility.name)
        if "agency_id" in e.data:
            facility.agency_id = e.data["agency_id"]
        facility.updated_at = now()
        await session.flush()

    async def _facility_transferred(self, session: AsyncSession, e: Envelope) -> None:
        facility = await session.get(FacilityView, _facility_id(e))
        new_owner = e.data.get("to_organization_id") or e.data.get("organization_id")
        if facility is None or not new_owner:
            log.warning("facility.transferred for unknown facility %s", _facility_id(e))
            return
        facility.organization_id = str(new_owner)
        facility.updated_at = now()
        # DESIGN §1: open drafts are discarded; submitted history stays with the facility.
        await session.execute(
            delete(Element).where(Element.facility_id == facility.id, Element.status == "DRAFT")
        )
        await session.flush()

    async def _membership(self, session: AsyncSession, e: Envelope) -> None:
        org_id, user_id = str(e.data["organization_id"]), str(e.data["user_id"])
        role = str(e.data["role"])
        await _upsert(session, MembershipView(organization_id=org_id, user_id=user_id, role=role),
                      role=role)

    async def _membership_revoked(self, session: AsyncSession, e: Envelope) -> None:
        await session.execute(delete(MembershipView).where(
            MembershipView.organization_id == str(e.data["organization_id"]),
            MembershipView.user_id == str(e.data["user_id"]),
        ))

    async def _staff(self, session: AsyncSession, e: Envelope) -> None:
        agency_id, user_id = str(e.data["agency_id"]), str(e.data["user_id"])
        role = str(e.data["role"])
        await _upsert(session, StaffView(agency_id=agency_id, user_id=user_id, role=role),
                      role=role)

    async def _staff_revoked(self, session: AsyncSession, e: Envelope) -> None:
        await session.execute(delete(StaffView).where(
            StaffView.agency_id == str(e.data["agency_id"]),
            StaffView.user_id == str(e.data["user_id"]),
        ))


async def reassign_agency(session: AsyncSession, facility_ids: list[str], agency_id: str) -> None:
    await session.execute(
        update(FacilityView).where(FacilityView.id.in_(facility_ids)).values(agency_id=agency_id)  # type: ignore[attr-defined]
    )


async def facility_views(session: AsyncSession, ids: list[str]) -> dict[str, FacilityView]:
    rows = await session.execute(select(FacilityView).where(FacilityView.id.in_(ids)))  # type: ignore[attr-defined]
    return {row.id: row for row in rows.scalars()}
