"""Use cases: create a business, add, update and transfer facilities."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.auth import Principal
from common.contracts import facility as contract
from services.facility.adapters.ids import allocate_cers_id, allocate_org_code
from services.facility.adapters.tables import (
    Agency,
    Facility,
    KnownUser,
    Membership,
    Organization,
)
from services.facility.domain.actors import Actor
from services.facility.domain.compliance import UpdateReason, first_due_date
from services.facility.domain.record import (
    FacilityRecord,
    address_key,
    changed_fields,
    classify_changes,
)
from services.facility.domain.roles import BusinessRole, StaffRole
from services.facility.service_layer.access import load_caller, require_user
from services.facility.service_layer.context import Facilities
from services.facility.service_layer.errors import BadInput, DuplicateFacility, NotFound
from services.facility.service_layer.records import (
    add_history,
    apply_record,
    find_agency,
    raise_reason,
    record_of,
    snapshot,
    validate_record,
)


@dataclass(frozen=True)
class CreateBusiness:
    name: str
    facility: FacilityRecord


async def create_business(
    app: Facilities, principal: Principal | None, cmd: CreateBusiness
) -> tuple[Organization, Facility]:
    """A new business with its first facility; the creator becomes its LEAD_USER."""
    user_id = require_user(principal)
    name = cmd.name.strip()
    if not name or len(name) > 200:
        raise BadInput("A business needs a name of 1 to 200 characters.", field=["name"])
    async with app.db.transaction() as session:
        now = app.now()
        org = Organization(
            name=name, org_code=await allocate_org_code(session), created_at=now, updated_at=now
        )
        session.add(org)
        person = await session.get(KnownUser, user_id)
        session.add(
            Membership(
                organization_id=org.id,
                user_id=user_id,
                role=BusinessRole.LEAD_USER.value,
                first_name=person.first_name if person else None,
                last_name=person.last_name if person else None,
                email=person.email if person else None,
                granted_at=now,
            )
        )
        await session.flush()
        await app.emit(
            session,
            contract.ORGANIZATION_CREATED,
            org.id,
            contract.OrganizationCreated(
                organization_id=org.id, name=org.name, org_code=org.org_code
            ),
            user_id,
        )
        await app.emit(
            session,
            contract.MEMBERSHIP_GRANTED,
            f"{org.id}:{user_id}",
            contract.MembershipGranted(
                organization_id=org.id, user_id=user_id, role=BusinessRole.LEAD_USER.value
            ),
            user_id,
        )
        facility = await insert_facility(app, session, org, cmd.facility, Actor.person(user_id))
    return org, facility


async def rename_business(
    app: Facilities, principal: Principal | None, organization_id: str, name: str
) -> Organization:
    """A lead user renames the business; its org code and facilities stay."""
    user_id = require_user(principal)
    name = name.strip()
    if not name or len(name) > 200:
        raise BadInput("A business needs a name of 1 to 200 characters.", field=["name"])
    async with app.db.transaction() as session:
        caller = await load_caller(session, principal)
        org = await session.get(Organization, organization_id, with_for_update=True)
        if org is None:
            raise NotFound(f"No business {organization_id}.", field=["organizationId"])
        caller.require_business(organization_id, BusinessRole.LEAD_USER, "Renaming the business")
        if org.name == name:
            return org
        previous, org.name, org.updated_at = org.name, name, app.now()
        await app.emit(
            session,
            contract.ORGANIZATION_UPDATED,
            org.id,
            contract.OrganizationUpdated(
                organization_id=org.id, name=name, org_code=org.org_code, previous_name=previous
            ),
            user_id,
        )
        return org


async def add_facility(
    app: Facilities, principal: Principal | None, organization_id: str, record: FacilityRecord
) -> Facility:
    user_id = require_user(principal)
    async with app.db.transaction() as session:
        caller = await load_caller(session, principal)
        org = await session.get(Organization, organization_id)
        if org is None:
            raise NotFound(f"No business {organization_id}.", field=["organizationId"])
        caller.require_business(organization_id, BusinessRole.EDITOR, "Adding a facility")
        return await insert_facility(app, session, org, record, Actor.person(user_id))


async def insert_facility(
    app: Facilities,
    session: AsyncSession,
    org: Organization,
    record: FacilityRecord,
    actor: Actor,
    *,
    demo: bool = False,
) -> Facility:
    cid = validate_record(record, "facility")
    now = app.now()
    agency = await find_agency(session, cid, record.city)
    month, day = (agency.default_due_month, agency.default_due_day) if agency else (3, 1)
    facility = Facility(
        cers_id=await allocate_cers_id(session),
        organization_id=org.id,
        agency_id=agency.id if agency else None,
        address_key=address_key(record.site_address, cid),
        annual_due_date=first_due_date(app.today(), month, day),
        county_id=cid,
        name="",
        created_at=now,
        updated_at=now,
    )
    apply_record(facility, record, cid)
    await _insert_or_duplicate(session, facility)
    add_history(session, facility.id, now, actor, "CREATED", {"record": record.as_dict()})
    await app.emit(
        session,
        contract.FACILITY_CREATED,
        facility.id,
        contract.FacilityCreated(facility=snapshot(facility), demo=demo),
        actor.user_id,
    )
    return facility


async def _insert_or_duplicate(session: AsyncSession, facility: Facility) -> None:
    """Insert, letting the unique index on the normalized address catch duplicates.

    A savepoint keeps the transaction usable after the violation, so we can answer with the
    CERS ID that already holds the address, even when it was committed a moment ago by a
    concurrent request.
    """
    try:
        async with session.begin_nested():
            session.add(facility)
            await session.flush()
    except IntegrityError:
        existing = (
            await session.execute(
                select(col(Facility.cers_id)).where(
                    col(Facility.address_key) == facility.address_key
                )
            )
        ).scalar_one_or_none()
        if existing is None:
            raise
        raise DuplicateFacility(
            f"A facility is already registered at this address with CERS ID {existing}. "
            "Ask its business for access with requestAccess(cersId) instead of adding it again.",
            field=["facility", "siteAddress"],
            cersId=existing,
        ) from None


async def update_facility(
    app: Facilities,
    principal: Principal | None,
    facility_id: str,
    change: Callable[[FacilityRecord], FacilityRecord],
) -> tuple[Facility, list[UpdateReason]]:
    """Change the record; each kind of change opens its UPDATE_REQUIRED reason."""
    user_id = require_user(principal)
    async with app.db.transaction() as session:
        caller = await load_caller(session, principal)
        facility = await get_facility(session, facility_id)
        caller.require_business(facility.organization_id, BusinessRole.EDITOR, "Editing a facility")
        before = record_of(facility)
        record = change(before)
        cid = validate_record(record, "input")
        kinds = classify_changes(before, record)
        if not kinds:
            return facility, []
        now = app.now()
        previous_agency = facility.agency_id
        apply_record(facility, record, cid)
        if UpdateReason.SITE_ADDRESS in kinds:
            facility.address_key = address_key(record.site_address, cid)
            agency = await find_agency(session, cid, record.city)
            facility.agency_id = agency.id if agency else None
        facility.updated_at = now
        await _insert_or_duplicate(session, facility)
        for kind in kinds:
            await raise_reason(session, facility, kind, now)
        add_history(
            session,
            facility.id,
            now,
            Actor.person(user_id),
            "UPDATED",
            {"kinds": [k.value for k in kinds], "fields": changed_fields(before, record)},
        )
        await app.emit(
            session,
            contract.FACILITY_UPDATED,
            facility.id,
            contract.FacilityUpdated(
                facility=snapshot(facility),
                changes=[k.value for k in kinds],
                previous_agency_id=previous_agency,
            ),
            user_id,
        )
    return facility, kinds


async def transfer_facility(
    app: Facilities, principal: Principal | None, facility_id: str, to_organization_id: str
) -> Facility:
    """Move a facility to another business, keeping its CERS ID and history."""
    user_id = require_user(principal)
    async with app.db.transaction() as session:
        caller = await load_caller(session, principal)
        facility = await get_facility(session, facility_id)
        target = await session.get(Organization, to_organization_id)
        from_org = facility.organization_id
        lead_of_both = (
            caller.business_role(from_org) is BusinessRole.LEAD_USER
            and caller.business_role(to_organization_id) is BusinessRole.LEAD_USER
        )
        if not lead_of_both:
            caller.require_staff(facility.agency_id, StaffRole.APPROVER, "Transferring a facility")
        if target is None:
            raise NotFound(f"No business {to_organization_id}.")
        if target.id == from_org:
            raise BadInput(
                "The facility already belongs to that business.", field=["toOrganizationId"]
            )
        now = app.now()
        facility.organization_id = target.id
        facility.updated_at = now
        await raise_reason(session, facility, UpdateReason.TRANSFER, now)
        add_history(
            session,
            facility.id,
            now,
            Actor.person(user_id),
            "TRANSFERRED",
            {"from_organization_id": from_org, "to_organization_id": target.id},
        )
        await app.emit(
            session,
            contract.FACILITY_TRANSFERRED,
            facility.id,
            contract.FacilityTransferred(
                facility=snapshot(facility),
                from_organization_id=from_org,
                to_organization_id=target.id,
            ),
            user_id,
        )
    return facility


async def agency_of(session: AsyncSession, facility: Facility) -> Agency | None:
    return await session.get(Agency, facility.agency_id) if facility.agency_id else None


async def get_facility(session: AsyncSession, facility_id: str) -> Facility:
    facility = await session.get(Facility, facility_id, with_for_update=True)
    if facility is None:
        raise NotFound(f"No facility {facility_id}.", field=["facilityId"])
    return facility
