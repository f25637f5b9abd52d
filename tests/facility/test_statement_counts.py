"""The SQL a hot read sends, counted around real requests to the facility subgraph: one
connection per request and a fixed number of statements whatever the size of the page."""

from __future__ import annotations

from tests.statements import counting

from .helpers import agency, business

FACILITY = """query($id: ID!) { facility(id: $id) { id name county complianceStatus } }"""
# The facility service's part of the portal's Facility page (web/src/pages/Facility.tsx).
FACILITY_PAGE = """query($id: ID!) { facility(id: $id) {
  id cersId name county city complianceStatus annualDueDate certificationOpensOn
  lastAnnualUpdateAt siteAddress { street city state zip } mailingAddress { street city state zip }
  updateRequiredReasons { reason dueBy element } organization { id name }
  regulator { id name phone email website }
  permits { id number issuedAt expiresAt }
  history { id at action changes systemActor { kind name } } } }"""
# The page's second request to this subgraph: the caller's memberships (`me` is identity's).
MEMBERSHIPS = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on User { memberships { role organization { id name } } } } }"""
PERMIT = """mutation($f: ID!) { issuePermit(input: {facilityId: $f, expiresAt: "2027-12-31"}) {
  permit { number } userErrors { message code } } }"""


async def test_one_facility_read_is_one_connection_and_two_statements(api, app):
    created = await business(api, "ann", "1 Main St")
    facility_id = created["facility"]["id"]
    await api(FACILITY, as_="ann", id=facility_id)  # the document is cached from here on

    with counting(app.db) as counted:
        answer = await api(FACILITY, as_="ann", id=facility_id)
    assert answer["data"]["facility"]["id"] == facility_id
    # closed account? with the caller's memberships and staff roles (one statement), the
    # facility with its reasons
    assert len(counted.queries) == 2, counted.sql
    assert counted.checkouts == 1


async def test_the_facility_page_reads_a_fixed_number_of_statements(api, app):
    await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    ids = [(await business(api, "ann", f"{n} Main St", name=f"Fuel {n}"))["facility"]["id"]
           for n in range(3)]
    for facility_id in ids[1:]:
        issued = await api(PERMIT, as_="pat", portal="regulator", f=facility_id)
        assert issued["data"]["issuePermit"]["userErrors"] == [], issued
    await api(FACILITY_PAGE, as_="ann", id=ids[0])

    counts = []
    for facility_id in ids:
        with counting(app.db) as counted:
            answer = await api(FACILITY_PAGE, as_="ann", id=facility_id)
        facility = answer["data"]["facility"]
        assert facility["id"] == facility_id, answer
        assert facility["regulator"]["name"] == "Plumas County Environmental Health"
        assert facility["organization"]["name"] == facility["name"]
        counts.append(len(counted.queries))
        # Resolvers run at once, but their DataLoader batches take turns on one session.
        assert counted.checkouts == 1, counted.sql
    # closed account? with memberships and staff roles, the facility with its reasons, its
    # organization and its regulator, its permits, its history: whatever the facility (with
    # or without permits), one statement each
    assert counts == [4, 4, 4]


async def test_the_facility_page_reads_the_caller_s_memberships_in_two_statements(api, app):
    for n in range(2):
        await business(api, "ann", f"{n} Main St", name=f"Fuel {n}")
    await api(MEMBERSHIPS, as_="ann", r=[{"__typename": "User", "id": "ann"}])

    with counting(app.db) as counted:
        answer = await api(MEMBERSHIPS, as_="ann", r=[{"__typename": "User", "id": "ann"}])
    memberships = answer["data"]["_entities"][0]["memberships"]
    assert [m["role"] for m in memberships] == ["LEAD_USER", "LEAD_USER"], answer
    assert all(m["organization"]["name"].startswith("Fuel ") for m in memberships), answer
    # closed account? with memberships and staff roles; the memberships with their
    # businesses (what the page's `organization { id }` reads)
    assert len(counted.queries) == 2, counted.sql
    assert counted.checkouts == 1


async def test_another_business_reads_nothing_and_anonymous_callers_nothing(api, app):
    created = await business(api, "ann", "1 Main St")
    facility_id = created["facility"]["id"]
    assert (await api(FACILITY, as_="bob", id=facility_id))["data"]["facility"] is None
    anonymous = await api(FACILITY, id=facility_id)
    assert anonymous["data"]["facility"] is None or anonymous.get("errors")
