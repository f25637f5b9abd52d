"""Query plan nodes: fetches grouped into parallel steps, steps in sequence, flatten targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql.language import SelectionSetNode


@dataclass(frozen=True)
class Projection:
    """How to cut a representation out of fetched data: key and required fields."""

    fields: tuple[tuple[str, Projection | None], ...]

    @staticmethod
    def from_selection(ss: SelectionSetNode) -> Projection:
        out: list[tuple[str, Projection | None]] = []
        for sel in ss.selections:
            name = sel.name.value  # type: ignore[attr-defined]
            sub = sel.selection_set  # type: ignore[attr-defined]
            out.append((name, Projection.from_selection(sub) if sub else None))
        return Projection(tuple(out))

    def merged(self, other: Projection) -> Projection:
        mine = dict(self.fields)
        for name, sub in other.fields:
            if name not in mine or mine[name] is None:
                mine[name] = sub
            elif sub is not None:
                current = mine[name]
                assert current is not None
                mine[name] = current.merged(sub)
        return Projection(tuple(mine.items()))

    def project(self, obj: Any) -> Any:
        if isinstance(obj, list):
            return [self.project(o) for o in obj]
        if not isinstance(obj, dict):
            return obj
        out: dict[str, Any] = {}
        for name, sub in self.fields:
            if name in obj:
                value = obj[name]
                out[name] = sub.project(value) if sub is not None and value is not None else value
        return out


@dataclass
class Target:
    """One Flatten: where the entities live in the response and which typenames to send."""

    path: tuple[str, ...]
    type_names: frozenset[str]
    # typename sent to the subgraph in representations, when it differs (interface objects)
    rep_typename: str | None
    projection: Projection


@dataclass
class FetchNode:
    service: str
    operation: str
    variable_names: tuple[str, ...]
    entity: bool
    targets: list[Target] = field(default_factory=list)
    root_keys: tuple[str, ...] = ()
    representations_variable: str = "representations"


@dataclass
class Stage:
    """A sequence of steps; each step's fetches run in parallel."""

    steps: list[list[FetchNode]]


@dataclass
class Plan:
    kind: str  # query | mutation
    stages: list[Stage]
    introspection_keys: tuple[str, ...]
    shape: Any  # gateway.shape.SelShape for the root

    def describe(self) -> dict[str, Any]:
        """A JSON view of the plan (Sequence / Parallel / Flatten / Fetch) for operators."""
        seq: list[Any] = []
        for stage in self.stages:
            for step in stage.steps:
                nodes: list[Any] = []
                for f in step:
                    fetch = {"kind": "Fetch", "serviceName": f.service, "operation": f.operation}
                    if f.entity:
                        for t in f.targets:
                            nodes.append(
                                {"kind": "Flatten", "path": list(t.path), "node": fetch}
                            )
                    else:
                        nodes.append(fetch)
                seq.append(nodes[0] if len(nodes) == 1 else {"kind": "Parallel", "nodes": nodes})
        return {"kind": "Sequence", "nodes": seq}
