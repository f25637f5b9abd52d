"""Each federation feature over its own purpose-built subgraphs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from tests.gateway.conftest import OPS_URLS, REQUESTS, Federation, requests_to


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


_gateways: dict[str, str] = {}


def gateway_for(factory: Callable[[str], Federation], name: str) -> str:
    if name not in _gateways:
        _gateways[name] = factory(name).gateway()
    return _gateways[name]


async def ask(http: httpx.AsyncClient, base: str, query: str) -> dict:
    response = await http.post(base + "/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_requires_fetches_the_required_fields_first(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "requires")
    result = await ask(http, base, "{ topProducts { name shippingEstimate } }")
    assert result == {"data": {"topProducts": [
        {"name": "Kayak", "shippingEstimate": 30.0},
        {"name": "Paddle", "shippingEstimate": 4.5},
        {"name": "Tent", "shippingEstimate": 6.75},
    ]}}


async def test_provides_skips_the_fetch_it_makes_unnecessary(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "provides")
    REQUESTS.clear()
    result = await ask(http, base, "{ reviews { body author { username } } }")
    assert result == {"data": {"reviews": [
        {"body": "Great", "author": {"username": "ada"}},
        {"body": "Meh", "author": {"username": "grace"}},
    ]}}
    assert requests_to("provides/accounts") == []
    # A field the reviews subgraph does not provide still comes from accounts, in one batch.
    result = await ask(http, base, "{ reviews { author { username karma } } }")
    assert [a["author"]["karma"] for a in result["data"]["reviews"]] == [14, 14]
    [batch] = requests_to("provides/accounts")
    assert len(batch["variables"]["representations"]) == 2


async def test_shareable_fields_come_from_the_subgraph_already_fetching(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "shareable")
    REQUESTS.clear()
    result = await ask(http, base, "{ productsA { name } }")
    assert result["data"]["productsA"][0] == {"name": "Kayak"}
    assert requests_to("shareable/b") == []
    result = await ask(http, base, "{ productsA { name price } }")
    assert result["data"]["productsA"][2] == {"name": "Tent", "price": 300}
    [batch] = requests_to("shareable/b")
    assert "name" not in batch["query"].split("_entities")[1]


async def test_an_overridden_field_is_resolved_by_its_new_owner(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "override")
    result = await ask(http, base, "{ products { name inStock } }")
    assert result["data"]["products"][0] == {"name": "Kayak", "inStock": "new answer for p1"}


async def test_interface_members_are_routed_by_typename(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "abstract")
    result = await ask(http, base, """
        { media { __typename title ... on Book { year rating } ... on Movie { rating } } }
    """)
    assert result == {"data": {"media": [
        {"__typename": "Book", "title": "Dune", "year": 1965, "rating": 5},
        {"__typename": "Movie", "title": "Alien", "rating": 3},
        {"__typename": "Book", "title": "Emma", "year": 1815, "rating": 4},
    ]}}


async def test_union_members_are_routed_by_typename(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "abstract")
    REQUESTS.clear()
    result = await ask(http, base, """
        { search { ... on Author { name } ... on Media { title }
                   ... on Book { rating } ... on Movie { rating minutes } } }
    """)
    assert result == {"data": {"search": [
        {"name": "Herbert"},
        {"title": "Dune", "rating": 5},
        {"title": "Alien", "rating": 3, "minutes": 117},
    ]}}
    # Book and Movie entities of one step go to ratings in one request.
    assert len(requests_to("abstract/ratings")) == 1


async def test_interface_object_fields_reach_every_implementation(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "interface_object")
    result = await ask(http, base, "{ accounts { id score ... on Person { name } } }")
    assert result == {"data": {"accounts": [
        {"id": "x1", "score": 10, "name": "Pat"},
        {"id": "x2", "score": 20},
    ]}}


async def test_an_interface_object_result_gets_its_concrete_type(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "interface_object")
    result = await ask(http, base, """
        { topAccount { __typename id score ... on Company { name } } }
    """)
    assert result == {"data": {"topAccount": {
        "__typename": "Company", "id": "x2", "score": 20, "name": "Initech"
    }}}


async def test_a_key_the_source_cannot_supply_is_fetched_through_a_third_subgraph(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "multi_hop")
    result = await ask(http, base, "{ items { id rating } }")
    assert result == {"data": {"items": [
        {"id": "i1", "rating": "rated SKU-1"}, {"id": "i2", "rating": "rated SKU-2"},
    ]}}


async def test_the_plan_is_a_sequence_of_parallel_fetches_and_flattens(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "multi_hop")
    assert (await http.post(base + "/graphql/plan", json={"query": "{ items }"})).status_code in (
        404, 405)  # operators only: not on the public port
    ops = OPS_URLS[base]
    response = await http.post(ops + "/graphql/plan", json={"query": "{ items { rating } }"})
    plan = response.json()
    assert plan["kind"] == "Sequence"
    kinds = [n["kind"] for n in plan["nodes"]]
    assert kinds == ["Fetch", "Flatten", "Flatten"]
    assert [n["node"]["serviceName"] for n in plan["nodes"][1:]] == ["b", "c"]
    assert plan["nodes"][1]["path"] == ["items", "@"]
    for bad in [b"nope", b"[]", b'{"query": "{ nope }"}']:
        refused = await http.post(ops + "/graphql/plan", content=bad)
        assert refused.status_code == 400


async def test_a_composite_key_with_a_nested_field_is_sent_whole(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "composite_key")
    REQUESTS.clear()
    result = await ask(http, base, "{ seats { label booked } }")
    assert result == {"data": {"seats": [
        {"label": "v1-1", "booked": False}, {"label": "v1-2", "booked": True},
        {"label": "v2-1", "booked": False},
    ]}}
    [call] = requests_to("composite_key/bookings")
    assert call["variables"]["representations"][0] == {
        "__typename": "Seat", "number": 1, "venue": {"id": "v1"}
    }
