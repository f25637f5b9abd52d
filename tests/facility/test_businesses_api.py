from __future__ import annotations

from .helpers import CREATE, FACILITY_FIELDS, activate, agency, business

UPDATE = """
mutation($id: ID!, $name: String, $mailing: AddressInput) {
  updateFacility(input: {facilityId: $id, name: $name, mailingAddress: $mailing}) {
    facility { FIELDS }
    changes
    userErrors { field message code }
  }
}""".replace("FIELDS", FACILITY_FIELDS)

LIST = """
query($filter: FacilityFilter, $first: Int!, $after: String) {
  facilities(filter: $filter, first: $first, after: $after) {
    edges { cursor node { cersId name } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}"""


async def test_the_creator_of_a_business_becomes_its_lead_user(api):
    created = await business(api, "ann", "1 Main St")
    assert created["facility"]["cersId"] == 10000001
    assert len(str(created["organization"]["orgCode"])) == 8
    mine = await api(
        "{ myBusinesses { totalCount edges { node { name people { role user { id } } } } } }",
        as_="ann",
    )
    assert "errors" not in mine, mine
    node = mine["data"]["myBusinesses"]["edges"][0]["node"]
    assert node["people"] == [{"role": "LEAD_USER", "user": {"id": "ann"}}]


async def test_an_anonymous_caller_cannot_create_a_business(api):
    result = await api(CREATE, name="X", street="1 Main St", county="Plumas")
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_unknown_county_is_a_user_error(api):
    result = await api(CREATE, as_="ann", name="X", street="1 Main St", county="Atlantis")
    errors = result["data"]["createBusiness"]["userErrors"]
    assert errors[0]["code"] == "BAD_USER_INPUT" and errors[0]["field"] == ["facility", "county"]


async def test_adding_an_existing_address_answers_duplicate_facility_with_its_cers_id(api):
    first = await business(api, "ann", "5 Lawrence Street")
    result = await api(CREATE, as_="bob", name="Other", street="5 lawrence st", county="Plumas")
    error = result["errors"][0]
    assert error["extensions"]["code"] == "DUPLICATE_FACILITY"
    assert error["extensions"]["cersId"] == first["facility"]["cersId"]
    mine = await api("{ myBusinesses { totalCount } }", as_="bob")
    assert mine["data"]["myBusinesses"]["totalCount"] == 0


async def test_an_edit_is_classified_and_opens_an_update_reason_due_in_30_days(api):
    created = await business(api, "ann", "1 Main St")
    fid = created["facility"]["id"]
    result = await api(UPDATE, as_="ann", id=fid, name="FRF Quincy")
    payload = result["data"]["updateFacility"]
    assert payload["changes"] == ["NAME"]
    assert payload["facility"]["complianceStatus"] == "UPDATE_REQUIRED"
    assert payload["facility"]["updateRequiredReasons"] == [
        {"reason": "NAME", "dueBy": "2026-07-01"}
    ]


async def test_only_editors_of_the_business_may_edit_its_facility(api, app):
    created = await business(api, "ann", "1 Main St")
    fid = created["facility"]["id"]
    await business(api, "bob", "2 Main St", name="Other Co")
    await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    await agency(app, "Yuba County Environmental Health", "Yuba", "yul")
    await activate(app, "vic", "vic@example.com")
    add_viewer = """mutation($org: ID!) { addPerson(input: {organizationId: $org,
      email: "vic@example.com", role: VIEWER}) { membership { role } } }"""
    await api(add_viewer, as_="ann", org=created["organization"]["id"])
    callers = (
        ("bob", "business"),
        ("vic", "business"),
        ("pat", "regulator"),
        ("yul", "regulator"),
        ("sam", "state"),
    )
    for caller, portal in callers:
        result = await api(UPDATE, as_=caller, portal=portal, id=fid, name="Mine now")
        assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN", caller
    anonymous = await api(UPDATE, id=fid, name="Mine now")
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    unchanged = await api("query($id: ID!) { facility(id: $id) { name } }", as_="ann", id=fid)
    assert unchanged["data"]["facility"]["name"] == "Feather River Fuel"


async def test_each_caller_lists_only_the_facilities_they_may_see(api, app):
    await business(api, "ann", "1 Main St")
    await business(api, "bob", "9 Front St", name="Yuba Gas", county="Yuba")
    await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    await agency(app, "Yuba County Environmental Health", "Yuba", "yul")

    async def names(caller, portal="business", scope="openid"):
        result = await api(LIST, as_=caller, portal=portal, scope=scope, first=10)
        return [e["node"]["name"] for e in result["data"]["facilities"]["edges"]]

    assert await names("ann") == ["Feather River Fuel"]
    assert await names("bob") == ["Yuba Gas"]
    assert await names("pat", "regulator") == ["Feather River Fuel"]
    assert await names("yul", "regulator") == ["Yuba Gas"]
    assert await names("nobody", "business") == []
    assert await names("sam", "state") == ["Feather River Fuel", "Yuba Gas"]
    assert await names("sync-client", None, "statewide:read") == ["Feather River Fuel", "Yuba Gas"]
    anonymous = await api(LIST, first=10)
    assert anonymous["data"]["facilities"]["edges"] == []


async def test_keyset_pages_walk_every_facility_once_with_a_total(api):
    created = await business(api, "ann", "100 Main St", name="Site 0")
    org = created["organization"]["id"]
    add = """mutation($org: ID!, $street: String!, $name: String!) {
      addFacility(input: {organizationId: $org, facility: {name: $name, county: "Plumas",
        siteAddress: {street: $street}}}) { facility { cersId } userErrors { message } } }"""
    for n in range(1, 5):
        await api(add, as_="ann", org=org, street=f"{n} Elm St", name=f"Site {n}")
    seen, after = [], None
    while True:
        page = (await api(LIST, as_="ann", first=2, after=after))["data"]["facilities"]
        assert page["totalCount"] == 5
        seen += [e["node"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"Site {n}" for n in range(5)]
    filtered = await api(LIST, as_="ann", first=10, filter={"nameContains": "site 3"})
    assert [e["node"]["name"] for e in filtered["data"]["facilities"]["edges"]] == ["Site 3"]
    bad = await api(LIST, as_="ann", first=2, after="not-a-cursor")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_entities_resolve_to_null_for_what_the_caller_may_not_see(api):
    created = await business(api, "ann", "1 Main St")
    query = """query($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on Facility { name } ... on Organization { name } } }"""
    reps = [
        {"__typename": "Facility", "id": created["facility"]["id"]},
        {"__typename": "Organization", "id": created["organization"]["id"]},
    ]
    mine = await api(query, as_="ann", reps=reps)
    assert mine["data"]["_entities"] == [{"name": "Feather River Fuel"}] * 2
    theirs = await api(query, as_="bob", reps=reps)
    assert theirs["data"]["_entities"] == [None, None]


async def test_a_transfer_keeps_the_cers_id_and_history_and_the_old_business_loses_access(api):
    first = await business(api, "ann", "1 Main St")
    second = await business(api, "ann", "2 Main St", name="New Owner LLC")
    fid = first["facility"]["id"]
    transfer = """mutation($f: ID!, $to: ID!) { transferFacility(input:
        {facilityId: $f, toOrganizationId: $to}) { facility { cersId organization { name }
        complianceStatus history { action } } } }"""
    denied = await api(transfer, as_="bob", f=fid, to=second["organization"]["id"])
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    moved = await api(transfer, as_="ann", f=fid, to=second["organization"]["id"])
    facility = moved["data"]["transferFacility"]["facility"]
    assert facility["cersId"] == first["facility"]["cersId"]
    assert facility["organization"]["name"] == "New Owner LLC"
    assert facility["complianceStatus"] == "UPDATE_REQUIRED"
    assert [h["action"] for h in facility["history"]] == ["CREATED", "TRANSFERRED"]


async def test_a_consultant_pages_through_their_businesses_by_name(api):
    for n, name in enumerate(["Cedar Co", "Alder Co", "Birch Co"]):
        await business(api, "ann", f"{n} Pine St", name=name)
    query = """query($after: String) { myBusinesses(first: 2, after: $after) { totalCount
      edges { node { name } } pageInfo { hasNextPage endCursor } } }"""
    first = (await api(query, as_="ann"))["data"]["myBusinesses"]
    assert [e["node"]["name"] for e in first["edges"]] == ["Alder Co", "Birch Co"]
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"]
    rest = (await api(query, as_="ann", after=first["pageInfo"]["endCursor"]))["data"]
    assert [e["node"]["name"] for e in rest["myBusinesses"]["edges"]] == ["Cedar Co"]
    assert rest["myBusinesses"]["pageInfo"]["hasNextPage"] is False


async def test_only_editors_of_the_business_may_add_facilities_to_it(api, app):
    created = await business(api, "ann", "1 Main St")
    org = created["organization"]["id"]
    await activate(app, "vic", "vic@example.com")
    add_viewer = """mutation($org: ID!) { addPerson(input: {organizationId: $org,
      email: "vic@example.com", role: VIEWER}) { membership { role } } }"""
    await api(add_viewer, as_="ann", org=org)
    await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    add = """mutation($org: ID!) { addFacility(input: {organizationId: $org, facility: {
      name: "Annex", county: "Plumas", siteAddress: {street: "9 Annex Rd"}}}) {
      facility { cersId } } }"""
    callers = (
        ("bob", "business"),
        ("vic", "business"),
        ("pat", "regulator"),
        ("sync-client", None),
    )
    for caller, portal in callers:
        scope = "statewide:read" if portal is None else "openid"
        denied = await api(add, as_=caller, portal=portal, scope=scope, org=org)
        assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN", caller
    assert (await api(add, org=org))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    added = await api(add, as_="ann", org=org)
    assert added["data"]["addFacility"]["facility"]["cersId"] == 10000002
