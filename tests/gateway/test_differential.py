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
    hangs: bool = False  # the reference never answers: not asked at all


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
    # The client's alias 'id' names another field; the key travels under an alias of its own.
    ("core", '{ facility(id: "f1") { id: name elementCount } }', None,
     Deviation("apollo", "answers the key where the client asked for the name",
               {"facility": {"id": "Acme Yard", "elementCount": 2}}, False),
     Deviation("hive", "sends orgs an operation with 'id' for two fields, which orgs refuses",
               {"facility": {"id": "Acme Yard", "elementCount": 2}}, False)),
    # @requires: inline fragments on an interface-typed field, an @inaccessible field, fields
    # with arguments (the same field twice with different arguments, and the client's own).
    ("requires_advanced", "{ products { name shippingClass } }", None),
    ("requires_advanced", "{ products { specs { unit } shippingClass } }", None),
    ("requires_advanced", "{ products { codeLabel } }", None),
    ("requires_advanced", "{ products { usdLabel } }", None),
    ("requires_advanced", '{ products { usdLabel eurLabel price(currency: "GBP") } }', None,
     Deviation("apollo", "fetches price once for both representations (and for the client), "
               "so one label and the client's price are wrong",
               {"products": [
                   {"usdLabel": "100.00 USD", "eurLabel": "90.00 EUR", "price": 80.0},
                   {"usdLabel": "20.00 USD", "eurLabel": "18.00 EUR", "price": 16.0}]}, False),
     Deviation("hive", "asks catalog for one alias with two sets of arguments, which fails",
               {"products": [
                   {"usdLabel": "100.00 USD", "eurLabel": "90.00 EUR", "price": 80.0},
                   {"usdLabel": "20.00 USD", "eurLabel": "18.00 EUR", "price": 16.0}]}, False)),
    ("requires_advanced", "{ products { price: name usdLabel } }", None,
     Deviation("apollo", "sends the client's 'price: name' as the required price",
               {"products": [{"price": "Kayak", "usdLabel": "100.00 USD"},
                             {"price": "Paddle", "usdLabel": "20.00 USD"}]}, False)),
    # @requires chains back and forth: a (x) -> b (y) -> a (z) -> b (w).
    ("chain", "{ parts { y } }", None),
    ("chain", "{ parts { z } }", None),
    ("chain", "{ parts { w } }", None,
     Deviation("apollo", "asks a for y, which a only declares @external",
               {"parts": [{"w": 22}, {"w": 42}]}, False),
     Deviation("hive", "never answers (its planner does not finish)",
               {"parts": [{"w": 22}, {"w": 42}]}, False, hangs=True)),
    ("chain", "{ parts { id x y z w } }", None,
     Deviation("apollo", "asks a for y, which a only declares @external",
               {"parts": [{"id": "p1", "x": 1, "y": 10, "z": 11, "w": 22},
                          {"id": "p2", "x": 2, "y": 20, "z": 21, "w": 42}]}, False),
     Deviation("hive", "sends a the representation for z without y",
               {"parts": [{"id": "p1", "x": 1, "y": 10, "z": 11, "w": 22},
                          {"id": "p2", "x": 2, "y": 20, "z": 21, "w": 42}]}, False)),
    # Value types whose fields live in several subgraphs.
    ("value_types", "{ config { region currency } }", None),
    ("value_types", "{ config { currency } }", None),
    ("value_types", "{ articles { title category { name details } } }", None),
    ("value_types", "{ articles { category { details } } }", None),
    # Subgraph operations valid against each subgraph's own types.
    ("subgraph_types", "{ nodes { id } }", None),
    ("subgraph_types", "{ nodes { __typename id ... on Book { title rating } "
     "... on Movie { title } } }", None,
     Deviation("hive", "asks a for 'id' as ID! on Book and ID on Movie in one selection",
               {"nodes": [{"__typename": "Book", "id": "b1", "title": "Dune", "rating": 5},
                          {"__typename": "Movie", "id": None, "title": "Alien"},
                          {"__typename": "Movie", "id": "m2", "title": "Heat"}]}, False)),
    ("subgraph_types", "{ featured { id ... on Book { rating } ... on Movie { title } } }",
     None,
     Deviation("hive", "refuses a fragment on Movie, reading the field's type from b alone",
               {"featured": {"id": "b1", "rating": 5}}, False)),
    ("subgraph_types", "{ featured { id ... on Movie { title } } }", None,
     Deviation("hive", "refuses a fragment on Movie, reading the field's type from b alone",
               {"featured": {"id": "b1"}}, False)),
    ("subgraph_types", "{ featured { __typename } }", None),
    ("subgraph_types", "{ topBook { sequel { id ... on Movie { title } "
     "... on Book { rating } } } }", None),
    # @interfaceObject: a key nobody may resolve, @requires on its fields, type conditions.
    ("interface_object_keys", "{ featuredMember { id } }", None),
    ("interface_object_keys", "{ featuredMember { __typename id ... on Person { name } } }",
     None),
    ("interface_object_keys", "{ members { id rank } }", None),
    ("interface_object_keys", "{ featuredMember { rank } }", None),
    ("interface_object_keys", "{ members { __typename ... on Company { rank tier } } }", None),
    # The client's 'id: tier' on one type must not be taken for the key of the others.
    ("interface_object_keys", "{ members { ... on Company { id: tier rank x: id } "
     "... on Person { rank b: tier } } }", None,
     Deviation("apollo", "answers the key where the client asked for the tier",
               {"members": [{"rank": "rank of a gold member", "b": "gold"},
                            {"id": "silver", "rank": "rank of a silver member", "x": "m2"}]},
               False),
     Deviation("hive", "asks members for 'id' as two different fields",
               {"members": [{"rank": "rank of a gold member", "b": "gold"},
                            {"id": "silver", "rank": "rank of a silver member", "x": "m2"}]},
               False)),
    ("interface_object_keys", "{ a: featuredMember { __typename rank ... on Company "
     "{ id: tier rank x: id name } ... on Person { rank b: tier } } }", None,
     Deviation("apollo", "its planner fails with a cycle between fetch groups",
               {"a": {"__typename": "Company", "rank": "rank of a silver member",
                      "id": "silver", "x": "m2", "name": "Initech"}}, False),
     Deviation("hive", "fails with an unexpected error",
               {"a": {"__typename": "Company", "rank": "rank of a silver member",
                      "id": "silver", "x": "m2", "name": "Initech"}}, False)),
    ("interface_object", "{ topAccount { ... on Company { score name } } }", None),
    # Subgraph choice: @provides on a @shareable root field and on a union field.
    ("routing", "{ topReviews { body author { name } } }", None),
    ("routing", "{ topReviews { body author { id } } }", None),
    ("routing", "{ shelf { ... on Volume { title } } }", None),
    ("routing", "{ shelf { __typename ... on Film { title } ... on Volume { id title } } }",
     None),
    # @external fields come from their owner unless provided on that path.
    ("external", "{ lastOwner { handle } }", None),
    ("external", "{ posts { text owner { handle } } }", None),
    # @inaccessible enum values: null and an error (value completion against the API schema).
    ("enums", "{ gadgets { id status } }", None,
     Deviation("hive", "nulls the value without an error (the spec requires a field error)",
               {"gadgets": [{"id": "x1", "status": "ACTIVE"}, {"id": "x2", "status": None}]},
               True)),
    ("enums", "{ gadgets { id statuses } }", None),
    ("enums", "{ gadgets { id mustStatus } }", None),
    # Null keys: never sent; that entity's fields are null, the rest of the batch resolves.
    ("null_keys", "{ crates { label stock } }", None,
     Deviation("apollo", "sends stock a representation whose key is null; stock refuses it",
               {"crates": [{"label": "full", "stock": 20}, {"label": "no sku", "stock": None},
                           {"label": "no shelf code", "stock": 20}]}, False)),
    ("null_keys", "{ crates { label aisle } }", None,
     Deviation("apollo", "sends locations a key whose shelf code is null",
               {"crates": [{"label": "full", "aisle": "aisle t1/A"},
                           {"label": "no sku", "aisle": "aisle t2/B"},
                           {"label": "no shelf code", "aisle": None}]}, False),
     Deviation("hive", "sends locations a key whose shelf code is null",
               {"crates": [{"label": "full", "aisle": "aisle t1/A"},
                           {"label": "no sku", "aisle": "aisle t2/B"},
                           {"label": "no shelf code", "aisle": None}]}, False)),
    # A union under a @shareable field whose subgraphs know different members: the field
    # comes from the subgraph that knows them all (as Hive Gateway does).
    ("partial_unions", "{ playlist { __typename ... on Song { title } "
     "... on Podcast { title } } }", None,
     Deviation("apollo", "takes the field from the subgraph that does not know Podcast, so "
               "podcasts silently vanish from the list",
               {"playlist": [{"__typename": "Song", "title": "Song One"},
                             {"__typename": "Podcast", "title": "Pod One"}]}, False)),
    ("partial_unions", "{ playlist { ... on Song { id } } }", None,
     Deviation("apollo", "takes the field from the subgraph that does not know Podcast",
               {"playlist": [{"id": "s1"}, {}]}, False)),
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
        # Conformance, not limits: the test subgraphs declare no @listSize.
        _ours[name] = federation.gateway(urls=_urls(name, federation), max_cost=10**7)
    body = {"query": query, "variables": variables or {}}
    async with httpx.AsyncClient(timeout=30) as http:
        ours = (await http.post(_ours[name] + "/graphql", json=body)).json()
        answers = {
            ref: (await http.post(references[ref][name] + "/graphql", json=body)).json()
            for ref in REFERENCES if not (ref in deviations and deviations[ref].hangs)
        }
    for ref in REFERENCES:
        deviation = deviations.get(ref)
        if deviation is None:
            theirs = answers[ref]
            assert ours.get("data") == theirs.get("data"), (ref, ours, theirs)
            assert has_errors(ours) == has_errors(theirs), (ref, ours, theirs)
            continue
        assert ours.get("data") == deviation.data, (deviation.why, ours)
        assert has_errors(ours) == deviation.errors, (deviation.why, ours)
        if ref in answers:
            theirs = answers[ref]
            assert (theirs.get("data"), has_errors(theirs)) != (deviation.data, deviation.errors), (
                f"{ref} now follows the spec here; drop the Deviation", theirs
            )
