"""The same operations through our gateway, @apollo/gateway and Hive Gateway over the same
subgraphs (served at urls that do not end in /graphql).

Compared: the data, and whether errors are present. Where a reference departs from the spec,
the case says so (``Deviation``) and we follow the spec.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
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

REFERENCES = ("apollo", "hive")


@dataclass(frozen=True)
class Deviation:
    """A reference gateway answers against the spec here: we answer ``data`` (and errors or
    not) as the spec says, and the test checks that the reference still deviates as noted."""

    reference: str
    why: str
    data: Any
    errors: bool


DOWN = "core with elements down"
CASES: list[tuple[Any, ...]] = [
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
) -> Iterator[dict[str, dict[str, str]]]:
    folder: Path = tmp_path_factory.mktemp("supergraphs")
    paths: dict[str, Path] = {}
    for name in sorted({case[0] for case in CASES}):
        federation = federation_factory("core" if name == DOWN else name)
        paths[name] = folder / f"{name.replace(' ', '-')}.graphql"
        paths[name].write_text(with_urls(federation.supergraph_sdl, _urls(name, federation)))
    first, *rest = paths.values()
    apollo = NodeGateway("apollo", first, tuple(rest)).start()
    try:
        hive = NodeGateway("hive-runtime", first, tuple(rest)).start()
    except BaseException:
        apollo.stop()
        raise
    yield {
        "apollo": {name: apollo.urls[path] for name, path in paths.items()},
        "hive": {name: hive.urls[path] for name, path in paths.items()},
    }
    apollo.stop()
    hive.stop()


_ours: dict[str, str] = {}
_dead = f"http://127.0.0.1:{free_port()}/graphql"


def _urls(name: str, federation: Federation) -> dict[str, str]:
    return {**federation.urls, "elements": _dead} if name == DOWN else federation.urls


def _case_id(case: tuple[Any, ...]) -> str:
    return f"{case[0]}: {case[1][:60]}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
async def test_our_gateway_answers_like_the_reference_gateways(
    federation_factory: Callable[[str], Federation],
    references: dict[str, dict[str, str]],
    case: tuple[Any, ...],
) -> None:
    name, query, variables, *extra = case
    deviations = {d.reference: d for d in extra}
    if name not in _ours:
        federation = federation_factory("core" if name == DOWN else name)
        _ours[name] = federation.gateway(urls=_urls(name, federation))
    body = {"query": query, "variables": variables or {}}
    async with httpx.AsyncClient(timeout=30) as http:
        ours = (await http.post(_ours[name] + "/graphql", json=body)).json()
        answers = {
            ref: (await http.post(references[ref][name] + "/graphql", json=body)).json()
            for ref in REFERENCES
        }
    for ref, theirs in answers.items():
        deviation = deviations.get(ref)
        if deviation is None:
            assert ours.get("data") == theirs.get("data"), (ref, ours, theirs)
            assert has_errors(ours) == has_errors(theirs), (ref, ours, theirs)
        else:
            assert ours.get("data") == deviation.data, (deviation.why, ours)
            assert has_errors(ours) == deviation.errors, (deviation.why, ours)
            assert (theirs.get("data"), has_errors(theirs)) != (deviation.data, deviation.errors), (
                f"{ref} now follows the spec here; drop the Deviation", theirs
            )
