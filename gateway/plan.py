"""Query plan nodes: fetches grouped into parallel steps, steps in sequence, flatten targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Projection:
    """How to cut a representation out of fetched data.

    ``fields`` are (key in the fetched data, name in the representation, sub-projection): the
    key differs from the name where the planner aliased a field (a required field with
    arguments, or one whose name the client uses for something else). ``by_type`` holds the
    fields of inline fragments, applied when the object's ``__typename`` is that type.
    """

    fields: tuple[tuple[str, str, Projection | None], ...] = ()
    by_type: tuple[tuple[str, Projection], ...] = ()
    typename: bool = False

    def merged(self, other: Projection) -> Projection:
        mine: dict[str, tuple[str, Projection | None]] = {n: (k, s) for k, n, s in self.fields}
        for key, name, sub in other.fields:
            current = mine.get(name)
            if current is None or current[1] is None:
                mine[name] = (key, sub)
            elif sub is not None:
                mine[name] = (current[0], current[1].merged(sub))
        types = dict(self.by_type)
        for t, p in other.by_type:
            types[t] = types[t].merged(p) if t in types else p
        return Projection(
            tuple((k, n, s) for n, (k, s) in mine.items()), tuple(types.items()),
            self.typename or other.typename,
        )

    def conflicts_with(self, other: Projection) -> bool:
        """Whether one representation cannot carry both: a name taken from different keys
        (the same field with different arguments)."""
        mine = {n: (k, s) for k, n, s in self.fields}
        for key, name, sub in other.fields:
            current = mine.get(name)
            if current is None:
                continue
            if current[0] != key:
                return True
            if current[1] is not None and sub is not None and current[1].conflicts_with(sub):
                return True
        types = dict(self.by_type)
        return any(t in types and types[t].conflicts_with(p) for t, p in other.by_type)

    def project(self, obj: Any) -> Any:
        if isinstance(obj, list):
            return [self.project(o) for o in obj]
        if not isinstance(obj, dict):
            return obj
        out: dict[str, Any] = {}
        if self.typename and "__typename" in obj:
            out["__typename"] = obj["__typename"]
        for key, name, sub in self.fields:
            if key in obj:
                value = obj[key]
                out[name] = sub.project(value) if sub is not None and value is not None else value
        if self.by_type:
            typename = obj.get("__typename")
            for t, p in self.by_type:
                if t == typename:
                    _deep_update(out, p.project(obj))
        return out

    def complete(self, obj: Any) -> bool:
        """Whether every field (a key) is present and not null in ``obj``."""
        if isinstance(obj, list):
            return all(self.complete(o) for o in obj)
        if not isinstance(obj, dict):
            return False
        for key, _, sub in self.fields:
            value = obj.get(key)
            if value is None or (sub is not None and not sub.complete(value)):
                return False
        typename = obj.get("__typename")
        return all(p.complete(obj) for t, p in self.by_type if t == typename)


def _deep_update(dst: dict[str, Any], src: dict[str, Any]) -> None:
    for k, v in src.items():
        if isinstance(dst.get(k), dict) and isinstance(v, dict):
            _deep_update(dst[k], v)
        else:
            dst[k] = v


@dataclass
class Unalias:
    """Undoes the aliases a fetch used only to stay valid in its subgraph (fields of one
    response key whose types differ between sibling fragments): keys are the subgraph's
    response keys."""

    renames: dict[str, str] = field(default_factory=dict)
    children: dict[str, Unalias] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.renames or self.children)

    def apply(self, value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                self.apply(item)
            return
        if not isinstance(value, dict):
            return
        for key, child in self.children.items():
            if key in value:
                child.apply(value[key])
        for alias, key in self.renames.items():
            if alias in value:
                value[key] = value.pop(alias)


@dataclass
class Target:
    """One Flatten: where the entities live in the response and which typenames to send."""

    path: tuple[str, ...]
    type_names: frozenset[str]
    # typename sent to the subgraph in representations, when fixed (an @interfaceObject)
    rep_typename: str | None
    projection: Projection
    # the @key fields: an object missing one of them (or with one null) is never sent
    key: Projection = field(default_factory=Projection)


@dataclass
class FetchNode:
    service: str
    operation: str
    variable_names: tuple[str, ...]
    entity: bool
    targets: list[Target] = field(default_factory=list)
    root_keys: tuple[str, ...] = ()
    representations_variable: str = "representations"
    unalias: Unalias | None = None
    body: str = ""  # the selection sent, to recognise the same fetch twice in one step


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
    # interface names: an entity answering with one of them keeps the concrete type we know
    abstract_types: frozenset[str] = frozenset()

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
