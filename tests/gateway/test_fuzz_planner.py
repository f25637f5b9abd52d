"""Fuzzing the planner: random valid operations over every supergraph we ship or test with.

Each operation must plan without an exception (a composed supergraph has passed the
composer's satisfiability check, so a refusal is a planner bug too), every subgraph operation
of the plan must be valid against that subgraph's own schema, and no step may send the same
fetch twice. The number of operations tried is printed and recorded.
"""

from __future__ import annotations

import functools
import os
import random
import traceback
from pathlib import Path

import pytest
from graphql import GraphQLSchema, parse, validate

from gateway.config import GatewayConfig
from gateway.operation import OperationCache
from gateway.supergraph import load_supergraph
from scripts.supergraph import SUPERGRAPH
from tests.gateway.compose import SUPERGRAPHS
from tests.gateway.fuzz import Generator
from tests.gateway.subgraphs import SETS

# Valid operations per supergraph; FUZZ_OPERATIONS=2000 for a longer run.
OPERATIONS = int(os.environ.get("FUZZ_OPERATIONS", "100"))
SEED = os.environ.get("FUZZ_SEED", "issue-14")
TRIED: dict[str, tuple[int, int]] = {}


@functools.cache
def subgraph_schemas(name: str) -> dict[str, GraphQLSchema]:
    if name == "cers":
        from services.facility.graphql.schema import schema as facility
        from services.identity.graphql.schema import schema as identity
        from services.submittal.graphql.schema import schema as submittal

        return {"identity": identity._schema, "facility": facility._schema,
                "submittal": submittal._schema}
    return {n: s._schema for n, s in SETS[name].items()}


def _supergraph_file(name: str) -> Path:
    return SUPERGRAPH if name == "cers" else SUPERGRAPHS / f"{name}.graphql"


NAMES = ["cers", *sorted(SETS)]


@pytest.mark.parametrize("name", NAMES)
def test_random_operations_plan_into_operations_valid_in_each_subgraph(
    name: str, record_property: pytest.RecordProperty
) -> None:
    supergraph = load_supergraph(_supergraph_file(name).read_text())
    schemas = subgraph_schemas(name)
    cache = OperationCache(supergraph, GatewayConfig(
        max_depth=50, max_cost=10**9, max_aliases=10**6, plan_cache_size=10**6,
    ))
    rng = random.Random(f"{SEED}/{name}")
    generator = Generator(supergraph.api_schema, rng)
    tried = valid = 0
    failures: list[str] = []
    while valid < OPERATIONS and tried < OPERATIONS * 20:
        text = generator.operation()
        tried += 1
        if validate(supergraph.api_schema, parse(text)):
            continue
        valid += 1
        conditions = {v: rng.random() < 0.5 for v in generator.variables}
        try:
            plan = cache.get(text, None).plan(conditions)
        except Exception:
            failures.append(f"{text}\n{traceback.format_exc(limit=4)}")
            continue
        for stage in plan.stages:
            for step in stage.steps:
                sent = [(f.service, f.operation) for f in step]
                if len(set(sent)) != len(sent):
                    failures.append(f"{text}\nthe same fetch twice in one step: {sent}")
                for fetch in step:
                    errors = validate(schemas[fetch.service], parse(fetch.operation))
                    if errors:
                        failures.append(
                            f"{text}\n{fetch.service} refuses {fetch.operation}: "
                            f"{errors[0].message}"
                        )
    TRIED[name] = (tried, valid)
    record_property("operations_generated", tried)
    record_property("operations_planned", valid)
    print(f"{name}: {valid} valid operations planned and checked ({tried} generated)")
    assert not failures, f"{len(failures)} of {valid} failed; first:\n" + "\n\n".join(
        failures[:3]
    )
    assert valid >= OPERATIONS
