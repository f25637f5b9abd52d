"""Fetch groups turned into plan steps: a group runs one step after everything it needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count

from graphql import is_abstract_type, print_ast
from graphql.language import OperationDefinitionNode

from gateway.plan import FetchNode, Projection, Stage, Target, Unalias
from gateway.selection import GSel, copy_selection, make_valid, print_selection
from gateway.supergraph import Supergraph

Path = tuple[str, ...]


class PlanError(Exception):
    """The operation cannot be planned over this supergraph."""


@dataclass(eq=False)
class Group:
    """The work of one subgraph request: a root fetch, or ``_entities`` at one path."""

    id: int
    service: str
    path: Path
    type_name: str  # the supergraph type of the objects at ``path``
    entity: bool
    stage: int  # mutation root fields run in stages, one after another
    sel: GSel = field(default_factory=GSel)
    deps: set[Group] = field(default_factory=set)
    projection: Projection | None = None  # key and required fields of each representation
    key: Projection | None = None  # the key fields alone
    rep_type: str = ""  # the type condition under _entities (the entity or its interface)
    rep_typename: str | None = None  # a fixed __typename in representations
    root_keys: list[str] = field(default_factory=list)

    def __hash__(self) -> int:
        return self.id


class StepBuilder:
    def __init__(
        self, supergraph: Supergraph, operation: OperationDefinitionNode,
        new_alias: Callable[[str], str],
    ) -> None:
        self.sg = supergraph
        self.schema = supergraph.schema
        self.operation = operation
        self.new_alias = new_alias
        self.fetch_ids = count()

    def stage(self, groups: list[Group]) -> Stage:
        """The groups of one stage as steps: a group runs one step after the last group it
        depends on."""
        level: dict[int, int] = {}
        members = {g.id for g in groups}

        def depth(g: Group, trail: frozenset[int]) -> int:
            if g.id in level:
                return level[g.id]
            if g.id in trail:
                # The planner never builds one; this would be its bug, not the client's.
                raise RuntimeError("circular dependency between subgraph fetches")
            deps = [d for d in g.deps if d is not g and d.id in members]
            value = 0 if not g.entity else 1 + max(
                (depth(d, trail | {g.id}) for d in deps), default=0
            )
            level[g.id] = value
            return value

        for g in groups:
            depth(g, frozenset())
        self._defer_to_same_fetch(groups, level)
        steps: list[list[FetchNode]] = []
        for lv in range(max(level.values(), default=-1) + 1):
            at = [g for g in groups if level[g.id] == lv]
            if at:
                steps.append(self._fetches(at))
        return Stage(steps)

    def _defer_to_same_fetch(self, groups: list[Group], level: dict[int, int]) -> None:
        """An entity group nothing in the stage waits for joins a later step's group that asks
        the same subgraph the same of the same type: one request instead of two (the later
        step runs after this one's anyway). Say a page's permit issuers in step 1 and its
        submitters in step 2, both ``User { firstName lastName }`` from identity."""
        needed = {d.id for g in groups for d in g.deps if d is not g}

        def signature(g: Group) -> tuple[str, str, str, str | None] | None:
            if not g.entity or not self._object_in(g.service, g.rep_type):
                return None
            return (g.service, g.rep_type, print_selection(g.sel, set()), g.rep_typename)

        latest: dict[tuple[str, str, str, str | None], int] = {}
        for g in groups:
            sig = signature(g)
            if sig is not None:
                latest[sig] = max(latest.get(sig, 0), level[g.id])
        for g in groups:
            sig = signature(g)
            if sig is not None and g.id not in needed:
                level[g.id] = max(level[g.id], latest[sig])

    def _fetches(self, groups: list[Group]) -> list[FetchNode]:
        """One fetch per root group; entity groups of one subgraph share an _entities call
        where that is safe: fragments on two different object types never apply to each
        other's representations, and on one type only the very same selection with the very
        same representation may share."""
        out: list[FetchNode] = []
        # per subgraph: buckets of groups, each bucket one signature per representation type
        buckets: dict[str, list[tuple[dict[str, object], list[Group]]]] = {}
        for g in groups:
            if not g.entity:
                out.append(self._root_fetch(g))
                continue
            # The same fields ask the same of every representation: each group's projection
            # carries what its own copy of them requires.
            sig = (print_selection(g.sel, set()), g.rep_typename)
            alone = not self._object_in(g.service, g.rep_type)
            for kinds, members in buckets.setdefault(g.service, []):
                if alone or "" in kinds:
                    continue
                if kinds.get(g.rep_type, sig) == sig:
                    kinds[g.rep_type] = sig
                    members.append(g)
                    break
            else:
                buckets[g.service].append(({"" if alone else g.rep_type: sig}, [g]))
        for service, entries in buckets.items():
            for _, members in entries:
                out.append(self._entity_fetch(service, members))
        return _without_repeats(out)

    def _object_in(self, service: str, type_name: str) -> bool:
        t = self.schema.get_type(type_name)
        return not is_abstract_type(t) or self.sg.is_interface_object(service, type_name)

    def _operation_name(self, service: str) -> str:
        base = self.operation.name.value if self.operation.name else ""
        return f"{base}__{service}__{next(self.fetch_ids)}" if base else ""

    def _variable_defs(self, used: set[str]) -> list[str]:
        return [
            print_ast(vd)
            for vd in self.operation.variable_definitions or ()
            if vd.variable.name.value in used
        ]

    def _valid(self, service: str, sel: GSel, parent: str) -> tuple[GSel, Unalias | None]:
        """A copy of ``sel`` made valid against the subgraph's own schema, and its undo."""
        fixed = copy_selection(sel)

        def field_type(type_name: str, name: str) -> str:
            return self.sg.subgraph_field_type(service, type_name, name)

        def is_abstract(type_name: str) -> bool:
            return type_name == "_Entity" or not self._object_in(service, type_name)

        undo = make_valid(fixed, parent, field_type, is_abstract, self.new_alias)
        return fixed, undo or None

    def _root_fetch(self, g: Group) -> FetchNode:
        used: set[str] = set()
        sel, undo = self._valid(g.service, g.sel, g.type_name)
        body = print_selection(sel, used)
        defs = self._variable_defs(used)
        kind = self.operation.operation.value
        head = f"{kind} {self._operation_name(g.service)}".rstrip()
        text = f"{head}({','.join(defs)}){body}" if defs else f"{head}{body}"
        return FetchNode(g.service, text, tuple(sorted(used)), False, [], tuple(g.root_keys),
                         unalias=undo, body=body)

    def _entity_fetch(self, service: str, members: list[Group]) -> FetchNode:
        merged = GSel()
        for g in members:
            if g.rep_type not in merged.fragments:
                merged.merge(g.sel)
        used: set[str] = set()
        sel, undo = self._valid(service, merged, "_Entity")
        body = print_selection(sel, used)
        rep_var = "representations"
        while rep_var in used:
            rep_var += "_"
        defs = [f"${rep_var}:[_Any!]!", *self._variable_defs(used)]
        head = f"query {self._operation_name(service)}".rstrip()
        text = f"{head}({','.join(defs)}){{_entities(representations:${rep_var}){body}}}"
        targets = []
        for g in members:
            assert g.projection is not None and g.key is not None
            names = self._concrete_names(g.type_name)
            targets.append(Target(g.path, names, g.rep_typename, g.projection, g.key))
        return FetchNode(service, text, tuple(sorted(used)), True, targets, (), rep_var, undo,
                         body)

    def _concrete_names(self, type_name: str) -> frozenset[str]:
        t = self.schema.get_type(type_name)
        if is_abstract_type(t):
            names = {o.name for o in self.schema.get_possible_types(t)}
            return frozenset(names | {type_name})
        return frozenset({type_name})


def _without_repeats(fetches: list[FetchNode]) -> list[FetchNode]:
    """The same request twice in one step is sent once: its targets are merged."""
    seen: dict[tuple[str, str, bool], FetchNode] = {}
    out: list[FetchNode] = []
    for f in fetches:
        first = seen.get((f.service, f.body, f.entity))
        if first is None:
            seen[(f.service, f.body, f.entity)] = f
            out.append(f)
        elif f.entity:
            first.targets.extend(f.targets)
        else:
            first.root_keys = first.root_keys + tuple(
                k for k in f.root_keys if k not in first.root_keys
            )
    return out
