"""Every field of every supergraph we ship or test with can be planned."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_abstract_type,
    is_composite_type,
    is_required_argument,
)

from gateway.config import GatewayConfig
from gateway.operation import OperationCache
from gateway.supergraph import load_supergraph
from scripts.supergraph import SUPERGRAPH
from tests.gateway.compose import SUPERGRAPHS

FILES = [SUPERGRAPH, *sorted(SUPERGRAPHS.glob("*.graphql"))]


def _plannable(field: GraphQLField) -> bool:
    return not any(is_required_argument(a) for a in field.args.values())


def _selection(schema: GraphQLSchema, named: GraphQLNamedType, depth: int,
               prefix: str = "") -> str:
    if is_abstract_type(named):
        parts = ["__typename"]
        for obj in schema.get_possible_types(named):  # type: ignore[arg-type]
            # Aliased per type: two members may have one field name with two types.
            inner = _selection(schema, obj, depth, prefix=f"{obj.name}_")
            parts.append(f"... on {obj.name} {inner}")
        return "{ " + " ".join(parts) + " }"
    assert isinstance(named, GraphQLObjectType)
    parts = ["__typename"]
    for name, field in named.fields.items():
        if not _plannable(field):
            continue
        alias = f"{prefix}{name}: " if prefix else ""
        inner_type = get_named_type(field.type)
        if is_composite_type(inner_type):
            if depth <= 0:
                continue
            parts.append(f"{alias}{name} {_selection(schema, inner_type, depth - 1)}")
        else:
            parts.append(f"{alias}{name}")
    return "{ " + " ".join(parts) + " }"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_field_reachable_from_a_root_field_plans(path: Path) -> None:
    supergraph = load_supergraph(path.read_text())
    schema = supergraph.api_schema
    cache = OperationCache(supergraph, GatewayConfig(max_depth=50, max_cost=10**9,
                                                     max_aliases=10**6))
    planned = 0
    for root in (schema.query_type, schema.mutation_type):
        if root is None:
            continue
        for name, field in root.fields.items():
            args = [(a, arg) for a, arg in field.args.items() if is_required_argument(arg)]
            var_defs = ", ".join(f"${a}: {arg.type}" for a, arg in args)
            call = f"({', '.join(f'{a}: ${a}' for a, _ in args)})" if args else ""
            inner = get_named_type(field.type)
            sub = _selection(schema, inner, 3) if is_composite_type(inner) else ""
            kind = "query" if root is schema.query_type else "mutation"
            head = f"{kind} Probe({var_defs})" if var_defs else kind
            prepared = cache.get(f"{head} {{ {name}{call} {sub} }}", None)
            plan = prepared.plan({})
            assert plan.stages, name
            planned += 1
    assert planned > 0
