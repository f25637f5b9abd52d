"""The demo dataset: real-named CUPAs, and a Plumas County business its lead user makes."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.contracts import facility as contract
from services.facility.adapters.ids import allocate_org_code
from services.facility.adapters.tables import Agency, Organization
from services.facility.domain.actors import Actor
from services.facility.domain.record import FacilityRecord
from services.facility.domain.roles import AgencyKind, BusinessRole
from services.facility.service_layer import agencies
from services.facility.service_layer.agencies import email_key
from services.facility.service_layer.businesses import insert_facility
from services.facility.service_layer.context import Facilities
from services.facility.service_layer.people import Person, grant_membership

log = logging.getLogger(__name__)

DEMO_BUSINESS_EMAIL = "demo.business@example.com"
DEMO_REGULATOR_EMAIL = "demo.plumas@example.com"
DEMO_BUSINESS = "Feather River Fuel & Supply"

# Public contact details as the agencies publish them.
AGENCIES = (
    agencies.NewAgency(
        name="Plumas County Environmental Health",
        kind=AgencyKind.CUPA,
        places=[agencies.Place("Plumas")],
        admin_email=DEMO_REGULATOR_EMAIL,
        phone="(530) 283-6355",
        address="270 County Hospital Road, Suite 127, Quincy, CA 95971",
        website="https://www.plumascounty.us/101/Environmental-Health",
    ),
    agencies.NewAgency(
        name="Alameda County Department of Environmental Health",
        kind=AgencyKind.CUPA,
        places=[agencies.Place("Alameda")],
        phone="(510) 567-6700",
        address="1131 Harbor Bay Parkway, Alameda, CA 94502",
        website="https://deh.acgov.org",
    ),
    agencies.NewAgency(
        name="City of Berkeley Toxics Management Division",
        kind=AgencyKind.CUPA,
        places=[agencies.Place("Alameda", "Berkeley")],
        phone="(510) 981-7460",
        address="1947 Center Street, Berkeley, CA 94704",
        website="https://berkeleyca.gov",
    ),
    agencies.NewAgency(
        name="Sacramento County Environmental Management Department",
        kind=AgencyKind.CUPA,
        places=[agencies.Place("Sacramento")],
        phone="(916) 875-8550",
        address="11080 White Rock Road, Suite 200, Rancho Cordova, CA 95670",
        website="https://emd.saccounty.gov",
    ),
    agencies.NewAgency(
        name="San Diego County Department of Environmental Health and Quality",
        kind=AgencyKind.CUPA,
        places=[agencies.Place("San Diego")],
        phone="(858) 505-6700",
        address="5500 Overland Avenue, Suite 110, San Diego, CA 92123",
        website="https://www.sandiegocounty.gov/deh",
    ),
    agencies.NewAgency(
        name="Los Angeles County Fire Department Health Hazardous Materials Division",
        kind=AgencyKind.CUPA,
        places=[agencies.Place("Los Angeles")],
        phone="(323) 890-4045",
        address="5825 Rickenbacker Road, Commerce, CA 90040",
        website="https://fire.lacounty.gov/hhmd",
    ),
)

SITES = (
    ("Feather River Fuel - Quincy", "2105 East Main Street", "Quincy", "95971"),
    ("Feather River Fuel - Portola", "155 West Sierra Avenue", "Portola", "96122"),
    ("Feather River Fuel - Chester", "420 Main Street", "Chester", "96020"),
    ("Feather River Supply Yard - Greenville", "112 Highway 89", "Greenville", "95947"),
)


async def seed_demo(app: Facilities) -> bool:
    """Seed the agencies once, on an empty database; False when there was already data.

    The demo business is not made here: its lead user makes it, when identity reports the
    demo business account activated (``seed_demo_business``), so every change to its
    facilities is made by a real account.
    """
    async with app.db.read() as session:
        if await session.scalar(select(func.count()).select_from(Agency)):
            return False
    for agency in AGENCIES:
        await agencies.create_agency(app, agency, Actor.demo_seed())
    log.info("seeded the facility demo: %d agencies", len(AGENCIES))
    return True


def _record(name: str, street: str, city: str, zip_code: str) -> FacilityRecord:
    return FacilityRecord(
        name=name,
        site_address={"street": street, "city": city, "state": "CA", "zip": zip_code},
        county="Plumas",
        city=city,
        mailing_address={"street": "PO Box 1776", "city": "Quincy", "state": "CA", "zip": "95971"},
        contacts={
            "environmental": {
                "name": "Dana Business",
                "phone": "(530) 555-0100",
                "email": DEMO_BUSINESS_EMAIL,
            }
        },
        owner_operator={
            "owner_name": DEMO_BUSINESS,
            "owner_phone": "(530) 555-0100",
            "operator_name": "Dana Business",
            "operator_phone": "(530) 555-0100",
        },
    )


async def seed_demo_business(
    app: Facilities, session: AsyncSession, user_id: str, email: str
) -> bool:
    """The demo business and its four facilities, made by the demo business account itself as
    if it had called createBusiness and addFacility; once, and only in a DEMO run."""
    if not app.demo or email_key(email) != DEMO_BUSINESS_EMAIL:
        return False
    exists = await session.scalar(
        select(func.count())
        .select_from(Organization)
        .where(col(Organization.name) == DEMO_BUSINESS)
    )
    if exists:
        return False
    now = app.now()
    org = Organization(
        name=DEMO_BUSINESS,
        org_code=await allocate_org_code(session),
        created_at=now,
        updated_at=now,
    )
    session.add(org)
    await session.flush()
    await app.emit(
        session,
        contract.ORGANIZATION_CREATED,
        org.id,
        contract.OrganizationCreated(organization_id=org.id, name=org.name, org_code=org.org_code),
        user_id,
    )
    dana = Person(email, "Dana", "Business", "Environmental Manager", "(530) 555-0100")
    await grant_membership(app, session, org.id, user_id, BusinessRole.LEAD_USER, dana, user_id)
    for site in SITES:
        await insert_facility(app, session, org, _record(*site), Actor.person(user_id), demo=True)
    log.info("seeded the demo business %s with %d facilities", DEMO_BUSINESS, len(SITES))
    return True
