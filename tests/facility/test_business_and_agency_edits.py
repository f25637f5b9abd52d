"""Renaming a business, editing an agency's contacts, and redrawing a jurisdiction by API."""

from __future__ import annotations

import json

from sqlalchemy import select

from services.facility.adapters.tables import EVENTS
from services.facility.domain.actors import Actor
from services.facility.service_layer import agencies

from .helpers import activate, agency, business

RENAME = """mutation($org: ID!, $name: String!) {
  updateBusiness(input: {organizationId: $org, name: $name}) {
    organization { id name orgCode } userErrors { field code message } } }"""
EDIT_AGENCY = """mutation($id: ID!, $phone: String, $email: String, $website: String,
    $address: String) {
  updateAgency(input: {agencyId: $id, phone: $phone, email: $email, website: $website,
      address: $address}) {
    agency { phone email address website } userErrors { field code message } } }"""
JURISDICTION = """mutation($id: ID!, $places: [PlaceInput!]!) {
  setAgencyJurisdiction(input: {agencyId: $id, places: $places}) {
    agency { counties cities } reassignedFacilityCount userErrors { field code message } } }"""
HISTORY = """query($id: ID!) { facility(id: $id) { regulator { name }
  history { action actor { id } systemActor { kind name } } } }"""
ADD = """mutation($org: ID!, $email: String!, $role: BusinessRole!) {
  addPerson(input: {organizationId: $org, email: $email, role: $role}) { userErrors { code } } }"""
ADD_STAFF = """mutation($id: ID!, $email: String!) {
  addAgencyStaff(input: {agencyId: $id, email: $email, role: APPROVER}) { userErrors { code } } }"""


def code(answer: dict) -> str:
    return answer["errors"][0]["extensions"]["code"]


async def events(app, subject: str) -> list[dict]:
    async with app.db.read() as session:
        rows = await session.execute(
            select(EVENTS.outbox.c.payload).where(EVENTS.outbox.c.subject == subject)
        )
        return [json.loads(r[0]) for r in rows]


async def agency_id(api, county: str) -> str:
    answer = await api("query($c: String) { regulatorAgencies(county: $c) { id } }", c=county)
    return answer["data"]["regulatorAgencies"][0]["id"]


async def test_a_lead_user_renames_the_business_and_no_one_else_may(api, app):
    created = await business(api, "ann", "1 Main St")
    org = created["organization"]["id"]
    await business(api, "bob", "2 Main St", name="Other Co")
    await activate(app, "ed", "ed@example.com")
    await api(ADD, as_="ann", org=org, email="ed@example.com", role="APPROVER")

    renamed = await api(RENAME, as_="ann", org=org, name="  Feather River Energy  ")
    assert renamed["data"]["updateBusiness"] == {
        "organization": {
            "id": org,
            "name": "Feather River Energy",
            "orgCode": created["organization"]["orgCode"],
        },
        "userErrors": [],
    }
    [event] = await events(app, "facility.organization.updated")
    assert event["actor"] == "ann"
    assert event["data"] == {
        "organization_id": org,
        "name": "Feather River Energy",
        "org_code": created["organization"]["orgCode"],
        "previous_name": "Feather River Fuel",
    }
    for caller in ("ed", "bob"):  # an APPROVER of the business; another business's lead user
        assert code(await api(RENAME, as_=caller, org=org, name="Mine")) == "FORBIDDEN"
    assert code(await api(RENAME, org=org, name="Mine")) == "UNAUTHENTICATED"
    assert code(await api(RENAME, as_="ann", org="no-such-org", name="Mine")) == "NOT_FOUND"
    blank = await api(RENAME, as_="ann", org=org, name="   ")
    assert blank["data"]["updateBusiness"]["userErrors"][0]["field"] == ["name"]
    seen = await api("query($id: ID!) { organization(id: $id) { name } }", as_="ann", id=org)
    assert seen["data"]["organization"]["name"] == "Feather River Energy"
    assert len(await events(app, "facility.organization.updated")) == 1


async def test_an_agency_admin_edits_its_public_contacts_and_staff_below_admin_may_not(api, app):
    await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    await agency(app, "Sierra County Environmental Health", "Sierra", "sid")
    plumas = await agency_id(api, "Plumas")
    await activate(app, "ian", "ian@example.gov")
    await api(ADD_STAFF, as_="pat", portal="regulator", id=plumas, email="ian@example.gov")
    change = {
        "phone": "(530) 283-6355",
        "email": "eh@countyofplumas.com",
        "website": "https://www.plumascounty.us/101/Environmental-Health",
        "address": "270 County Hospital Road, Quincy, CA 95971",
    }
    edited = await api(EDIT_AGENCY, as_="pat", portal="regulator", id=plumas, **change)
    assert edited["data"]["updateAgency"] == {"agency": change, "userErrors": []}
    [event] = await events(app, "facility.agency.updated")
    assert event["data"]["changes"] == ["address", "email", "phone", "website"]
    assert event["data"]["email"] == "eh@countyofplumas.com"
    assert event["data"]["jurisdictions"] == [{"county_id": 32, "county": "Plumas", "city": None}]

    cleared = await api(EDIT_AGENCY, as_="pat", portal="regulator", id=plumas, address="")
    assert cleared["data"]["updateAgency"]["agency"]["address"] is None
    for bad, field in ({"email": "not-an-email"}, "email"), ({"website": "plumas"}, "website"):
        refused = await api(EDIT_AGENCY, as_="pat", portal="regulator", id=plumas, **bad)
        assert refused["data"]["updateAgency"]["userErrors"][0]["field"] == [field]
    for caller in ("ian", "sid", "ann"):  # an APPROVER, another agency's ADMIN, a business user
        denied = await api(EDIT_AGENCY, as_=caller, portal="regulator", id=plumas, phone="1")
        assert code(denied) == "FORBIDDEN", caller
    assert code(await api(EDIT_AGENCY, id=plumas, phone="1")) == "UNAUTHENTICATED"
    public = await api('{ regulatorAgencies(county: "Plumas") { phone address } }')
    assert public["data"]["regulatorAgencies"] == [{"phone": "(530) 283-6355", "address": None}]


async def test_a_state_account_redraws_a_jurisdiction_and_facilities_follow(api, app):
    await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    await agency(app, "Sierra County Environmental Health", "Sierra", "sid")
    plumas, sierra = await agency_id(api, "Plumas"), await agency_id(api, "Sierra")
    quincy = (await business(api, "ann", "1 Main St"))["facility"]["id"]
    # Sierra's ADMIN may not take Plumas's facilities, nor may Plumas's ADMIN, a client
    # with statewide:read, a business user or an anonymous caller.
    take = [{"county": "Sierra"}, {"county": "Plumas", "city": "Quincy"}]
    for caller, portal, scope in (
        ("sid", "regulator", "openid"),
        ("pat", "regulator", "openid"),
        ("integration", None, "statewide:read"),
        ("ann", "business", "openid"),
    ):
        denied = await api(
            JURISDICTION, as_=caller, portal=portal, scope=scope, id=sierra, places=take
        )
        assert code(denied) == "FORBIDDEN", caller
    assert code(await api(JURISDICTION, id=sierra, places=take)) == "UNAUTHENTICATED"

    # A place another agency holds is named, and nothing changes.
    taken = await api(
        JURISDICTION,
        as_="stan",
        portal="state",
        id=sierra,
        places=[{"county": "Sierra"}, {"county": "Plumas"}],
    )
    [error] = taken["data"]["setAgencyJurisdiction"]["userErrors"]
    assert error["field"] == ["places"] and "Plumas County Environmental Health" in error["message"]
    for places in ([{"county": "Atlantis"}], [], [{"county": "Sierra"}, {"county": "sierra"}]):
        bad = await api(JURISDICTION, as_="stan", portal="state", id=sierra, places=places)
        assert bad["data"]["setAgencyJurisdiction"]["userErrors"], places
    seen = await api(HISTORY, as_="ann", id=quincy)
    assert seen["data"]["facility"]["regulator"]["name"] == "Plumas County Environmental Health"

    moved = await api(JURISDICTION, as_="stan", portal="state", id=sierra, places=take)
    assert moved["data"]["setAgencyJurisdiction"] == {
        "agency": {"counties": ["Plumas", "Sierra"], "cities": ["Quincy"]},
        "reassignedFacilityCount": 1,
        "userErrors": [],
    }
    seen = (await api(HISTORY, as_="ann", id=quincy))["data"]["facility"]
    assert seen["regulator"]["name"] == "Sierra County Environmental Health"
    assert seen["history"][-1] == {
        "action": "REGULATOR_CHANGED",
        "actor": {"id": "stan"},
        "systemActor": None,
    }
    # An operator's command is named as such, with no made-up user id.
    await agencies.change_jurisdiction(
        app, sierra, [agencies.Place("Sierra")], Actor.operator("set-jurisdiction")
    )
    seen = (await api(HISTORY, as_="ann", id=quincy))["data"]["facility"]
    assert seen["regulator"]["name"] == "Plumas County Environmental Health"
    assert seen["history"][-1] == {
        "action": "REGULATOR_CHANGED",
        "actor": None,
        "systemActor": {"kind": "OPERATOR_COMMAND", "name": "set-jurisdiction"},
    }
    assert plumas != sierra
