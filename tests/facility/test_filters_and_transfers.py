from __future__ import annotations

from datetime import UTC, datetime

from .helpers import activate, agency, business

LIST = """query($filter: FacilityFilter) { facilities(filter: $filter, first: 50) {
  totalCount edges { node { name complianceStatus } } } }"""
ADD = """mutation($org: ID!, $name: String!, $street: String!, $county: String!) {
  addFacility(input: {organizationId: $org, facility: {name: $name, county: $county,
  siteAddress: {street: $street}}}) { facility { id cersId } } }"""


async def names(api, caller, portal="business", **filter):
    result = await api(LIST, as_=caller, portal=portal, filter=filter)
    return sorted(e["node"]["name"] for e in result["data"]["facilities"]["edges"])


async def test_every_filter_narrows_the_list_the_caller_may_see(api, app, clock):
    created = await business(api, "ann", "1 Main St", name="Quincy Fuel")
    org = created["organization"]["id"]
    yuba = (await api(ADD, as_="ann", org=org, name="Yuba Depot", street="2 A St", county="Yuba"))[
        "data"
    ]["addFacility"]["facility"]
    renamed = (
        await api(ADD, as_="ann", org=org, name="Portola Yard", street="3 B St", county="Plumas")
    )["data"]["addFacility"]["facility"]
    clock.advance(days=1)
    rename = 'mutation($id: ID!) { updateFacility(input: {facilityId: $id, name: "Portola Shop"}) { changes } }'  # noqa: E501
    await api(rename, as_="ann", id=renamed["id"])
    assert await names(api, "ann", county="Yuba") == ["Yuba Depot"]
    assert await names(api, "ann", cersId=yuba["cersId"]) == ["Yuba Depot"]
    assert await names(api, "ann", nameContains="FUEL") == ["Quincy Fuel"]
    assert await names(api, "ann", nameContains="%") == []
    assert await names(api, "ann", updatedSince="2026-06-02T00:00:00Z") == ["Portola Shop"]
    assert await names(api, "ann", complianceStatus="UPDATE_REQUIRED") == ["Portola Shop"]
    assert await names(api, "ann", complianceStatus="CURRENT") == ["Quincy Fuel", "Yuba Depot"]
    clock.now = datetime(2027, 2, 15, tzinfo=UTC)
    assert await names(api, "ann", complianceStatus="DUE_SOON") == ["Quincy Fuel", "Yuba Depot"]
    clock.now = datetime(2027, 3, 2, tzinfo=UTC)
    assert await names(api, "ann", complianceStatus="OVERDUE") == [
        "Portola Shop",
        "Quincy Fuel",
        "Yuba Depot",
    ]
    plumas = await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    assert await names(api, "sam", "state", agencyId=plumas.id) == ["Portola Shop", "Quincy Fuel"]
    unknown = await api(LIST, as_="ann", filter={"county": "Atlantis"})
    assert unknown["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_regulator_s_approver_transfers_and_the_old_business_loses_access(api, app):
    first = await business(api, "ann", "1 Main St")
    second = await business(api, "bob", "2 Main St", name="Buyer Inc")
    fid = first["facility"]["id"]
    await activate(app, "vic", "vic@example.com")
    add = """mutation($org: ID!) { addPerson(input: {organizationId: $org,
      email: "vic@example.com", role: VIEWER}) { membership { role } } }"""
    await api(add, as_="ann", org=first["organization"]["id"])
    await agency(app, "Yuba County Environmental Health", "Yuba", "yul")
    await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    transfer = """mutation($f: ID!, $to: ID!) { transferFacility(input: {facilityId: $f,
      toOrganizationId: $to}) { facility { organization { name } } } }"""
    for caller, portal in (("ann", "business"), ("vic", "business"), ("yul", "regulator")):
        denied = await api(
            transfer, as_=caller, portal=portal, f=fid, to=second["organization"]["id"]
        )
        assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN", caller
    moved = await api(
        transfer, as_="pat", portal="regulator", f=fid, to=second["organization"]["id"]
    )
    assert moved["data"]["transferFacility"]["facility"]["organization"]["name"] == "Buyer Inc"
    query = "query($id: ID!) { facility(id: $id) { name history { action } } }"
    assert (await api(query, as_="vic", id=fid))["data"]["facility"] is None
    assert (await api(query, as_="ann", id=fid))["data"]["facility"] is None
    history = (await api(query, as_="bob", id=fid))["data"]["facility"]["history"]
    assert [h["action"] for h in history][0] == "CREATED"
    assert history[-1]["action"] == "TRANSFERRED"


async def test_an_agency_default_due_date_moves_facilities_without_their_own_date(api, app):
    plumas = await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    one = await business(api, "ann", "1 Main St")
    two = await business(api, "ann", "2 Main St", name="Second")
    own = """mutation($f: ID!) { setAnnualDueDate(input: {facilityId: $f,
      annualDueDate: "2027-09-15"}) { facility { annualDueDate } } }"""
    await api(own, as_="pat", portal="regulator", f=two["facility"]["id"])
    default = """mutation($a: ID!) { setAgencyDefaultDueDate(input: {agencyId: $a, month: 7,
      day: 1}) { agency { defaultDueDate } userErrors { message } } }"""
    assert (await api(default, as_="ann", a=plumas.id))["errors"][0]["extensions"][
        "code"
    ] == "FORBIDDEN"
    changed = await api(default, as_="pat", portal="regulator", a=plumas.id)
    assert changed["data"]["setAgencyDefaultDueDate"]["agency"]["defaultDueDate"] == "07-01"
    query = "query($id: ID!) { facility(id: $id) { annualDueDate } }"
    assert (await api(query, as_="ann", id=one["facility"]["id"]))["data"]["facility"][
        "annualDueDate"
    ] == "2027-07-01"
    assert (await api(query, as_="ann", id=two["facility"]["id"]))["data"]["facility"][
        "annualDueDate"
    ] == "2027-09-15"
    bad = """mutation($a: ID!) { setAgencyDefaultDueDate(input: {agencyId: $a, month: 2,
      day: 30}) { userErrors { code } } }"""
    assert (await api(bad, as_="pat", portal="regulator", a=plumas.id))["data"][
        "setAgencyDefaultDueDate"
    ]["userErrors"] == [{"code": "BAD_USER_INPUT"}]
