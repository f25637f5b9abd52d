"""Use cases of regulators: agencies and jurisdictions, staff, due dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.auth import Principal
from common.contracts import facility as contract
from services.facility.adapters.tables import (
    Agency,
    Facility,
    Jurisdiction,
    KnownUser,
    StaffMember,
)
from services.facility.domain.actors import Actor
from services.facility.domain.compliance import MAX_CERTIFICATION_WINDOW_DAYS, first_due_date
from services.facility.domain.counties import counties, county_id
from services.facility.domain.roles import AgencyKind, StaffRole
from services.facility.service_layer.access import load_caller, require_user
from services.facility.service_layer.context import Facilities
from services.facility.service_layer.errors import BadInput, Forbidden, NotFound, Unavailable
from services.facility.service_layer.records import add_history, city_key, find_agency, snapshot


def email_key(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class Place:
    county: str
    city: str | None = None


@dataclass(frozen=True)
class NewAgency:
    name: str
    kind: AgencyKind
    places: list[Place]
    admin_email: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    website: str | None = None


def _jurisdictions(places: list[Place]) -> list[tuple[int, str | None]]:
    out = []
    for place in places:
        cid = county_id(place.county)
        if cid is None:
            raise BadInput(f"{place.county!r} is not a California county.", field=["county"])
        out.append((cid, (place.city or "").strip() or None))
    return out


def _contract_places(rows: list[tuple[int, str | None]]) -> list[contract.Jurisdiction]:
    return [contract.Jurisdiction(county_id=c, county=counties()[c], city=city) for c, city in rows]


async def create_agency(app: Facilities, cmd: NewAgency, actor: Actor) -> Agency:
    """An operator's command (CLI and seed): a new agency and, optionally, its first admin."""
    places = _jurisdictions(cmd.places)
    async with app.db.transaction() as session:
        agency = Agency(
            name=cmd.name.strip(),
            kind=cmd.kind.value,
            phone=cmd.phone,
            email=cmd.email,
            address=cmd.address,
            website=cmd.website,
            created_at=app.now(),
        )
        session.add(agency)
        await session.flush()
        await app.emit(
            session,
            contract.AGENCY_CREATED,
            agency.id,
            contract.AgencyCreated(
                agency_id=agency.id,
                name=agency.name,
                kind=cmd.kind.value,
                jurisdictions=_contract_places(places),
                phone=agency.phone,
                email=agency.email,
                address=agency.address,
                website=agency.website,
            ),
            actor.user_id,
        )
        await _set_jurisdiction(app, session, agency, places, actor)
        if cmd.admin_email:
            await _grant_staff(app, session, agency, cmd.admin_email, StaffRole.ADMIN, actor)
    return agency


async def _set_jurisdiction(
    app: Facilities,
    session: AsyncSession,
    agency: Agency,
    places: list[tuple[int, str | None]],
    actor: Actor,
) -> list[str]:
    """Replace the agency's places and reassign every facility whose regulator changes."""
    for old in (
        await session.execute(select(Jurisdiction).where(col(Jurisdiction.agency_id) == agency.id))
    ).scalars():
        await session.delete(old)
    await session.flush()
    for cid, city in places:
        session.add(
            Jurisdiction(agency_id=agency.id, county_id=cid, city=city, city_key=city_key(city))
        )
    await session.flush()
    counties_touched = {cid for cid, _ in places}
    affected = (
        await session.execute(
            select(Facility).where(
                (col(Facility.agency_id) == agency.id)
                | (col(Facility.county_id).in_(counties_touched))
            )
        )
    ).scalars()
    # Facilities of one place share their regulator: one lookup per place, not per facility.
    regulators: dict[tuple[int, str], str | None] = {}
    moved: list[str] = []
    for facility in affected:
        place = (facility.county_id, facility.city_key)
        if place not in regulators:
            regulator = await find_agency(session, facility.county_id, facility.city)
            regulators[place] = regulator.id if regulator else None
        new_id = regulators[place]
        if new_id == facility.agency_id:
            continue
        previous = facility.agency_id
        facility.agency_id = new_id
        facility.updated_at = app.now()
        moved.append(facility.id)
        add_history(
            session,
            facility.id,
            app.now(),
            actor,
            "REGULATOR_CHANGED",
            {"from_agency_id": previous, "to_agency_id": new_id},
        )
        await app.emit(
            session,
            contract.FACILITY_UPDATED,
            facility.id,
            contract.FacilityUpdated(
                facility=snapshot(facility), changes=[], previous_agency_id=previous
            ),
            actor.user_id,
        )
    await app.emit(
        session,
        contract.AGENCY_JURISDICTION_CHANGED,
        agency.id,
        contract.AgencyJurisdictionChanged(
            agency_id=agency.id,
            jurisdictions=_contract_places(places),
            reassigned_facility_ids=moved,
        ),
        actor.user_id,
    )
    return moved


async def change_jurisdiction(
    app: Facilities, agency_id: str, places: list[Place], actor: Actor
) -> list[str]:
    """The ids of the facilities that moved to or from the agency (an operator's command, or
    ``set_agency_jurisdiction`` once the caller is authorized)."""
    rows = _jurisdictions(places)
    async with app.db.transaction() as session:
        agency = await session.get(Agency, agency_id)
        if agency is None:
            raise NotFound(f"No agency {agency_id}.", field=["agencyId"])
        await _refuse_taken_places(session, agency, rows)
        return await _set_jurisdiction(app, session, agency, rows, actor)


async def set_agency_jurisdiction(
    app: Facilities, principal: Principal | None, agency_id: str, places: list[Place]
) -> tuple[Agency, list[str]]:
    """A STATE account redraws an agency's jurisdiction (the state certifies CUPAs and their
    areas). Agency staff may not: an ADMIN could otherwise take over a neighbour's facilities."""
    user_id = require_user(principal)
    assert principal is not None
    if principal.portal != "state":
        raise Forbidden(
            "Only a STATE account may change an agency's jurisdiction; ask the state's CUPA "
            "program, or an operator (python -m services.facility set-jurisdiction)."
        )
    if not places:
        raise BadInput("Give at least one county or city.", field=["places"])
    try:
        moved = await change_jurisdiction(app, agency_id, places, Actor.person(user_id))
    except IntegrityError:
        # Another change took one of these places between our check and our write.
        raise BadInput(
            "One of these places changed agency at the same moment; look again and retry.",
            field=["places"],
        ) from None
    async with app.db.read() as session:
        agency = await session.get(Agency, agency_id)
    assert agency is not None
    return agency, moved


async def _refuse_taken_places(
    session: AsyncSession, agency: Agency, rows: list[tuple[int, str | None]]
) -> None:
    """A place has one agency: name the one that holds it, rather than fail on the index."""
    seen: set[tuple[int, str]] = set()
    for cid, city in rows:
        key = (cid, city_key(city))
        where = f"{city}, {counties()[cid]} County" if city else f"{counties()[cid]} County"
        if key in seen:
            raise BadInput(f"{where} is given twice; list each place once.", field=["places"])
        seen.add(key)
        holder = (
            await session.execute(
                select(Agency)
                .join(Jurisdiction, col(Jurisdiction.agency_id) == col(Agency.id))
                .where(col(Jurisdiction.county_id) == cid, col(Jurisdiction.city_key) == key[1])
            )
        ).scalar_one_or_none()
        if holder is not None and holder.id != agency.id:
            raise BadInput(
                f"{where} is already the jurisdiction of {holder.name!r} (id {holder.id}); a "
                "place has one agency, so take it out of that agency's jurisdiction first.",
                field=["places"],
            )


@dataclass(frozen=True)
class AgencyChange:
    """The public contact details and certification window; None keeps a value, "" clears it."""

    phone: str | None = None
    email: str | None = None
    address: str | None = None
    website: str | None = None
    certification_window_days: int | None = None


_CONTACT_LIMITS = {"phone": 25, "email": 254, "address": 300, "website": 300}


def _checked_contacts(change: AgencyChange) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for name, limit in _CONTACT_LIMITS.items():
        raw = getattr(change, name)
        if raw is None:
            continue
        value = " ".join(raw.split()) or None
        if value and len(value) > limit:
            raise BadInput(f"The {name} is longer than {limit} characters.", field=[name])
        values[name] = value
    if values.get("email") and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", values["email"] or ""):
        raise BadInput("Give the agency's email as name@domain.", field=["email"])
    website = values.get("website")
    if website and not re.fullmatch(r"https?://[^\s/]+\.[^\s]+", website):
        raise BadInput(
            "Give the website as a full address, such as https://www.example.gov.",
            field=["website"],
        )
    return values


async def update_agency(
    app: Facilities, principal: Principal | None, agency_id: str, change: AgencyChange
) -> Agency:
    """An agency ADMIN edits the public contact details and the certification window."""
    user_id = require_user(principal)
    values: dict[str, object] = dict(_checked_contacts(change))
    window = change.certification_window_days
    if window is not None:
        if not 1 <= window <= MAX_CERTIFICATION_WINDOW_DAYS:
            raise BadInput(
                f"A cycle opens 1 to {MAX_CERTIFICATION_WINDOW_DAYS} days before its due date; "
                f"{window} is outside that.",
                field=["certificationWindowDays"],
            )
        values["certification_window_days"] = window
    async with app.db.transaction() as session:
        caller = await load_caller(session, principal)
        agency = await session.get(Agency, agency_id, with_for_update=True)
        if agency is None:
            raise NotFound(f"No agency {agency_id}.", field=["agencyId"])
        caller.require_staff(agency_id, StaffRole.ADMIN, "Editing the agency")
        changed = sorted(k for k, v in values.items() if getattr(agency, k) != v)
        if not changed:
            return agency
        for name in changed:
            setattr(agency, name, values[name])
        places = (
            await session.execute(
                select(col(Jurisdiction.county_id), col(Jurisdiction.city)).where(
                    col(Jurisdiction.agency_id) == agency.id
                )
            )
        ).all()
        await app.emit(
            session,
            contract.AGENCY_UPDATED,
            agency.id,
            contract.AgencyUpdated(
                agency_id=agency.id,
                name=agency.name,
                kind=AgencyKind(agency.kind).value,
                jurisdictions=_contract_places([(c, city) for c, city in places]),
                phone=agency.phone,
                email=agency.email,
                address=agency.address,
                website=agency.website,
                certification_window_days=agency.certification_window_days,
                changes=changed,
            ),
            user_id,
        )
        return agency


async def _grant_staff(
    app: Facilities,
    session: AsyncSession,
    agency: Agency,
    email: str,
    role: StaffRole,
    actor: Actor,
) -> StaffMember:
    key = email_key(email)
    if "@" not in key:
        raise BadInput("Give the person's email address.", field=["email"])
    existing = (
        await session.execute(
            select(StaffMember).where(
                col(StaffMember.agency_id) == agency.id, col(StaffMember.email_key) == key
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        raise BadInput(f"{email} is already staff of {agency.name}.", field=["email"])
    account = (
        await session.execute(
            select(KnownUser).where(
                col(KnownUser.email_key) == key, col(KnownUser.active).is_(True)
            )
        )
    ).scalar_one_or_none()
    if account is not None and not app.read_model_fresh(account.user_id):
        raise Unavailable(
            f"An update to the account of {email} has not reached the facility service yet; "
            "no role is granted until it has. Retry in a minute."
        )
    member = StaffMember(
        agency_id=agency.id,
        user_id=account.user_id if account else None,
        email=email.strip(),
        email_key=key,
        role=role.value,
        granted_at=app.now(),
    )
    session.add(member)
    await session.flush()
    if member.user_id:
        await emit_staff_granted(app, session, member, actor.user_id)
    app.mail(
        session,
        email,
        f"You are {role.value} staff at {agency.name}",
        f"{agency.name} added you to its staff as {role.value}.\n"
        + (
            ""
            if member.user_id
            else f"Register on the Regulator Portal at {app.public_base_url} with this email "
            "address; your staff role starts when the account is activated.\n"
        ),
    )
    return member


async def emit_staff_granted(
    app: Facilities, session: AsyncSession, member: StaffMember, actor: str | None
) -> None:
    assert member.user_id
    await app.emit(
        session,
        contract.STAFF_GRANTED,
        f"{member.agency_id}:{member.user_id}",
        contract.StaffGranted(
            agency_id=member.agency_id,
            user_id=member.user_id,
            role=member.role,
        ),
        actor,
    )


async def add_agency_staff(
    app: Facilities, principal: Principal | None, agency_id: str, email: str, role: StaffRole
) -> StaffMember:
    user_id = require_user(principal)
    async with app.db.transaction() as session:
        caller = await load_caller(session, principal)
        agency = await session.get(Agency, agency_id)
        if agency is None:
            raise NotFound(f"No agency {agency_id}.", field=["agencyId"])
        caller.require_staff(agency_id, StaffRole.ADMIN, "Managing staff")
        if not app.read_model_fresh():
            raise Unavailable(
                "Account data from identity is behind (its event consumer lags); adding staff "
                "is paused so no role is granted from stale data. Retry in a minute."
            )
        return await _grant_staff(app, session, agency, email, role, Actor.person(user_id))


async def _staff_row(session: AsyncSession, agency_id: str, email: str) -> StaffMember:
    row = (
        await session.execute(
            select(StaffMember).where(
                col(StaffMember.agency_id) == agency_id,
                col(StaffMember.email_key) == email_key(email),
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"{email} is not staff of this agency.", field=["email"])
    return row


async def _admins_left(session: AsyncSession, agency_id: str, excluding: str) -> bool:
    others = await session.execute(
        select(col(StaffMember.id)).where(
            col(StaffMember.agency_id) == agency_id,
            col(StaffMember.role) == StaffRole.ADMIN.value,
            col(StaffMember.id) != excluding,
        )
    )
    return others.first() is not None


async def change_agency_staff_role(
    app: Facilities, principal: Principal | None, agency_id: str, email: str, role: StaffRole
) -> StaffMember:
    user_id = require_user(principal)
    async with app.db.transaction() as session:
        caller = await load_caller(session, principal)
        caller.require_staff(agency_id, StaffRole.ADMIN, "Managing staff")
        member = await _staff_row(session, agency_id, email)
        previous = StaffRole(member.role)
        if previous is role:
            return member
        if previous is StaffRole.ADMIN and not await _admins_left(session, agency_id, member.id):
            raise BadInput("The agency's last ADMIN cannot be demoted.", field=["role"])
        member.role = role.value
        if member.user_id:
            await app.emit(
                session,
                contract.STAFF_CHANGED,
                f"{agency_id}:{member.user_id}",
                contract.StaffChanged(
                    agency_id=agency_id,
                    user_id=member.user_id,
                    role=role.value,
                    previous_role=previous.value,
                ),
                user_id,
            )
        return member


async def remove_agency_staff(
    app: Facilities, principal: Principal | None, agency_id: str, email: str
) -> None:
    user_id = require_user(principal)
    async with app.db.transaction() as session:
        caller = await load_caller(session, principal)
        caller.require_staff(agency_id, StaffRole.ADMIN, "Managing staff")
        member = await _staff_row(session, agency_id, email)
        if member.role == StaffRole.ADMIN.value and not await _admins_left(
            session, agency_id, member.id
        ):
            raise BadInput("The agency's last ADMIN cannot be removed.", field=["email"])
        await revoke_staff(app, session, member, user_id)


async def revoke_staff(
    app: Facilities, session: AsyncSession, member: StaffMember, actor: str | None
) -> None:
    await session.delete(member)
    if member.user_id:
        await app.emit(
            session,
            contract.STAFF_REVOKED,
            f"{member.agency_id}:{member.user_id}",
            contract.StaffRevoked(agency_id=member.agency_id, user_id=member.user_id),
            actor,
        )


async def set_agency_default_due_date(
    app: Facilities, principal: Principal | None, agency_id: str, month: int, day: int
) -> Agency:
    """A new default for the agency; facilities without their own date follow it."""
    user_id = require_user(principal)
    try:
        date(2001, month, day)
    except ValueError:
        raise BadInput(
            f"{month:02d}-{day:02d} is not a day of the year.", field=["month"]
        ) from None
    async with app.db.transaction() as session:
        caller = await load_caller(session, principal)
        agency = await session.get(Agency, agency_id)
        if agency is None:
            raise NotFound(f"No agency {agency_id}.", field=["agencyId"])
        caller.require_staff(agency_id, StaffRole.ADMIN, "Setting the default due date")
        agency.default_due_month, agency.default_due_day = month, day
        followers = (
            await session.execute(
                select(Facility).where(
                    col(Facility.agency_id) == agency_id,
                    col(Facility.due_date_overridden).is_(False),
                )
            )
        ).scalars()
        for facility in followers:
            # Move the open cycle to the new anniversary in the same cycle year.
            start = facility.annual_due_date.replace(month=1, day=1)
            new_due = first_due_date(max(start, app.today()), month, day)
            await _change_due(
                app, session, facility, new_due, "AGENCY_DEFAULT", Actor.person(user_id)
            )
        return agency


async def set_annual_due_date(
    app: Facilities, principal: Principal | None, facility_id: str, due: date
) -> Facility:
    user_id = require_user(principal)
    async with app.db.transaction() as session:
        caller = await load_caller(session, principal)
        facility = await session.get(Facility, facility_id)
        if facility is None:
            raise NotFound(f"No facility {facility_id}.", field=["facilityId"])
        caller.require_staff(facility.agency_id, StaffRole.ADMIN, "Setting a due date")
        facility.due_date_overridden = True
        await _change_due(app, session, facility, due, "FACILITY", Actor.person(user_id))
        return facility


async def _change_due(
    app: Facilities,
    session: AsyncSession,
    facility: Facility,
    due: date,
    cause: str,
    actor: Actor,
) -> None:
    previous = facility.annual_due_date
    if previous == due:
        return
    facility.annual_due_date = due
    facility.updated_at = app.now()
    add_history(
        session,
        facility.id,
        app.now(),
        actor,
        "DUE_DATE_CHANGED",
        {"from": previous.isoformat(), "to": due.isoformat(), "cause": cause},
    )
    await app.emit(
        session,
        contract.DUE_DATE_CHANGED,
        facility.id,
        contract.DueDateChanged(
            facility_id=facility.id,
            annual_due_date=due,
            previous_due_date=previous,
            cause=cause,
        ),
        actor.user_id,
    )
