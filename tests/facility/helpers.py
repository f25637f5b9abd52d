from __future__ import annotations

from common.events.envelope import Envelope
from services.facility.domain.actors import Actor
from services.facility.domain.roles import AgencyKind
from services.facility.service_layer import agencies, consumers

FACILITY_FIELDS = "id cersId name county complianceStatus updateRequiredReasons { reason dueBy }"

CREATE = """
mutation($name: String!, $street: String!, $county: String!) {
  createBusiness(input: {name: $name, facility: {name: $name, county: $county,
      siteAddress: {street: $street, city: "Quincy", zip: "95971"}}}) {
    organization { id name orgCode }
    facility { FIELDS }
    userErrors { field message code }
  }
}""".replace("FIELDS", FACILITY_FIELDS)


async def activate(app, user_id: str, email: str, sequence: int = 1) -> None:
    envelope = Envelope(
        type="identity.user.activated",
        aggregate_id=user_id,
        sequence=sequence,
        data={
            "user_id": user_id,
            "username": user_id,
            "portal": "business",
            "email": email,
            "first_name": user_id.title(),
            "last_name": "Tester",
            "activated_at": "2026-06-01T00:00:00Z",
        },
    )
    async with app.db.transaction() as session:
        await consumers.user_activated(app, session, envelope)


async def agency(app, name: str, county: str, admin: str, kind=AgencyKind.CUPA, city=None):
    """An agency whose ADMIN is the activated user ``admin`` (email admin@example.gov)."""
    created = await agencies.create_agency(
        app,
        agencies.NewAgency(
            name=name,
            kind=kind,
            places=[agencies.Place(county, city)],
            admin_email=f"{admin}@example.gov",
        ),
        Actor.operator("create-agency"),
    )
    await activate(app, admin, f"{admin}@example.gov")
    return created


async def business(
    api, user: str, street: str, name: str = "Feather River Fuel", county: str = "Plumas"
):
    result = await api(CREATE, as_=user, name=name, street=street, county=county)
    assert "errors" not in result, result
    return result["data"]["createBusiness"]
