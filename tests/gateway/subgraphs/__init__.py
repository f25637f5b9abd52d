"""Purpose-built test subgraphs, grouped into sets that compose into one supergraph each."""

from __future__ import annotations

import strawberry

from tests.gateway.subgraphs import core

SETS: dict[str, dict[str, strawberry.federation.Schema]] = {
    "core": core.SCHEMAS,
}
