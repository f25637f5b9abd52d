"""hazardousMaterialSearch: every filter, every sort, every scope rule, through GraphQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.submittal.adapters.search_tables import SearchAudit
from services.submittal.domain.geo import miles_between
from tests.submittal.conftest import Harness
from tests.submittal.flows import NOT_APPLICABLE, REVIEW, SUBMIT, code, ok, save, start
from tests.submittal.search_world import (
    AMMONIA,
    FACILITY_INFORMATION,
    PORTOLA,
    QUINCY,
    SEARCH,
    SITE_MAP,
    SearchWorld,
    build,
    submit,
)


@pytest.fixture
async def w(harness: Harness) -> SearchWorld:
    return await build(harness)


async def test_a_statewide_reader_searches_every_county_by_cas_number(w: SearchWorld):
    result = await w.search("state", {"casNumbers": ["7664-41-7"]})
    assert result["totalCount"] == 2
    names = {e["node"]["facility"]["id"] for e in result["edges"]}
    assert names == {w.sites["quincy"].id, w.sites["los-angeles"].id}
    node = result["edges"][0]["node"]
    assert [m["commonName"] for m in node["materials"]] == ["Anhydrous ammonia"]
    assert node["materials"][0]["position"] == 0
    assert node["inventory"]["element"] == "HAZARDOUS_MATERIALS_INVENTORY"
    assert (node["latitude"], node["longitude"]) == QUINCY


async def test_drafts_are_never_searched_and_the_latest_submission_replaces_the_last(
    w: SearchWorld,
):
    assert await w.names("state", {"casNumbers": ["7782-50-5"]}) == ["portola"]  # not draft-only
    lead, site = w.token("lead"), w.sites["portola"]
    draft = await start(w.h, lead, site.id, "HAZARDOUS_MATERIALS_INVENTORY", "LAST_SUBMITTAL")
    await save(w.h, lead, draft, {"materials": [AMMONIA], "siteMap": SITE_MAP})
    assert await w.names("state", {"casNumbers": ["7782-50-5"]}) == ["portola"]  # still a draft
    ok(await w.h.gql(SUBMIT, lead, f=site.id), "submitDrafts")
    assert await w.names("state", {"casNumbers": ["7782-50-5"]}) == []
    assert "portola" in await w.names("state", {"casNumbers": ["7664-41-7"]})
    # The names a total of "name contains" reads follow the new inventory too.
    assert await w.names("state", {"nameContains": "chlorine"}) == []
    assert await w.names("state", {"nameStartsWith": "chlor"}) == []


async def test_marking_the_inventory_not_applicable_removes_the_facility_from_searches(
    w: SearchWorld,
):
    site = w.sites["greenville"]
    # Business Activities say hazardous materials are on site: answer no first.
    info = {**FACILITY_INFORMATION, "businessActivities": {
        **FACILITY_INFORMATION["businessActivities"], "hazardousMaterialsOnSite": False}}
    token = w.token("other-lead")
    draft = await start(w.h, token, site.id, "FACILITY_INFORMATION")
    await save(w.h, token, draft, info)
    ok(await w.h.gql(SUBMIT, token, f=site.id), "submitDrafts")
    ok(await w.h.gql(NOT_APPLICABLE, token, f=site.id, e="HAZARDOUS_MATERIALS_INVENTORY"),
       "markNotApplicable")
    assert await w.names("state", {"casNumbers": ["7664-93-9"]}) == []


async def test_names_match_by_prefix_and_by_contains_in_any_case(w: SearchWorld):
    assert await w.names("state", {"nameStartsWith": "ANHYD"}) == ["quincy", "los-angeles"]
    assert await w.names("state", {"nameStartsWith": "ammon"}) == ["quincy", "los-angeles"]
    assert await w.names("state", {"nameStartsWith": "hydrous"}) == []
    assert await w.names("state", {"nameContains": "hydrous"}) == ["quincy", "los-angeles"]
    assert await w.names("state", {"nameContains": "LORIN"}) == ["portola"]
    assert await w.names("state", {"nameContains": "100%_"}) == []  # wildcards are literal


async def test_ehs_hazard_category_and_physical_state_filter_one_material_at_a_time(
    w: SearchWorld,
):
    assert await w.names("state", {"ehs": True}) == ["quincy", "portola", "los-angeles",
                                                     "greenville"]
    assert await w.names("state", {"ehs": False, "physicalStates": ["GAS"]}) == ["los-angeles"]
    assert await w.names("state", {"hazardCategories": ["OXIDIZER"]}) == ["portola"]
    assert await w.names("state", {"hazardCategories": ["OXIDIZER", "SKIN_CORROSION_IRRITATION"]}
                         ) == ["portola", "greenville"]
    # Both conditions must hold for the same material: no EHS liquid at Quincy.
    assert await w.names("state", {"ehs": True, "physicalStates": ["LIQUID"]}) == ["greenville"]


async def test_amounts_convert_through_the_density_and_say_what_did_not_convert(
    w: SearchWorld,
):
    # Diesel: 1000 gal at 7.1 lb/gal = 7,100 lb; ammonia 1,500 lb; chlorine 2,000 lb.
    result = await w.search("state", {"maximumDailyAmountAbove": {"amount": 5000,
                                                                  "units": "POUNDS"}})
    assert [e["node"]["facility"]["id"] for e in result["edges"]] == [w.sites["quincy"].id]
    diesel = result["edges"][0]["node"]["materials"][0]
    assert diesel["commonName"] == "Diesel fuel"
    assert diesel["amountInUnits"] == pytest.approx(7100)
    # Gasoline (gallons, no density), propane (cubic feet, no density) and the secret (gallons)
    # cannot be weighed.
    assert result["amountNotConvertible"] == 3
    tons = await w.search("state", {"maximumDailyAmountAbove": {"amount": 0.9, "units": "TONS"}},
                          units="TONS")
    assert len(tons["edges"]) == 2  # 7,100 lb and 2,000 lb
    gallons = await w.search("state", {"maximumDailyAmountAbove": {"amount": 500,
                                                                   "units": "GALLONS"},
                                       "physicalStates": ["LIQUID"]}, units="GALLONS")
    assert {e["node"]["facility"]["id"] for e in gallons["edges"]} == {
        w.sites["quincy"].id, w.sites["portola"].id}
    # A gas reported in cubic feet does not become gallons.
    propane = await w.search("state", {"casNumbers": ["74-98-6"]}, units="GALLONS")
    match = propane["edges"][0]["node"]["materials"][0]
    assert match["amountInUnits"] is None and "gas" in match["conversionProblem"]
    weighed = await w.search("state", {"casNumbers": ["86290-81-5"]}, units="POUNDS")
    assert "density" in weighed["edges"][0]["node"]["materials"][0]["conversionProblem"]


async def test_county_agency_and_compliance_status_filter_facilities(w: SearchWorld):
    assert await w.names("state", {"counties": ["los angeles county"]}) == ["los-angeles"]
    assert await w.names("state", {"agencyIds": [w.la]}) == ["los-angeles"]
    assert await w.names("state", {"complianceStatuses": ["OVERDUE"]}) == ["los-angeles"]
    assert await w.names("state", {"complianceStatuses": ["DUE_SOON"]}) == ["portola"]
    assert await w.names("state", {"complianceStatuses": ["UPDATE_REQUIRED"]}) == ["greenville"]
    assert await w.names("state", {"complianceStatuses": ["CURRENT"]}) == ["quincy"]
    result = await w.search("state", {"casNumbers": ["7664-41-7"]})
    assert [e["node"]["complianceStatus"] for e in result["edges"]] == ["CURRENT", "OVERDUE"]


async def test_compliance_follows_facility_events(w: SearchWorld):
    from common.contracts import facility as contract
    from tests.submittal.search_world import facility_snapshot

    site = w.sites["quincy"]
    import datetime as dt

    await w.h.publish(contract.DUE_DATE_CHANGED, site.id, contract.DueDateChanged(
        facility_id=site.id, annual_due_date=dt.date.today() - dt.timedelta(days=1),
        previous_due_date=dt.date(2030, 3, 1), cause="FACILITY").model_dump(mode="json"))
    await w.h.settle()
    assert await w.names("state", {"complianceStatuses": ["OVERDUE"]}) == ["quincy",
                                                                           "los-angeles"]
    snapshot = facility_snapshot(site, "quincy", update_due_by=dt.date.today())
    await w.h.publish(contract.FACILITY_COMPLIANCE_CHANGED, site.id,
                      contract.FacilityComplianceChanged(facility=snapshot, reasons=[
                          contract.OpenReason(reason="CORRECTION", due_by=dt.date.today(),
                                              element="UST")]).model_dump(mode="json"))
    await w.h.settle()
    assert "quincy" in await w.names("state", {"complianceStatuses": ["UPDATE_REQUIRED"]})


async def test_distance_filters_by_radius_and_sorts_nearest_first(w: SearchWorld):
    near = {"latitude": PORTOLA[0], "longitude": PORTOLA[1], "radiusMiles": 40}
    result = await w.search("state", {"near": near}, sort="DISTANCE")
    names = [next(n for n, s in w.sites.items() if s.id == e["node"]["facility"]["id"])
             for e in result["edges"]]
    assert names == ["portola", "quincy", "greenville"]
    distances = [e["node"]["distanceMiles"] for e in result["edges"]]
    assert distances[0] == pytest.approx(0, abs=1e-6)
    assert distances[1] == pytest.approx(miles_between(*PORTOLA, *QUINCY))
    assert distances == sorted(distances)
    assert await w.names("state", {"near": {**near, "radiusMiles": 20}}) == ["portola"]
    # A responder's question: EHS within 30 miles of Quincy.
    quincy = {"latitude": QUINCY[0], "longitude": QUINCY[1], "radiusMiles": 30}
    assert await w.names("state", {"near": quincy, "ehs": True}, sort="DISTANCE") == [
        "quincy", "greenville", "portola"]


async def test_amount_sort_puts_the_largest_first_and_pages_without_repeats(w: SearchWorld):
    flt = {"physicalStates": ["GAS", "LIQUID"]}
    seen, after = [], None
    while True:
        page = await w.search("state", flt, sort="AMOUNT", units="POUNDS", first=1, after=after)
        seen += [e["node"]["facility"]["id"] for e in page["edges"]]
        amounts = [max((m["amountInUnits"] or -1) for m in e["node"]["materials"])
                   for e in page["edges"]]
        assert len(amounts) == 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    ids = {n: s.id for n, s in w.sites.items()}
    # Quincy 7,100 lb of diesel; Portola 2,000 lb; Greenville 900 lb; LA 300 lb.
    assert seen == [ids["quincy"], ids["portola"], ids["greenville"], ids["los-angeles"]]


async def test_every_sort_pages_through_every_result_once(w: SearchWorld):
    near = {"latitude": QUINCY[0], "longitude": QUINCY[1], "radiusMiles": 250}
    for sort in ("CERS_ID", "DISTANCE", "AMOUNT"):
        seen, after = [], None
        for _ in range(10):
            page = await w.search("state", {"near": near}, sort=sort, first=1, after=after)
            seen += [e["node"]["facility"]["id"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(seen) == len(set(seen)) == 3, sort  # LA is beyond 250 miles
    # A cursor of one sort is refused by another.
    page = await w.search("state", {"near": near}, sort="DISTANCE", first=1)
    body = await w.h.gql(SEARCH, w.token("state"), f={"near": near}, sort="AMOUNT",
                         after=page["pageInfo"]["endCursor"])
    assert code(body) == "BAD_USER_INPUT"


async def test_a_regulator_sees_its_jurisdiction_only(w: SearchWorld):
    assert await w.names("insp-plumas", {"ehs": True}) == ["quincy", "portola", "greenville"]
    assert await w.names("insp-la", {"ehs": True}) == ["los-angeles"]
    # Naming another agency does not widen the scope.
    assert await w.names("insp-la", {"agencyIds": [w.plumas]}) == []


async def test_a_business_sees_only_its_own_facilities(w: SearchWorld):
    assert await w.names("lead", {"ehs": True}) == ["quincy", "portola", "los-angeles"]
    assert await w.names("other-lead", {}) == ["greenville"]
    assert await w.names("stranger", {}) == []


async def test_anonymous_callers_are_refused(w: SearchWorld):
    body = await w.h.gql(SEARCH, None, f={"ehs": True})
    assert code(body) == "UNAUTHENTICATED"


async def test_a_statewide_reader_never_finds_or_sees_a_trade_secret_identity(w: SearchWorld):
    for flt in ({"casNumbers": ["67-64-1"]}, {"nameContains": "acetone"},
                {"nameStartsWith": "proprietary"}):
        assert await w.names("state", flt) == [], flt
        # Its business and its regulator find it.
        assert await w.names("lead", flt) == ["quincy"], flt
        assert await w.names("insp-plumas", flt) == ["quincy"], flt
        # A statewide token whose holder is also a member of the business finds it too.
        assert await w.names("state-insp", flt) == ["quincy"], flt
    # Other filters still match it, with its identity withheld as everywhere else.
    result = await w.search("state", {"counties": ["Plumas"], "physicalStates": ["LIQUID"],
                                      "ehs": False, "maximumDailyAmountAbove": {
                                          "amount": 50, "units": "GALLONS"}}, units="GALLONS")
    quincy = next(e["node"] for e in result["edges"]
                  if e["node"]["facility"]["id"] == w.sites["quincy"].id)
    secret = next(m for m in quincy["materials"] if m["tradeSecret"])
    assert secret["commonName"] == secret["chemicalName"] == "WITHHELD"
    assert secret["casNumber"] is None and "casNumber" in secret["withheld"]
    own = await w.search("lead", {"casNumbers": ["67-64-1"]})
    mine = own["edges"][0]["node"]["materials"][0]
    assert mine["commonName"] == "Proprietary blend X" and mine["withheld"] == []


async def test_inventory_status_follows_the_review(w: SearchWorld):
    result = await w.search("insp-la", {"casNumbers": ["74-98-6"]})
    inventory = result["edges"][0]["node"]["inventory"]["id"]
    ok(await w.h.gql(REVIEW, w.token("insp-la"), id=inventory, a="ACCEPT", c=None),
       "reviewSubmittalElement")
    assert await w.names("state", {"inventoryStatuses": ["ACCEPTED"]}) == ["los-angeles"]
    accepted = await w.search("state", {"inventoryStatuses": ["ACCEPTED"]})
    assert accepted["edges"][0]["node"]["inventoryStatus"] == "ACCEPTED"


async def test_bad_filters_are_refused_with_the_field_to_fix(w: SearchWorld):
    cases = [
        ({"casNumbers": ["7664-41-8"]}, "check digit"),
        ({"counties": ["Atlantis"]}, "Atlantis"),
        ({"nameContains": "ab"}, "3 characters"),
        ({"near": {"latitude": 40.7, "longitude": -74.0, "radiusMiles": 5}}, "not in California"),
        ({"near": {"latitude": 39.9, "longitude": -120.9, "radiusMiles": 5000}}, "radius"),
    ]
    for flt, message in cases:
        body = await w.h.gql(SEARCH, w.token("state"), f=flt)
        assert code(body) == "BAD_USER_INPUT", flt
        assert message in body["errors"][0]["message"], body
    body = await w.h.gql(SEARCH, w.token("state"), f={}, sort="DISTANCE")
    assert code(body) == "BAD_USER_INPUT"


async def test_every_search_is_audit_logged_with_who_what_and_how_many(w: SearchWorld):
    await w.search("insp-plumas", {"casNumbers": ["7664-41-7"]})
    await w.search("lead", {"ehs": True})
    async with w.h.deps.db.read() as session:
        rows = list((await session.execute(select(SearchAudit).order_by(SearchAudit.id)))
                    .scalars())
    assert [(r.actor, r.action, r.result_count) for r in rows[-2:]] == [
        ("insp-plumas", "SEARCH", 1), ("lead", "SEARCH", 3)]
    assert rows[-2].filter["cas_numbers"] == ["7664-41-7"]


async def test_a_reported_point_must_be_in_california_and_in_the_facilitys_county(
    w: SearchWorld,
):
    token, site = w.token("lead"), w.sites["quincy"]
    draft = await start(w.h, token, site.id, "FACILITY_INFORMATION", "LAST_SUBMITTAL")
    for point, problem in (((34.05, -118.24), "OUTSIDE_COUNTY"),
                           ((40.71, -74.0), "OUTSIDE_CALIFORNIA"),
                           ((39.93, 120.94), "OUTSIDE_CALIFORNIA")):
        result = await save(w.h, token, draft, {**FACILITY_INFORMATION, "geographicLocation": {
            "latitude": point[0], "longitude": point[1]}})
        assert [e["code"] for e in result["findings"]] == [problem], result
    result = await save(w.h, token, draft, {**FACILITY_INFORMATION,
                                            "geographicLocation": {"latitude": 39.9}})
    assert [e["field"] for e in result["findings"]] == [["geographicLocation", "longitude"]]
    refused = ok(await w.h.gql(SUBMIT, token, f=site.id), "submitDrafts")
    assert refused["userErrors"], refused


async def test_a_new_point_moves_the_facility(w: SearchWorld):
    await submit(w, "lead", w.sites["quincy"], None, PORTOLA)
    near = {"latitude": PORTOLA[0], "longitude": PORTOLA[1], "radiusMiles": 1}
    assert await w.names("state", {"near": near}) == ["quincy", "portola"]


async def test_the_total_is_exact_up_to_its_bound_and_says_when_it_stopped(w: SearchWorld):
    import datetime as dt

    from services.submittal.domain.search import SearchFilter
    from services.submittal.service_layer.search import Scope, count

    async with w.h.deps.db.read() as session:
        total, _ = await count(session, Scope(True), SearchFilter(ehs=True), dt.date.today())
        assert (total.value, total.exact) == (4, True)
        total, _ = await count(session, Scope(True), SearchFilter(ehs=True), dt.date.today(),
                               limit=3)
        assert (total.value, total.exact) == (3, False)
    body = await w.h.gql("query { hazardousMaterialSearch { totalCount totalCountIsExact } }",
                         w.token("state"))
    assert ok(body, "hazardousMaterialSearch") == {"totalCount": 4, "totalCountIsExact": True}
