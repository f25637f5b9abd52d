"""Operation limits: depth, aliases and field cost, counted once per cached document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphql.language import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    SelectionSetNode,
)

# A list field without a literal `first`/`last` is assumed to return this many items.
DEFAULT_LIST_SIZE = 10


@dataclass(frozen=True)
class Measure:
    depth: int
    aliases: int
    cost: int


def measure(
    selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> Measure:
    aliases = 0

    def walk(ss: SelectionSetNode, depth: int, seen: frozenset[str]) -> tuple[int, int]:
        nonlocal aliases
        deepest, cost = depth, 0
        for sel in ss.selections:
            if isinstance(sel, FieldNode):
                if sel.alias is not None:
                    aliases += 1
                if sel.name.value in ("__schema", "__type"):
                    cost += 1
                    continue
                if sel.selection_set is None:
                    cost += 1
                    deepest = max(deepest, depth + 1)
                    continue
                d, c = walk(sel.selection_set, depth + 1, seen)
                deepest = max(deepest, d)
                cost += 1 + _multiplier(sel) * c
            elif isinstance(sel, InlineFragmentNode):
                d, c = walk(sel.selection_set, depth, seen)
                deepest, cost = max(deepest, d), cost + c
            elif isinstance(sel, FragmentSpreadNode):
                frag = fragments.get(sel.name.value)
                if frag is None or sel.name.value in seen:
                    continue
                d, c = walk(frag.selection_set, depth, seen | {sel.name.value})
                deepest, cost = max(deepest, d), cost + c
        return deepest, cost

    depth, cost = walk(selection_set, 0, frozenset())
    return Measure(depth, aliases, cost)


def _multiplier(node: FieldNode) -> int:
    for a in node.arguments or ():
        if a.name.value in ("first", "last", "limit") and isinstance(a.value, IntValueNode):
            return max(1, int(a.value.value))
    for a in node.arguments or ():
        if a.name.value in ("first", "last", "limit"):
            return DEFAULT_LIST_SIZE
    return 1
