"""Journey 8: a client-credentials integration reads facilities across counties."""

from __future__ import annotations

from typing import Any

from tests.e2e import client
from tests.e2e.conftest import DEMO_BUSINESS, DEMO_REGULATOR, OTHER_COUNTY, Actors
from tests.e2e.system import RunningSystem, eventually

PAGE = """query Page($filter: FacilityFilter, $first: Int!, $after: String) {
  facilities(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { cersId name county complianceStatus regulator { name } } }
  }
}"""
SITES = (("Alameda", "Oakland"), ("Sacramento", "Elk Grove"), ("Los Angeles", "Pasadena"))


def all_pages(actors: Actors, caller: str, filter: dict[str, Any] | None,
              first: int = 2) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        body = client.data(actors.gql(caller, PAGE, {"filter": filter, "first": first,
                                                     "after": after}))["facilities"]
        assert len(body["edges"]) <= first
        nodes += [e["node"] for e in body["edges"]]
        if not body["pageInfo"]["hasNextPage"]:
            assert body["totalCount"] == len(nodes)
            return nodes
        after = body["pageInfo"]["endCursor"]


def test_a_statewide_client_pages_through_facilities_of_several_counties_and_filters_them(
    system: RunningSystem, actors: Actors, outsider: str, other_county_regulator: str
) -> None:
    actors.register("mo.multi", first="Mo", last="Multi")
    created = [
        actors.business("mo.multi", f"Multi County Freight {actors.suffix} {county}",
                        county=county, city=city)
        for county, city in SITES
    ]
    ours = {f["facility"]["cersId"] for f in created}
    token = client.client_credentials(system, "state-demo", "state-demo-secret")
    assert token.status_code == 200 and token.json()["scope"] == "statewide:read"

    everything = eventually(lambda: _covering(actors, ours))
    cers_ids = [n["cersId"] for n in everything]
    assert cers_ids == sorted(cers_ids) and len(set(cers_ids)) == len(cers_ids)
    assert {"Plumas", "Alameda", "Sacramento", "Los Angeles"} <= {n["county"] for n in everything}

    alameda = all_pages(actors, "state-demo", {"county": "Alameda"})
    assert [n["name"] for n in alameda] == [
        f"Multi County Freight {actors.suffix} Alameda - Main Site"]
    assert alameda[0]["regulator"]["name"] == (
        "Alameda County Department of Environmental Health")
    plumas = all_pages(actors, "state-demo", {"county": "Plumas"}, first=3)
    assert {n["county"] for n in plumas} == {"Plumas"} and len(plumas) >= 5
    for status in ("CURRENT", "UPDATE_REQUIRED", "OVERDUE", "DUE_SOON"):
        matching = all_pages(actors, "state-demo", {"complianceStatus": status}, first=5)
        assert all(n["complianceStatus"] == status for n in matching)
    both = all_pages(actors, "state-demo", {"county": "Sacramento",
                                            "complianceStatus": "CURRENT"})
    assert [n["county"] for n in both] == ["Sacramento"]

    # Everyone else sees only their own part.
    assert {n["cersId"] for n in all_pages(actors, "mo.multi", None)} == ours
    regulated = all_pages(actors, DEMO_REGULATOR[0], None, first=5)
    assert {n["county"] for n in regulated} == {"Plumas"}
    # (Other journeys may have a facility in its county: never one of these.)
    theirs = all_pages(actors, other_county_regulator, None)
    assert {n["county"] for n in theirs} <= {OTHER_COUNTY}
    assert not {n["cersId"] for n in theirs} & ours
    own = {n["cersId"] for n in all_pages(actors, outsider, None)}
    assert own and not own & ours
    assert not {n["cersId"] for n in all_pages(actors, DEMO_BUSINESS[0], None)} & ours
    anonymous = system.graphql(PAGE, {"first": 5})
    assert client.errors(anonymous) == ["UNAUTHENTICATED"] or (
        anonymous["data"]["facilities"]["edges"] == [])

    # Reading is all it may do.
    update = """mutation($input: UpdateFacilityInput!) { updateFacility(input: $input) {
        userErrors { code } } }"""
    facility_id = created[0]["facility"]["id"]
    refused = actors.gql("state-demo", update, {"input": {"facilityId": facility_id,
                                                          "name": "Renamed by the state"}})
    assert client.errors(refused) == ["FORBIDDEN"], refused
    wrong = client.client_credentials(system, "state-demo", "not-the-secret")
    assert wrong.status_code == 401


def _covering(actors: Actors, cers_ids: set[int]) -> list[dict[str, Any]] | None:
    nodes = all_pages(actors, "state-demo", None, first=3)
    return nodes if cers_ids <= {n["cersId"] for n in nodes} else None
