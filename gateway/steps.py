"""Groups of subgraph work turned into plan steps: one fetch per subgraph per step."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from graphql import GraphQLSchema, is_abstract_type, print_ast
from graphql.language import OperationDefinitionNode

from gateway.plan import FetchNode, Projection, Stage, Target
from gateway.selection import GSel, SelectionConflict, print_selection

Path = tuple[str, ...]


class PlanError(Exception):
    """The operation cannot be planned over this supergraph."""


@dataclass(eq=False)
class Group:
    id: int
    service: str
    path: Path
    type_name: str
    entity: bool
    sel: GSel = field(default_factory=GSel)
    deps: set[Group] = field(default_factory=set)
    children: dict[tuple[str, Path, str], Group] = field(default_factory=dict)
    projection: Projection | None = None
    rep_typename: str | None = None
    root_keys: list[str] = field(default_factory=list)

    def __hash__(self) -> int:
        return self.id


class StepBuilder:
    def __init__(self, schema: GraphQLSchema, operation: OperationDefinitionNode) -> None:
        self.schema = schema
        self.operation = operation
        self.fetch_ids = count()

    def stage(self, roots: list[Group]) -> Stage:
        """The roots and every group under them, as steps of parallel fetches."""
        members: list[Group] = []
        seen: set[int] = set()

        def walk(g: Group) -> None:
            if g.id in seen:
                return
            seen.add(g.id)
            members.append(g)
            for c in g.children.values():
                walk(c)

        for r in roots:
            walk(r)
        level: dict[int, int] = {}

        def depth(g: Group, trail: frozenset[int]) -> int:
            if g.id in level:
                return level[g.id]
            if g.id in trail:
                raise PlanError("circular dependency between subgraph fetches")
            deps = [d for d in g.deps if d is not g and d.id in seen]
            value = 0 if not g.entity else 1 + max(
                (depth(d, trail | {g.id}) for d in deps), default=0
            )
            level[g.id] = value
            return value

        for g in members:
            depth(g, frozenset())
        steps: list[list[FetchNode]] = []
        for lv in range(max(level.values(), default=-1) + 1):
            at = [g for g in members if level[g.id] == lv]
            if at:
                steps.append(self._fetches(at))
        return Stage(steps)

    def _fetches(self, groups: list[Group]) -> list[FetchNode]:
        out: list[FetchNode] = []
        buckets: dict[str, list[tuple[GSel, list[Group]]]] = {}
        for g in groups:
            if not g.entity:
                out.append(self._root_fetch(g))
                continue
            for merged, members in buckets.setdefault(g.service, []):
                try:
                    probe = _clone(merged)
                    probe.merge(g.sel)
                except SelectionConflict:
                    continue
                merged.merge(g.sel)
                members.append(g)
                break
            else:
                fresh = GSel()
                fresh.merge(g.sel)
                buckets[g.service].append((fresh, [g]))
        for service, entries in buckets.items():
            for merged, members in entries:
                out.append(self._entity_fetch(service, merged, members))
        return out

    def _operation_name(self, service: str) -> str:
        base = self.operation.name.value if self.operation.name else ""
        return f"{base}__{service}__{next(self.fetch_ids)}" if base else ""

    def _variable_defs(self, used: set[str]) -> list[str]:
        return [
            print_ast(vd)
            for vd in self.operation.variable_definitions or ()
            if vd.variable.name.value in used
        ]

    def _root_fetch(self, g: Group) -> FetchNode:
        used: set[str] = set()
        body = print_selection(g.sel, used)
        defs = self._variable_defs(used)
        kind = self.operation.operation.value
        head = f"{kind} {self._operation_name(g.service)}".rstrip()
        text = f"{head}({','.join(defs)}){body}" if defs else f"{head}{body}"
        return FetchNode(g.service, text, tuple(sorted(used)), False, [], tuple(g.root_keys))

    def _entity_fetch(self, service: str, sel: GSel, members: list[Group]) -> FetchNode:
        used: set[str] = set()
        body = print_selection(sel, used)
        rep_var = "representations"
        while rep_var in used:
            rep_var += "_"
        defs = [f"${rep_var}:[_Any!]!", *self._variable_defs(used)]
        head = f"query {self._operation_name(service)}".rstrip()
        text = f"{head}({','.join(defs)}){{_entities(representations:${rep_var}){body}}}"
        targets = []
        for g in members:
            names = self._concrete_names(g.type_name)
            assert g.projection is not None
            targets.append(Target(g.path, names, g.rep_typename, g.projection))
        return FetchNode(service, text, tuple(sorted(used)), True, targets, (), rep_var)

    def _concrete_names(self, type_name: str) -> frozenset[str]:
        t = self.schema.get_type(type_name)
        if is_abstract_type(t):
            names = {o.name for o in self.schema.get_possible_types(t)}
            return frozenset(names | {type_name})
        return frozenset({type_name})


def _clone(sel: GSel) -> GSel:
    fresh = GSel()
    fresh.merge(sel)
    return fresh
