"""The SQL a hot read sends, counted around real requests to the facility subgraph: one
connection per request and a fixed number of statements whatever the size of the page."""

from __future__ import annotations

from tests.statements import counting

from .helpers import business

FACILITY = """query($id: ID!) { facility(id: $id) { id name county complianceStatus } }"""
# The facility service's part of the portal's Facility page (web/src/pages/Facility.tsx).
FACILITY_PAGE = """query($id: ID!) { facility(id: $id) {
  id cersId name county city complianceStatus annualDueDate certificationOpensOn
  lastAnnualUpdateAt siteAddress { street city state zip } mailingAddress { street city state zip }
  updateRequiredReasons { reason dueBy element } organization { id name }
  regulator { id name phone email website }
  permits { id number issuedAt expiresAt }
  history { id at action changes systemActor { kind name } } } }"""


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
    ids = [(await business(api, "ann", f"{n} Main St", name=f"Fuel {n}"))["facility"]["id"]
           for n in range(3)]
    await api(FACILITY_PAGE, as_="ann", id=ids[0])

    counts = []
    for facility_id in ids:
        with counting(app.db) as counted:
            answer = await api(FACILITY_PAGE, as_="ann", id=facility_id)
        assert answer["data"]["facility"]["id"] == facility_id, answer
        counts.append(len(counted.queries))
        # Resolvers run at once, but their DataLoader batches take turns on one session.
        assert counted.checkouts == 1, counted.sql
    # closed account? with memberships and staff roles, the facility with its reasons, its
    # organization, its permits, its history: whatever the facility, one statement each
    assert counts == [5, 5, 5]


async def test_another_business_reads_nothing_and_anonymous_callers_nothing(api, app):
    created = await business(api, "ann", "1 Main St")
    facility_id = created["facility"]["id"]
    assert (await api(FACILITY, as_="bob", id=facility_id))["data"]["facility"] is None
    anonymous = await api(FACILITY, id=facility_id)
    assert anonymous["data"]["facility"] is None or anonymous.get("errors")
