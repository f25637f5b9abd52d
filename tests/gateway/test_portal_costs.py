"""Every operation the portal sends fits the gateway's default limits, with room to spare.

The cost model assumes list sizes from @listSize; a page that asks for every agency's staff,
say, would be refused by our own gateway. This fails the build instead.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse

from common.limits import fragments_of, list_sizes_from_sdl, measure
from gateway.config import GatewayConfig
from gateway.limits import limits_of
from gateway.supergraph import load_supergraph
from tests.e2e.system import ROOT

SDL = (ROOT / "gateway" / "supergraph.graphql").read_text()


@functools.cache
def api() -> tuple[Any, Any]:
    return load_supergraph(SDL).api_schema, list_sizes_from_sdl(SDL)


def portal_operations() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "web" / "src").rglob("*.ts*")):
        for match in re.finditer(r"gql`([^`]*)`", path.read_text()):
            found.append((f"{path.relative_to(ROOT)}", match.group(1)))
    return found


@pytest.mark.parametrize(("where", "text"), portal_operations(),
                         ids=[w for w, _ in portal_operations()])
def test_a_portal_operation_costs_at_most_two_thirds_of_the_gateway_limit(
    where: str, text: str
) -> None:
    config = GatewayConfig()
    schema, list_sizes = api()
    document = parse(text)
    for operation in document.definitions:
        if isinstance(operation, OperationDefinitionNode):
            measured = measure(operation, fragments_of(document), limits_of(config),
                               schema=schema, list_sizes=list_sizes)
            assert measured.cost <= config.max_cost * 2 // 3, (where, measured.cost)
