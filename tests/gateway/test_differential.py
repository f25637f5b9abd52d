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

from common.natsserver import free_port
from tests.gateway.conftest import Federation
from tests.gateway.reference import NodeGateway, has_errors, node_available, with_urls

pytestmark = [
    pytest.mark.needs_node,
    pytest.mark.skipif(not node_available(), reason="needs Node.js and npm"),
]

DOWN = "core with elements down"
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
    ("composite_key", "{ seats { label booked } }", None),
    # A subgraph that is down: only what it owns is null, with spec null propagation.
    (DOWN, '{ me { name } facility(id: "f1") { name elementCount } }', None),
    (DOWN, "{ facilities { name } element(id: \"e1\") { kind } }", None),
    (DOWN, '{ facility(id: "f2") { name elements { kind } } me { username } }', None),
]


@pytest.fixture(scope="session")
def references(
    federation_factory: Callable[[str], Federation], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    folder: Path = tmp_path_factory.mktemp("supergraphs")
    paths: dict[str, Path] = {}
    for name in sorted({case[0] for case in CASES}):
        federation = federation_factory("core" if name == DOWN else name)
        paths[name] = folder / f"{name.replace(' ', '-')}.graphql"
        paths[name].write_text(with_urls(federation.supergraph_sdl, _urls(name, federation)))
    first, *rest = paths.values()
    gateway = NodeGateway("apollo", first, tuple(rest)).start()
    yield {name: gateway.urls[path] for name, path in paths.items()}
    gateway.stop()


_ours: dict[str, str] = {}
_dead = f"http://127.0.0.1:{free_port()}"


def _urls(name: str, federation: Federation) -> dict[str, str]:
    return {**federation.urls, "elements": _dead} if name == DOWN else federation.urls


@pytest.mark.parametrize(("name", "query", "variables"), CASES)
async def test_our_gateway_answers_like_apollo_gateway(
    federation_factory: Callable[[str], Federation],
    references: dict[str, str],
    name: str,
    query: str,
    variables: dict[str, Any] | None,
) -> None:
    if name not in _ours:
        federation = federation_factory("core" if name == DOWN else name)
        # Conformance, not limits: the test subgraphs declare no @listSize.
        _ours[name] = federation.gateway(urls=_urls(name, federation), max_cost=10**7)
    body = {"query": query, "variables": variables or {}}
    async with httpx.AsyncClient(timeout=30) as http:
        ours = (await http.post(_ours[name] + "/graphql", json=body)).json()
        theirs = (await http.post(references[name] + "/graphql", json=body)).json()
    assert ours.get("data") == theirs.get("data")
    assert has_errors(ours) == has_errors(theirs), (ours, theirs)
