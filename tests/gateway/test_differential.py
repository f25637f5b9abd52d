"""The same operations through our gateway and @apollo/gateway over the same subgraphs.

Compared: the data, and whether errors are present. Where @apollo/gateway departs from the
spec, the case says so and we follow the spec.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.conftest import Federation
from tests.gateway.reference import NodeGateway, node_available, with_urls

pytestmark = [
    pytest.mark.needs_node,
    pytest.mark.skipif(not node_available(), reason="needs Node.js and npm"),
]

CASES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("core", "{ me { id username name } }", None),
    ("core", "{ me { name memberships { role organization { name facilities { cersId } } } } }",
     None),
    ("core", "{ facilities { name elements { kind submittedBy { username memberships "
     "{ role organization { name } } } } } }", None),
    ("core", "query Q($id: ID!, $w: Boolean!) { f: facility(id: $id) { __typename t: name "
     "o: organization @include(if: $w) { name } ...F } } fragment F on Facility "
     "{ elementCount }", {"id": "f1", "w": True}),
    ("core", "query Q($id: ID!, $w: Boolean!) { facility(id: $id) { name @skip(if: $w) "
     "organization @include(if: $w) { name } } }", {"id": "f3", "w": False}),
    ("core", '{ facility(id: "nope") { name } }', None),
    ("core", "{ me { id flaky } }", None),
    ("core", '{ facility(id: "f1") { name } mustUser(id: "nobody") { id } }', None),
    ("core", '{ users(ids: ["u1", "u2", "u1", "zz"]) { username memberships '
     "{ organization { name } } } }", None),
    ("core", '{ element(id: "e2") { kind facility { name organization { name } } } }', None),
    ("core", '{ __typename __type(name: "Role") { enumValues { name } } }', None),
    ("requires", "{ topProducts { name shippingEstimate } }", None),
    ("requires", "{ topProducts { shippingEstimate } }", None),
    ("provides", "{ reviews { body author { username } } }", None),
    ("provides", "{ reviews { author { id username karma } } }", None),
    ("shareable", "{ productsA { name price } productsB { name } }", None),
    ("override", "{ products { name inStock } }", None),
    ("abstract", "{ media { __typename title ... on Book { year rating } "
     "... on Movie { rating } } }", None),
    ("abstract", "{ search { __typename ... on Author { name } ... on Media { title } "
     "... on Book { rating } } bestBook { title rating } }", None),
    ("interface_object", "{ accounts { id score ... on Person { name } } }", None),
    ("interface_object", "{ topAccount { __typename id score ... on Company { name } } }",
     None),
    ("multi_hop", "{ items { id rating } }", None),
]


@pytest.fixture(scope="session")
def references(
    federation_factory: Callable[[str], Federation], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], str]]:
    started: dict[str, NodeGateway] = {}
    folder: Path = tmp_path_factory.mktemp("supergraphs")

    def url(name: str) -> str:
        if name not in started:
            federation = federation_factory(name)
            path = folder / f"{name}.graphql"
            path.write_text(with_urls(federation.supergraph_sdl, federation.urls))
            started[name] = NodeGateway("apollo", path).start()
        return started[name].url

    yield url
    for gateway in started.values():
        gateway.stop()


_ours: dict[str, str] = {}


@pytest.mark.parametrize(("name", "query", "variables"), CASES)
async def test_our_gateway_answers_like_apollo_gateway(
    federation_factory: Callable[[str], Federation],
    references: Callable[[str], str],
    name: str,
    query: str,
    variables: dict[str, Any] | None,
) -> None:
    if name not in _ours:
        _ours[name] = federation_factory(name).gateway()
    body = {"query": query, "variables": variables or {}}
    async with httpx.AsyncClient(timeout=30) as http:
        ours = (await http.post(_ours[name] + "/graphql", json=body)).json()
        theirs = (await http.post(references(name) + "/graphql", json=body)).json()
    assert ours.get("data") == theirs.get("data")
    assert bool(ours.get("errors")) == bool(theirs.get("errors")), (ours, theirs)
