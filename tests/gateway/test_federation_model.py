"""Each federation feature over its own purpose-built subgraphs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.gateway.conftest import OPS_URLS, REQUESTS, Federation, requests_to
from tests.gateway.subgraphs import fed2


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


# --- Federation 2, the harder parts (issue 14) ------------------------------------------------


def fetches(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, subgraph) of each node of a described plan, in order, parallel nodes inlined."""
    out: list[tuple[str, str]] = []
    for node in plan["nodes"]:
        for n in node["nodes"] if node["kind"] == "Parallel" else [node]:
            fetch = n["node"] if n["kind"] == "Flatten" else n
            out.append((n["kind"], fetch["serviceName"]))
    return out


async def plan_of(http: httpx.AsyncClient, base: str, query: str) -> dict[str, Any]:
    # /graphql/plan is served on the gateway's operations port.
    response = await http.post(OPS_URLS[base] + "/graphql/plan", json={"query": query})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_field_required_with_two_arguments_gets_one_representation_per_argument(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "requires_advanced")
    REQUESTS.clear()
    result = await ask(http, base,
                       '{ products { usdLabel eurLabel price(currency: "GBP") } }')
    assert result["data"]["products"][0] == {
        "usdLabel": "100.00 USD", "eurLabel": "90.00 EUR", "price": 80.0
    }
    [catalog] = requests_to("requires_advanced/catalog")
    # The client's price keeps its key; each required price travels under an alias.
    assert ' price(currency: "GBP")' in catalog["query"]
    assert catalog["query"].count("price__") == 2
    shipping = requests_to("requires_advanced/shipping")
    prices = sorted(r["variables"]["representations"][0]["price"] for r in shipping)
    assert prices == [90.0, 100.0]


async def test_required_fields_under_inline_fragments_travel_with_their_typename(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "requires_advanced")
    REQUESTS.clear()
    await ask(http, base, "{ products { shippingClass codeLabel } }")
    [call] = requests_to("requires_advanced/shipping")
    assert call["variables"]["representations"][0] == {
        "__typename": "Product", "id": "g1", "code": "K-1",
        "specs": {"__typename": "Dimensions", "unit": "cm", "width": 80.0, "height": 40.0},
    }
    # code is @inaccessible: the gateway reads it for the representation; clients cannot.
    refused = await http.post(base + "/graphql", json={"query": "{ products { code } }"})
    assert refused.status_code == 400


async def test_a_requires_chain_back_and_forth_is_a_sequence_of_fetches(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "chain")
    plan = await plan_of(http, base, "{ parts { w } }")
    assert fetches(plan) == [("Fetch", "a"), ("Flatten", "b"), ("Flatten", "a"),
                             ("Flatten", "b")]
    assert await ask(http, base, "{ parts { w } }") == {
        "data": {"parts": [{"w": 22}, {"w": 42}]}
    }


async def test_a_value_type_split_across_subgraphs_is_fetched_from_each_and_merged(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "value_types")
    plan = await plan_of(http, base, "{ config { region currency } }")
    # The @shareable root field from both owners, side by side in one step.
    assert plan["nodes"][0]["kind"] == "Parallel"
    assert sorted(fetches(plan)) == [("Fetch", "a"), ("Fetch", "b")]
    REQUESTS.clear()
    result = await ask(http, base, "{ articles { category { name details } } }")
    assert result["data"]["articles"][1] == {
        "category": {"name": "category of Article a2", "details": "details for a2"}
    }
    # Category has no key: b is entered at the nearest entity, the article.
    [call] = requests_to("value_types/b")
    assert "...on Article{category{details}}" in call["query"]


async def test_fields_whose_types_differ_between_sibling_fragments_are_aliased_and_restored(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "subgraph_types")
    REQUESTS.clear()
    result = await ask(http, base, "{ nodes { id } }")
    assert result == {"data": {"nodes": [{"id": "b1"}, {"id": None}, {"id": "m2"}]}}
    [call] = requests_to("subgraph_types/a")
    assert "...on Book{id}" in call["query"] and "...on Movie{id__" in call["query"]


async def test_fragments_a_subgraph_can_never_return_are_left_out_of_its_operation(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "subgraph_types")
    REQUESTS.clear()
    result = await ask(http, base, "{ topBook { sequel { id ... on Movie { title } "
                                   "... on Book { rating } } } }")
    assert result == {"data": {"topBook": {"sequel": {"id": "b1", "rating": 5}}}}
    # In b, sequel is a Book (Node in the supergraph): a fragment on Movie would make b
    # refuse the whole operation.
    [call] = requests_to("subgraph_types/b")
    assert "Movie" not in call["query"]
    assert requests_to("subgraph_types/a") == []


async def test_an_interface_object_with_an_unresolvable_key_answers_from_its_own_root(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "interface_object_keys")
    REQUESTS.clear()
    assert await ask(http, base, "{ featuredMember { id } }") == {
        "data": {"featuredMember": {"id": "m2"}}
    }
    assert [n for n, _ in REQUESTS] == ["interface_object_keys/badges"]
    # The concrete type comes from the interface's owner, which can resolve its key.
    result = await ask(http, base, "{ featuredMember { __typename ... on Company { name } } }")
    assert result == {"data": {"featuredMember": {"__typename": "Company", "name": "Initech"}}}


async def test_no_path_to_a_concrete_type_is_a_plan_time_error_with_data_null(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    federation = federation_factory("interface_object_keys")
    owner_key = '@join__type(graph: MEMBERS, key: "id")'
    assert federation.supergraph_sdl.count(owner_key) == 3  # the interface and two types
    # Nobody may resolve Member by its key any more (a supergraph a stricter composer would
    # refuse): which type a featured member is cannot be known.
    sdl = federation.supergraph_sdl.replace(
        'interface Member @join__type(graph: BADGES, key: "id", resolvable: false, '
        'isInterfaceObject: true) @join__type(graph: MEMBERS, key: "id")',
        'interface Member @join__type(graph: BADGES, key: "id", resolvable: false, '
        'isInterfaceObject: true) @join__type(graph: MEMBERS, key: "id", resolvable: false)',
    )
    base = federation.gateway(sdl=sdl)
    response = await http.post(base + "/graphql", json={
        "query": "{ featuredMember { __typename id } }"
    })
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "QUERY_PLANNING_FAILED"
    assert "Member" in body["errors"][0]["message"]
    # What the interface object answers alone is still answered.
    assert await ask(http, base, "{ featuredMember { id } }") == {
        "data": {"featuredMember": {"id": "m2"}}
    }


async def test_requires_on_an_interface_object_field_sends_the_required_field(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "interface_object_keys")
    REQUESTS.clear()
    await ask(http, base, "{ members { rank } }")
    [call] = requests_to("interface_object_keys/ranks")
    assert sorted(call["variables"]["representations"], key=lambda r: r["id"]) == [
        {"__typename": "Member", "id": "m1", "tier": "gold"},
        {"__typename": "Member", "id": "m2", "tier": "silver"},
    ]


async def test_provides_on_a_shareable_root_field_and_on_a_union_field_save_fetches(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "routing")
    REQUESTS.clear()
    await ask(http, base, "{ topReviews { body author { name } } }")
    assert [n for n, _ in REQUESTS] == ["routing/b"]
    REQUESTS.clear()
    result = await ask(http, base, "{ shelf { ... on Volume { title } } }")
    assert result == {"data": {"shelf": [{"title": "Solaris"}, {}]}}
    assert [n for n, _ in REQUESTS] == ["routing/shelf"]


async def test_an_external_field_is_fetched_from_its_owner_unless_provided(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "external")
    REQUESTS.clear()
    assert await ask(http, base, "{ lastOwner { handle } }") == {
        "data": {"lastOwner": {"handle": "@o2"}}
    }
    [posts] = requests_to("external/posts")
    assert "handle" not in posts["query"]
    assert len(requests_to("external/owners")) == 1


async def test_a_field_no_subgraph_can_serve_is_a_plan_time_error_with_data_null(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    federation = federation_factory("external")
    owned = ("  handle: String! @join__field(graph: OWNERS) "
             "@join__field(graph: POSTS, external: true)")
    assert owned in federation.supergraph_sdl
    # Only posts declares handle, @external: it can serve it only where it provides it.
    sdl = federation.supergraph_sdl.replace(
        owned, "  handle: String! @join__field(graph: POSTS, external: true)"
    )
    base = federation.gateway(sdl=sdl)
    response = await http.post(base + "/graphql", json={"query": "{ lastOwner { handle } }"})
    body = response.json()
    assert response.status_code == 200 and body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_PLANNING_FAILED"
    assert "Owner.handle" in error["message"]
    assert await ask(http, base, "{ posts { owner { handle } } }") == {
        "data": {"posts": [{"owner": {"handle": "@o1"}}, {"owner": {"handle": "@o2"}}]}
    }


async def test_an_entity_without_its_key_is_never_sent_and_the_rest_of_the_batch_resolves(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "null_keys")
    fed2.SEEN_CRATES.clear()
    result = await ask(http, base, "{ crates { label stock aisle } }")
    assert result == {"data": {"crates": [
        {"label": "full", "stock": 20, "aisle": "aisle t1/A"},
        {"label": "no sku", "stock": None, "aisle": "aisle t2/B"},
        {"label": "no shelf code", "stock": 20, "aisle": None},
    ]}}
    assert sorted(c["sku"] for c in fed2.SEEN_CRATES) == ["s1", "s3"]


async def test_an_inaccessible_enum_value_completes_to_null_with_an_error(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    base = gateway_for(federation_factory, "enums")
    result = await ask(http, base, "{ gadgets { id status statuses } }")
    assert result["data"] == {"gadgets": [
        {"id": "x1", "status": "ACTIVE", "statuses": ["ACTIVE", "RETIRED"]},
        {"id": "x2", "status": None, "statuses": None},
    ]}
    assert [e["path"] for e in result["errors"]] == [
        ["gadgets", 1, "status"], ["gadgets", 1, "statuses", 0]
    ]
    assert result["errors"][0]["message"] == 'Enum "Status" cannot represent value: "LEGACY"'


async def test_a_from_context_argument_is_refused_with_a_reason(
    federation_factory: Callable[[str], Federation], http: httpx.AsyncClient
) -> None:
    federation = federation_factory("value_types")
    plain = "  currency: String! @join__field(graph: B)"
    assert plain in federation.supergraph_sdl
    sdl = federation.supergraph_sdl.replace(plain, (
        '  currency: String! @join__field(graph: B, contextArguments: [{context: "B__ctx", '
        'name: "region", type: "String", selection: "{ region }"}])'
    ))
    base = federation.gateway(sdl=sdl)
    body = (await http.post(base + "/graphql", json={"query": "{ config { currency } }"})).json()
    assert body["data"] is None
    assert "@fromContext" in body["errors"][0]["message"]
