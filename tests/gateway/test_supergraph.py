"""Loading join-spec supergraphs of every supported version, and the API schema they give."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import print_schema

from gateway.config import GatewayConfig
from gateway.operation import OperationCache, OperationError
from gateway.supergraph import SupergraphError, load_supergraph

# Written the way Apollo's composition (join v0.3) prints a supergraph, with @inaccessible.
V03 = (Path(__file__).with_name("supergraphs") / "hand_written_v03.graphql").read_text()


def test_a_v0_3_supergraph_loads_with_routing_and_a_clean_api_schema() -> None:
    supergraph = load_supergraph(V03)
    assert supergraph.graph_urls == {
        "inventory": "http://inventory:4000/graphql", "products": "http://products:4000/graphql"
    }
    product = supergraph.types["Product"]
    assert product.fields["weight"].graphs == {"products"}
    assert product.fields["shippingEstimate"].requires["inventory"] is not None
    assert product.fields["stock"].graphs == {"inventory"}
    sdl = print_schema(supergraph.api_schema)
    assert "secretCost" not in sdl and "Internal" not in sdl and "internal" not in sdl
    assert "join__" not in sdl and "link" not in sdl and "inaccessible" not in sdl
    assert "shippingEstimate: Int" in sdl


def test_renamed_and_imported_specs_are_recognised() -> None:
    renamed = (
        V03.replace('join/v0.3", for: EXECUTION)', 'join/v0.4", as: "j", for: EXECUTION)')
        .replace("join__", "j__")
        .replace('inaccessible/v0.2", for: SECURITY)',
                 'inaccessible/v0.2", import: ["@inaccessible"], for: SECURITY)')
    )
    supergraph = load_supergraph(renamed)
    assert set(supergraph.graph_urls) == {"inventory", "products"}
    sdl = print_schema(supergraph.api_schema)
    assert "j__" not in sdl and "secretCost" not in sdl


def test_something_that_is_not_a_supergraph_is_refused_with_a_reason() -> None:
    with pytest.raises(SupergraphError, match="not a supergraph"):
        load_supergraph("type Query { a: Int }")
    with pytest.raises(SupergraphError, match="does not parse"):
        load_supergraph("type Query {")


def test_inaccessible_fields_cannot_be_queried() -> None:
    cache = OperationCache(load_supergraph(V03), GatewayConfig())
    with pytest.raises(OperationError) as info:
        cache.get("{ topProducts { secretCost } }", None)
    assert info.value.code == "BAD_USER_INPUT"


def test_plans_are_cached_per_document_and_operation_name_in_a_bounded_cache() -> None:
    cache = OperationCache(load_supergraph(V03), GatewayConfig(plan_cache_size=2))
    doc = "query A { topProducts { name } } query B { topProducts { shippingEstimate } }"
    a = cache.get(doc, "A")
    assert cache.get(doc, "A") is a
    b = cache.get(doc, "B")
    assert b is not a
    plan_b = b.plan({})
    assert b.plan({}) is plan_b
    assert [[f.service for f in step] for step in plan_b.stages[0].steps] == [
        ["products"], ["inventory"]
    ]
    cache.get("{ topProducts { upc } }", None)
    assert len(cache) == 2
    assert cache.get(doc, "A") is not a  # evicted, prepared again


def test_requires_sends_the_required_fields_in_the_representation() -> None:
    cache = OperationCache(load_supergraph(V03), GatewayConfig())
    plan = cache.get("{ topProducts { shippingEstimate } }", None).plan({})
    fetches = [f for stage in plan.stages for step in stage.steps for f in step]
    assert [f.service for f in fetches] == ["products", "inventory"]
    assert "weight" in fetches[0].operation and "upc" in fetches[0].operation
    [target] = fetches[1].targets
    assert target.projection.project({"upc": "1", "weight": 3, "name": "x"}) == {
        "upc": "1", "weight": 3
    }
    assert target.path == ("topProducts", "@")


def test_independent_root_fields_are_fetched_in_one_parallel_step() -> None:
    supergraph = load_supergraph(V03.replace(
        "  internal: Internal @join__field(graph: PRODUCTS) @inaccessible",
        "  version: String @join__field(graph: INVENTORY)",
    ))
    cache = OperationCache(supergraph, GatewayConfig())
    plan = cache.get("{ topProducts { name } version }", None).plan({})
    assert plan.describe()["nodes"][0]["kind"] == "Parallel"
    assert sorted(n["serviceName"] for n in plan.describe()["nodes"][0]["nodes"]) == [
        "inventory", "products"
    ]


def test_a_key_field_marked_external_is_still_supplied_by_its_subgraph() -> None:
    fed1_style = V03.replace(
        "  upc: String!\n",
        "  upc: String! @join__field(graph: INVENTORY, external: true)"
        " @join__field(graph: PRODUCTS)\n",
    ).replace(
        "  internal: Internal @join__field(graph: PRODUCTS) @inaccessible",
        "  stocked: [Product] @join__field(graph: INVENTORY)",
    )
    cache = OperationCache(load_supergraph(fed1_style), GatewayConfig())
    plan = cache.get("{ stocked { name } }", None).plan({})
    fetches = [f for stage in plan.stages for step in stage.steps for f in step]
    assert [f.service for f in fetches] == ["inventory", "products"]
    assert "upc" in fetches[0].operation
