"""The demo dataset `make run` seeds on an empty database, and when it must not."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest

from tests.e2e import client
from tests.e2e.conftest import (
    DEMO_BUSINESS,
    DEMO_REGULATOR,
    REGISTER,
    Actors,
    own_nats,
    run_operator_command,
)
from tests.e2e.system import ROOT, RunningSystem, eventually

COUNTIES = (
    "Alameda", "Alpine", "Amador", "Butte", "Calaveras", "Colusa", "Contra Costa", "Del Norte",
    "El Dorado", "Fresno", "Glenn", "Humboldt", "Imperial", "Inyo", "Kern", "Kings", "Lake",
    "Lassen", "Los Angeles", "Madera", "Marin", "Mariposa", "Mendocino", "Merced", "Modoc",
    "Mono", "Monterey", "Napa", "Nevada", "Orange", "Placer", "Plumas", "Riverside",
    "Sacramento", "San Benito", "San Bernardino", "San Diego", "San Francisco", "San Joaquin",
    "San Luis Obispo", "San Mateo", "Santa Barbara", "Santa Clara", "Santa Cruz", "Shasta",
    "Sierra", "Siskiyou", "Solano", "Sonoma", "Stanislaus", "Sutter", "Tehama", "Trinity",
    "Tulare", "Tuolumne", "Ventura", "Yolo", "Yuba",
)
AGENCIES = "{ regulatorAgencies { name kind counties phone website } }"
DEMO_FACILITIES = """{ myBusinesses(first: 5) { edges { node { name orgCode
  facilities(first: 50) { totalCount edges { node { cersId county regulator { name }
    currentHmbp {
      facilityInformation { status }
      hazardousMaterialsInventory { status hazardousMaterials { totalCount } }
      emergencyResponseTrainingPlans { status }
    } } } } } } } }"""


def test_make_run_prints_the_demo_accounts_and_where_everything_is(
    system: RunningSystem, actors: Actors
) -> None:
    banner = system.banner()
    assert f"{system.base_url}/graphql" in banner
    assert f"{system.base_url}/.well-known/openid-configuration" in banner
    for name in ("identity", "facility", "submittal", "gateway"):
        assert system.url(name) in banner
    # The accounts follow the URLs in the same banner; wait for the whole of it to be read.
    eventually(lambda: "demo.plumas / Demo-Plumas-2026!" in system.banner())
    assert "demo.business / Demo-Business-2026!" in system.banner()


def test_the_demo_has_every_county_real_cupas_a_business_its_hmbp_a_regulator_and_a_client(
    system: RunningSystem, actors: Actors
) -> None:
    # In a few operations, since the gateway limits the aliases of one.
    for chunk in (COUNTIES[i:i + 20] for i in range(0, len(COUNTIES), 20)):
        counties = " ".join(
            f'c{i}: facilities(filter: {{county: "{name}"}}, first: 1) {{ totalCount }}'
            for i, name in enumerate(chunk)
        )
        answer = actors.gql("state-demo", "{ " + counties + " }")
        assert client.errors(answer) == [] and len(client.data(answer)) == len(chunk), answer
    unknown = actors.gql("state-demo",
                         '{ facilities(filter: {county: "Atlantis"}) { totalCount } }')
    assert client.errors(unknown) == ["BAD_USER_INPUT"]

    agencies = {a["name"]: a for a in client.data(actors.gql("state-demo", AGENCIES))[
        "regulatorAgencies"]}
    plumas = agencies["Plumas County Environmental Health"]
    assert plumas["kind"] == "CUPA" and plumas["counties"] == ["Plumas"]
    assert plumas["phone"] and plumas["website"]
    assert len([a for a in agencies.values() if a["kind"] == "CUPA" and a["website"]]) >= 4

    [business] = client.data(actors.gql(DEMO_BUSINESS[0], DEMO_FACILITIES))["myBusinesses"][
        "edges"]
    facilities = [e["node"] for e in business["node"]["facilities"]["edges"]]
    assert business["node"]["name"] == "Feather River Fuel & Supply"
    assert len(facilities) >= 3
    for facility in facilities:
        assert facility["county"] == "Plumas"
        assert facility["regulator"]["name"] == "Plumas County Environmental Health"
        hmbp = facility["currentHmbp"]
        assert all(hmbp[k] for k in hmbp), f"{facility['cersId']} lacks part of its HMBP"
        assert 24 <= hmbp["hazardousMaterialsInventory"]["hazardousMaterials"]["totalCount"]

    staff = client.data(actors.gql(DEMO_REGULATOR[0], """{ myAgencies {
        name staff { role user { username } } } }"""))["myAgencies"]
    assert [(s["user"]["username"], s["role"]) for s in staff[0]["staff"]] == [
        ("demo.plumas", "ADMIN")]

    token = client.client_credentials(system, "state-demo", "state-demo-secret")
    assert token.status_code == 200 and token.json()["scope"] == "statewide:read"


@pytest.fixture(scope="module")
def without_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RunningSystem]]:
    """Two systems on empty databases: one with DEMO=0, one in production configuration."""
    off_dir, production_dir = (tmp_path_factory.mktemp(n) for n in ("demo-off", "production"))
    with own_nats(off_dir) as off_nats, own_nats(production_dir) as production_nats:
        off = RunningSystem(off_dir / "var", off_nats, demo=False)
        production = RunningSystem(production_dir / "var", production_nats, demo=True)
        production.env["ENVIRONMENT"] = "production"
        # Production never makes its own signing key; the operator provides one.
        run_operator_command(production, "-m", "services.identity", "rotate-keys")
        starting = [threading.Thread(target=s.start) for s in (off, production)]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
        try:
            yield [off, production]
        finally:
            for running in (off, production):
                if running.process:
                    running.stop()


def test_demo_0_or_production_configuration_seeds_nothing(
    without_demo: list[RunningSystem],
) -> None:
    for running in without_demo:
        assert "CERS is running" in running.banner(), "".join(running.output[-40:])
        # The demo user names are free: no demo account was made.
        for username, password in (DEMO_BUSINESS, DEMO_REGULATOR):
            taken = running.graphql(REGISTER, {"input": {
                "portal": "BUSINESS", "username": username, "password": password,
                "email": f"{username}@example.org", "firstName": "Not", "lastName": "Demo",
            }})
            assert client.payload(taken, "registerAccount")["userErrors"] == [], taken
        assert client.client_credentials(running, "state-demo", "state-demo-secret"
                                         ).status_code == 401
        assert client.data(running.graphql(AGENCIES)) == {"regulatorAgencies": []}
        assert "Demo accounts" not in running.banner()
        assert "Demo-Business-2026!" not in "".join(running.output)


def facility_page_query() -> str:
    """The query the portal's Facility page sends, read from its source."""
    source = (ROOT / "web" / "src" / "pages" / "Facility.tsx").read_text()
    found = re.search(r"const FACILITY = gql`(.*?)`;", source, re.DOTALL)
    assert found, "web/src/pages/Facility.tsx no longer defines its FACILITY query"
    return found.group(1)


DEMO_IDS = """{ myBusinesses { edges { node { facilities(first: 50) {
  edges { node { id cersId name } } } } } } }"""
HISTORY_ACTORS = """query($id: ID!) { facility(id: $id) {
  history { action actor { username } systemActor { kind name } } } }"""


def test_the_facility_page_of_every_demo_facility_answers_without_errors(
    system: RunningSystem, actors: Actors
) -> None:
    query = facility_page_query()
    [business] = client.data(actors.gql(DEMO_BUSINESS[0], DEMO_IDS))["myBusinesses"]["edges"]
    demo = [e["node"] for e in business["node"]["facilities"]["edges"]
            if e["node"]["name"].startswith("Feather River")]
    assert len(demo) >= 4
    for facility in demo:
        for reader in (DEMO_BUSINESS[0], DEMO_REGULATOR[0]):
            answer = actors.gql(reader, query, {"id": facility["id"]})
            assert "errors" not in answer, (reader, facility["name"], answer["errors"])
            page = answer["data"]["facility"]
            assert page["id"] == facility["id"] and page["history"], reader
        # Every entry names a real person (the demo accounts made the demo data) or a system
        # actor by kind and name; none names an id no account has.
        history = client.data(actors.gql(DEMO_BUSINESS[0], HISTORY_ACTORS,
                                         {"id": facility["id"]}))["facility"]["history"]
        for entry in history:
            assert (entry["actor"] is None) != (entry["systemActor"] is None), entry
        made = [e for e in history if e["action"] in ("CREATED", "ELEMENT_SUBMITTED",
                                                       "HMBP_CERTIFIED")]
        assert made and {e["actor"]["username"] for e in made if e["actor"]} <= {
            DEMO_BUSINESS[0], DEMO_REGULATOR[0]} | set(actors.names.values())
        assert made[0]["actor"] == {"username": DEMO_BUSINESS[0]}


ADD_FACILITY = """mutation Add($input: AddFacilityInput!) {
  addFacility(input: $input) { facility { id cersId } userErrors { code message } } }"""
HMBP_NOW = """query($id: ID!) { facility(id: $id) { submittalElements { status } currentHmbp {
  facilityInformation { id } } } }"""
START_BLANK = """mutation($input: StartSubmittalInput!) { startSubmittal(input: $input) {
  element { id status } userErrors { code } } }"""


def test_a_facility_added_to_the_demo_business_gets_no_made_up_inventory(
    system: RunningSystem, actors: Actors
) -> None:
    org_id = client.data(actors.gql(DEMO_BUSINESS[0], "{ myBusinesses { edges { node { id } } } }"
                                    ))["myBusinesses"]["edges"][0]["node"]["id"]
    added = client.payload(actors.gql(DEMO_BUSINESS[0], ADD_FACILITY, {"input": {
        "organizationId": org_id, "facility": {
            "name": f"Feather River Fuel - Taylorsville {actors.suffix}", "county": "Plumas",
            "city": "Taylorsville",
            "siteAddress": {"street": f"{len(actors.suffix)}0 Nelson Street",
                            "city": "Taylorsville"}}}}), "addFacility")["facility"]

    def known_to_submittal() -> bool:
        body = actors.gql(DEMO_BUSINESS[0], START_BLANK, {"input": {
            "facilityId": added["id"], "element": "EMERGENCY_RESPONSE_TRAINING_PLANS",
            "basedOn": "BLANK"}})
        return not client.errors(body)

    # Once submittal has the facility (a draft can be started), it has nothing submitted.
    eventually(known_to_submittal, timeout=30)
    seen = client.data(actors.gql(DEMO_BUSINESS[0], HMBP_NOW, {"id": added["id"]}))["facility"]
    assert seen["currentHmbp"] is None or seen["currentHmbp"]["facilityInformation"] is None
    assert [e for e in seen["submittalElements"] if e["status"] != "DRAFT"] == []
