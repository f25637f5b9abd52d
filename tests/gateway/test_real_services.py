"""Differential test over our three real services, started the way `make run` starts them,
against @apollo/gateway and Hive Gateway."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from common.natsserver import NatsServerProcess
from scripts.supergraph import SUPERGRAPH
from tests.e2e.system import RunningSystem
from tests.gateway.reference import NodeGateway, has_errors, node_available, with_urls

pytestmark = [
    pytest.mark.needs_node,
    pytest.mark.skipif(not node_available(), reason="needs Node.js and npm"),
]

SECRET = "differential-secret-0123456789"

QUERIES: list[tuple[str, dict[str, Any] | None]] = [
    ("{ facilities(first: 3) { totalCount edges { cursor node { id cersId name county city "
     "complianceStatus annualDueDate organization { id name orgCode } regulator { name kind } "
     "submittalElements { element status submittedAt } } } pageInfo { hasNextPage } } }", None),
    ("{ regulatorAgencies { id name kind counties cities phone } }", None),
    ('query($c: String) { regulatorAgencies(county: $c) { name } }', {"c": "Plumas"}),
    ("{ me { id username } myBusinesses { totalCount } }", None),
    ("{ facilityByCersId(cersId: 10000001) { name currentHmbp { facilityInformation "
     "{ element status submittedBy { username } } } drafts { id } } }", None),
    ('{ facility(id: "00000000-0000-0000-0000-000000000000") { name } }', None),
    ("mutation($i: RegisterAccountInput!) { registerAccount(input: $i) "
     "{ userErrors { field code severity } } }",
     {"i": {"portal": "BUSINESS", "username": "x", "email": "not-an-email", "password": "short",
            "firstName": "A", "lastName": "B", "title": "C", "phone": "1"}}),
]


@pytest.fixture(scope="module")
def real_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSystem, str]]:
    root = tmp_path_factory.mktemp("real")
    nats = NatsServerProcess(root / "nats")
    nats.start()
    system = RunningSystem(root / "var", nats_url=nats.url, demo=True)
    system.start()
    try:
        created = subprocess.run(
            [sys.executable, "-m", "services.identity", "create-client", "differential",
             "--secret", SECRET, "--scope", "statewide:read", "--grant", "client_credentials"],
            env=system.env, capture_output=True, text=True, cwd=Path(__file__).parents[2],
            timeout=120, check=False,
        )
        assert created.returncode == 0, created.stderr
        token = httpx.post(
            system.base_url + "/token", auth=("differential", SECRET), timeout=30,
            data={"grant_type": "client_credentials", "scope": "statewide:read"},
        ).json()["access_token"]
        yield system, token
    finally:
        system.stop()
        nats.stop()


@pytest.fixture(scope="module")
def references(real_system: tuple[RunningSystem, str], tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[dict[str, str]]:
    system, _ = real_system
    path = tmp_path_factory.mktemp("references") / "supergraph.graphql"
    urls = {name: system.url(name) + "/graphql" for name in ("identity", "facility", "submittal")}
    path.write_text(with_urls(SUPERGRAPH.read_text(), urls))
    apollo = NodeGateway("apollo", path).start()
    try:
        hive = NodeGateway("hive-runtime", path).start()
    except BaseException:
        apollo.stop()
        raise
    yield {"apollo": apollo.url, "hive": hive.url}
    apollo.stop()
    hive.stop()


@pytest.mark.parametrize(("query", "variables"), QUERIES)
@pytest.mark.parametrize("caller", ["statewide client", "anonymous"])
def test_our_gateway_answers_like_the_reference_gateways_over_the_real_services(
    real_system: tuple[RunningSystem, str], references: dict[str, str], caller: str, query: str,
    variables: dict[str, Any] | None,
) -> None:
    system, token = real_system
    headers = {"authorization": f"Bearer {token}"} if caller == "statewide client" else {}
    body = {"query": query, "variables": variables or {}}
    ours = httpx.post(system.base_url + "/graphql", json=body, headers=headers, timeout=30)
    assert ours.status_code == 200, ours.text
    for name, url in references.items():
        theirs = httpx.post(url + "/graphql", json=body, headers=headers, timeout=30).json()
        assert ours.json().get("data") == theirs.get("data"), name
        assert has_errors(ours.json()) == has_errors(theirs), (name, ours.json(), theirs)


def test_the_portals_facility_page_of_every_demo_facility_answers_without_errors_in_both(
    real_system: tuple[RunningSystem, str], references: dict[str, str],
) -> None:
    """The history of demo data named made-up actors, and every gateway failed the page."""
    from tests.e2e.system import eventually
    from tests.e2e.test_demo_dataset import facility_page_query

    system, token = real_system
    headers = {"authorization": f"Bearer {token}"}
    find = "query($c: Int!) { facilityByCersId(cersId: $c) { id } }"

    def facility_id(cers_id: int) -> str | None:
        answer = httpx.post(system.base_url + "/graphql", headers=headers, timeout=30, json={
            "query": find, "variables": {"c": cers_id}}).json()
        found = (answer.get("data") or {}).get("facilityByCersId")
        return found["id"] if found else None

    page = {"query": facility_page_query()}
    for cers_id in range(10000001, 10000005):
        page["variables"] = {"id": eventually(lambda c=cers_id: facility_id(c), timeout=60)}
        for gateway in (system.base_url, *references.values()):
            answer = httpx.post(gateway + "/graphql", json=page, headers=headers, timeout=30)
            body = answer.json()
            assert not has_errors(body), (gateway, cers_id, body.get("errors"))
            facility = body["data"]["facility"]
            # A statewide reader sees the facility; its history is for the business and its
            # regulator only.
            assert facility["cersId"] == cers_id and facility["history"] is None, gateway
