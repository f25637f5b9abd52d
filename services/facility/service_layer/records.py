"""Shared steps on facility rows: validation, regulator lookup, reasons, history, snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.contracts import facility as contract
from services.facility.adapters.tables import (
    Agency,
    Facility,
    FacilityReason,
    HistoryEntry,
    Jurisdiction,
)
from services.facility.domain.actors import Actor, SystemActorKind
from services.facility.domain.compliance import UpdateReason, reason_due_by
from services.facility.domain.counties import counties, county_id
from services.facility.domain.record import FacilityRecord
from services.facility.service_layer.errors import BadInput


def city_key(city: str | None) -> str:
    return " ".join((city or "").lower().split())


def validate_record(record: FacilityRecord, field: str) -> int:
    """Check what a facility record needs; return its county id."""
    if not record.name.strip():
        raise BadInput("A facility needs a name.", field=[field, "name"])
    if len(record.name) > 200:
        raise BadInput("The facility name is longer than 200 characters.", field=[field, "name"])
    if not str(record.site_address.get("street") or "").strip():
        raise BadInput(
            "A facility needs a site street address.", field=[field, "siteAddress", "street"]
        )
    cid = county_id(record.county)
    if cid is None:
        raise BadInput(
            f"{record.county!r} is not a California county; use one of the 58 county names, "
            "such as 'Plumas'.",
            field=[field, "county"],
        )
    return cid


async def find_agency(session: AsyncSession, cid: int, city: str | None) -> Agency | None:
    """The regulator of a place: a city's own agency wins over the county's."""
    key = city_key(city)
    keys = [key, ""] if key else [""]
    row = (
        await session.execute(
            select(Agency)
            .join(Jurisdiction, col(Jurisdiction.agency_id) == Agency.id)
            .where(col(Jurisdiction.county_id) == cid, col(Jurisdiction.city_key).in_(keys))
            .order_by(col(Jurisdiction.city_key).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return row


def record_of(facility: Facility) -> FacilityRecord:
    return FacilityRecord(
        name=facility.name,
        site_address=facility.site_address,
        county=counties()[facility.county_id],
        city=facility.city,
        mailing_address=facility.mailing_address,
        contacts=facility.contacts,
        owner_operator=facility.owner_operator,
    )


def apply_record(facility: Facility, record: FacilityRecord, cid: int) -> None:
    data = record.as_dict()
    facility.name = record.name.strip()
    facility.site_address = data["site_address"]
    facility.county_id = cid
    facility.city = (record.city or "").strip() or None
    facility.city_key = city_key(record.city)
    facility.mailing_address = data["mailing_address"]
    facility.contacts = data["contacts"]
    facility.owner_operator = data["owner_operator"]


def snapshot(facility: Facility) -> contract.Facility:
    return contract.Facility(
        facility_id=facility.id,
        cers_id=facility.cers_id,
        organization_id=facility.organization_id,
        agency_id=facility.agency_id,
        county_id=facility.county_id,
        annual_due_date=facility.annual_due_date,
        record=contract.FacilityRecord(**record_of(facility).as_dict()),
        update_due_by=facility.update_due_by,
    )


async def raise_reason(
    session: AsyncSession,
    facility: Facility,
    reason: UpdateReason,
    now: datetime,
    element: str = "",
) -> None:
    """Open a reason unless it is already open; a repeated edit does not push its deadline."""
    existing = (
        await session.execute(
            select(FacilityReason).where(
                col(FacilityReason.facility_id) == facility.id,
                col(FacilityReason.reason) == reason.value,
                col(FacilityReason.element) == element,
            )
        )
    ).scalar_one_or_none()
    if existing is None:
        session.add(
            FacilityReason(
                facility_id=facility.id,
                reason=reason.value,
                element=element,
                raised_at=now,
                due_by=reason_due_by(now),
            )
        )
        await session.flush()
    await refresh_update_due_by(session, facility)


async def clear_reasons(
    session: AsyncSession, facility: Facility, reasons: set[UpdateReason], element: str = ""
) -> list[str]:
    cleared = list(
        (
            await session.execute(
                select(col(FacilityReason.reason)).where(
                    col(FacilityReason.facility_id) == facility.id,
                    col(FacilityReason.reason).in_([r.value for r in reasons]),
                    col(FacilityReason.element) == element,
                )
            )
        ).scalars()
    )
    if cleared:
        await session.execute(
            delete(FacilityReason).where(
                col(FacilityReason.facility_id) == facility.id,
                col(FacilityReason.reason).in_(cleared),
                col(FacilityReason.element) == element,
            )
        )
        await refresh_update_due_by(session, facility)
    return cleared


async def refresh_update_due_by(session: AsyncSession, facility: Facility) -> None:
    facility.update_due_by = (
        await session.execute(
            select(func.min(col(FacilityReason.due_by))).where(
                col(FacilityReason.facility_id) == facility.id
            )
        )
    ).scalar_one_or_none()


def add_history(
    session: AsyncSession,
    facility_id: str,
    at: datetime,
    actor: Actor,
    action: str,
    changes: dict[str, Any],
) -> None:
    session.add(
        HistoryEntry(
            facility_id=facility_id,
            at=at,
            actor=actor.user_id,
            system_actor_kind=actor.system_kind.value if actor.system_kind else None,
            system_actor_name=actor.system_name,
            action=action,
            changes=changes,
        )
    )


def actor_of(entry: HistoryEntry) -> Actor:
    if entry.actor:
        return Actor.person(entry.actor)
    return Actor(
        system_kind=SystemActorKind(entry.system_actor_kind or SystemActorKind.SERVICE.value),
        system_name=entry.system_actor_name or "unrecorded",
    )
