"""Who reads a facility's history, and what a page looks like when submittal is down."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from common.natsserver import free_port
from tests.e2e.conftest import DEMO_BUSINESS, DEMO_REGULATOR, Actors
from tests.e2e.system import ROOT, RunningSystem, eventually

HISTORY = """query($id: ID!) { facility(id: $id) { name
  history { action actor { id username } } } }"""


def test_history_is_for_lead_users_and_regulators_never_statewide_readers(
    system: RunningSystem, actors: Actors, facility_id: str
) -> None:
    lead = actors.gql(DEMO_BUSINESS[0], HISTORY, {"id": facility_id})
    assert lead["data"]["facility"]["history"], lead
    regulator = actors.gql(DEMO_REGULATOR[0], HISTORY, {"id": facility_id})
    assert regulator["data"]["facility"]["history"] is not None
    for body in (lead, regulator):
        assert all(e.get("extensions", {}).get("code") for e in body.get("errors", [])), body
    state = actors.gql("state-demo", HISTORY, {"id": facility_id})
    assert "errors" not in state, state
    assert state["data"]["facility"]["history"] is None
    assert state["data"]["facility"]["name"] == lead["data"]["facility"]["name"]
    anonymous = system.graphql(HISTORY, {"id": facility_id})
    assert anonymous["data"]["facility"] is None


@pytest.fixture
def gateway_without_submittal(system: RunningSystem) -> Iterator[str]:
    """A second gateway of the same system whose submittal is unreachable."""
    yield from _gateway_without(system, "submittal")


@pytest.fixture
def gateway_without_facility(system: RunningSystem) -> Iterator[str]:
    """A second gateway of the same system whose facility service is unreachable."""
    yield from _gateway_without(system, "facility")


def _gateway_without(system: RunningSystem, service: str) -> Iterator[str]:
    port, ops = free_port(), free_port()
    env = {**system.env, "GATEWAY_PORT": str(port), "GATEWAY_OPS_PORT": str(ops),
           f"{service.upper()}_URL": f"http://127.0.0.1:{free_port()}"}
    process = subprocess.Popen([sys.executable, "-m", "gateway"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: _up(base), timeout=60)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_failing_subgraph_nulls_only_its_own_fields_with_one_error_per_path(
    actors: Actors, gateway_without_submittal: str
) -> None:
    page = """{ myBusinesses(first: 5) { edges { node { name facilities(first: 20) { edges {
      node { name cersId drafts { id } submittalElements { id } } } } } } } }"""
    token = actors.token(DEMO_BUSINESS[0])
    body = httpx.post(gateway_without_submittal + "/graphql", json={"query": page},
                      headers={"authorization": f"Bearer {token}"}, timeout=30).json()
    assert body["data"], body
    facilities = [edge["node"] for business in body["data"]["myBusinesses"]["edges"]
                  for edge in business["node"]["facilities"]["edges"]]
    assert facilities and all(f["name"] and f["cersId"] for f in facilities), body
    assert all(f["drafts"] is None and f["submittalElements"] is None for f in facilities)
    paths = [tuple(e["path"]) for e in body["errors"]]
    assert len(paths) == len(set(paths)) == len(facilities), json.dumps(body["errors"])[:500]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAVAILABLE"}
    assert {e["extensions"]["serviceName"] for e in body["errors"]} == {"submittal"}


def test_the_review_queue_keeps_its_rows_when_the_facility_service_is_down(
    actors: Actors, gateway_without_facility: str
) -> None:
    queue = """{ reviewQueue(first: 10) { edges { node { id element status
      facility { name cersId } } } } }"""
    token = actors.token(DEMO_REGULATOR[0])
    body = httpx.post(gateway_without_facility + "/graphql", json={"query": queue},
                      headers={"authorization": f"Bearer {token}"}, timeout=30).json()
    assert body["data"] and body["data"]["reviewQueue"], body
    rows = [edge["node"] for edge in body["data"]["reviewQueue"]["edges"]]
    assert rows and all(r["id"] and r["element"] and r["status"] for r in rows), body
    assert all(r["facility"] is None for r in rows)
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAVAILABLE"}


def test_a_material_search_keeps_its_matches_when_the_facility_service_is_down(
    actors: Actors, gateway_without_facility: str
) -> None:
    search = """{ hazardousMaterialSearch(filter: {casNumbers: ["7664-41-7"]}, first: 10) {
      edges { node { distanceMiles matchingMaterialCount materials { casNumber }
        facility { name cersId } } } } }"""
    token = actors.token(DEMO_REGULATOR[0])
    body = httpx.post(gateway_without_facility + "/graphql", json={"query": search},
                      headers={"authorization": f"Bearer {token}"}, timeout=30).json()
    assert body["data"] and body["data"]["hazardousMaterialSearch"], body
    rows = [edge["node"] for edge in body["data"]["hazardousMaterialSearch"]["edges"]]
    assert rows, body
    assert all(r["materials"] == [{"casNumber": "7664-41-7"}] for r in rows), body
    assert all(r["facility"] is None for r in rows)
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAVAILABLE"}
