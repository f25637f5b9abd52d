"""Purpose-built test subgraphs, grouped into sets that compose into one supergraph each."""

from __future__ import annotations

import strawberry

from tests.gateway.subgraphs import core, features, fed2

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
    "requires_advanced": fed2.REQUIRES_ADVANCED,
    "chain": fed2.CHAIN,
    "value_types": fed2.VALUE_TYPES,
    "subgraph_types": fed2.SUBGRAPH_TYPES,
    "interface_object_keys": fed2.INTERFACE_OBJECT_KEYS,
    "routing": fed2.ROUTING,
    "external": fed2.EXTERNAL,
    "enums": fed2.ENUMS,
    "null_keys": fed2.NULL_KEYS,
    "partial_unions": fed2.PARTIAL_UNIONS,
}
