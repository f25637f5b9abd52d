from __future__ import annotations

from tests.submittal.conftest import World
from tests.submittal.flows import ELEMENT, SUBMIT, draft_hmbp, ok

QUEUE = """query($first: Int!, $after: String, $filter: ReviewQueueFilter) {
  reviewQueue(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id element status facility { id } } }
    pageInfo { hasNextPage endCursor } } }"""


async def submit_hmbp(world: World, facility: str, editor: str, approver: str) -> None:
    await draft_hmbp(world.h, world.t(editor), facility)
    ok(await world.h.gql(SUBMIT, world.t(approver), f=facility), "submitDrafts")


async def test_the_queue_pages_by_keyset_within_the_callers_jurisdiction(world: World):
    h = world.h
    await submit_hmbp(world, world.facility, "editor", "approver")
    await submit_hmbp(world, world.other_facility, "outsider", "outsider")

    seen, after = [], None
    while True:
        page = ok(await h.gql(QUEUE, world.t("viewer-reg"), first=2, after=after),
                  "reviewQueue")
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 3 and len({n["id"] for n in seen}) == 3
    assert {n["facility"]["id"] for n in seen} == {world.facility}

    other = ok(await h.gql(QUEUE, world.t("other-inspector"), first=10), "reviewQueue")
    assert {e["node"]["facility"]["id"] for e in other["edges"]} == {world.other_facility}
    business = ok(await h.gql(QUEUE, world.t("lead"), first=10), "reviewQueue")
    assert business["edges"] == []
    state = ok(await h.gql(QUEUE, h.token("state-reader", "state"), first=10), "reviewQueue")
    assert len(state["edges"]) == 6
    only = ok(await h.gql(QUEUE, world.t("inspector"), first=10,
                          filter={"element": "FACILITY_INFORMATION"}), "reviewQueue")
    assert [e["node"]["element"] for e in only["edges"]] == ["FACILITY_INFORMATION"]


async def test_statewide_readers_see_trade_secrets_and_confidential_locations_withheld(
    world: World,
):
    h = world.h
    ids = await draft_hmbp(h, world.t("editor"), world.facility)
    ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    inventory = ids["HAZARDOUS_MATERIALS_INVENTORY"]

    def secret(element: dict) -> dict:
        return element["hazardousMaterials"]["edges"][1]["node"]

    for user in ("viewer", "inspector"):
        element = ok(await h.gql(ELEMENT, world.t(user), id=inventory), "submittalElement")
        assert secret(element) == {"commonName": "Proprietary blend X", "casNumber": "67-64-1",
                                   "location": "Vault B", "withheld": []}
    for token in (h.token("state-reader", "state"),
                  h.token("integration", None, scope="statewide:read", client_id="integration")):
        element = ok(await h.gql(ELEMENT, token, id=inventory), "submittalElement")
        node = secret(element)
        assert node["commonName"] == "WITHHELD" and node["casNumber"] is None
        assert node["location"] == "WITHHELD"
        assert {"commonName", "casNumber", "location"} <= set(node["withheld"])
        raw = element["data"]["materials"][1]
        assert "Secret solvent" not in str(raw) and "Vault B" not in str(raw)
        assert "67-64-1" not in str(element["data"])
    # Another county's regulator does not see the element at all.
    assert ok(await h.gql(ELEMENT, world.t("other-inspector"), id=inventory),
              "submittalElement") is None


async def test_a_cupa_covering_several_counties_filters_its_queue_by_county(world: World):
    h = world.h
    sierra = await h.facility(world.org, world.agency, name="Sierra Site", county="Sierra",
                              site_address={"street": "9 Main St", "city": "Downieville"})
    await h.settle()
    await submit_hmbp(world, world.facility, "editor", "approver")
    await submit_hmbp(world, sierra, "editor", "approver")
    await submit_hmbp(world, world.other_facility, "outsider", "outsider")

    def facilities(page: dict) -> list[str]:
        return sorted({e["node"]["facility"]["id"] for e in page["edges"]})

    inspector = world.t("inspector")
    for county, expected in (("Sierra", [sierra]), ("plumas", [world.facility]),
                             ("Atlantis", [])):
        page = ok(await h.gql(QUEUE, inspector, first=20, filter={"county": county}),
                  "reviewQueue")
        assert facilities(page) == expected, county
    # The filter narrows the caller's jurisdiction, never widens it.
    other = ok(await h.gql(QUEUE, world.t("other-inspector"), first=20,
                           filter={"county": "Sierra"}), "reviewQueue")
    assert other["edges"] == []
    state = ok(await h.gql(QUEUE, h.token("state-reader", "state"), first=20,
                           filter={"county": "Plumas"}), "reviewQueue")
    assert facilities(state) == sorted([world.facility, world.other_facility])
