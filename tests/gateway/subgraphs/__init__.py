"""Purpose-built test subgraphs, grouped into sets that compose into one supergraph each."""

from __future__ import annotations

import strawberry

from tests.gateway.subgraphs import core, features

SETS: dict[str, dict[str, strawberry.federation.Schema]] = {
    "core": core.SCHEMAS,
    "requires": features.REQUIRES,
    "provides": features.PROVIDES,
    "shareable": features.SHAREABLE,
    "override": features.OVERRIDE,
    "abstract": features.ABSTRACT,
    "interface_object": features.INTERFACE_OBJECT,
    "multi_hop": features.MULTI_HOP,
    "composite_key": features.COMPOSITE_KEY,
}
