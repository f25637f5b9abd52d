"""Subgraph selection sets built by the planner, and their printing to GraphQL text."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import print_ast
from graphql.language import ArgumentNode, FieldNode, Node, VariableNode


class SelectionConflict(Exception):
    """Two selections want one response key for different fields."""


@dataclass
class GField:
    name: str
    alias: str | None
    arguments: tuple[ArgumentNode, ...]
    selection: GSel | None = None

    def signature(self) -> tuple[str, str]:
        return self.name, "".join(print_ast(a) for a in self.arguments)


@dataclass
class GSel:
    fields: dict[str, GField] = field(default_factory=dict)
    fragments: dict[str, GSel] = field(default_factory=dict)
    typename: bool = False

    def add_field(self, node: FieldNode, composite: bool) -> GField:
        key = node.alias.value if node.alias else node.name.value
        existing = self.fields.get(key)
        if existing is not None:
            if existing.name != node.name.value:
                raise SelectionConflict(key)
            return existing
        gf = GField(
            node.name.value,
            node.alias.value if node.alias else None,
            tuple(node.arguments or ()),
            GSel() if composite else None,
        )
        self.fields[key] = gf
        return gf

    def fragment(self, type_name: str) -> GSel:
        frag = self.fragments.get(type_name)
        if frag is None:
            frag = self.fragments[type_name] = GSel()
        return frag

    def merge(self, other: GSel) -> None:
        """Adds ``other`` into this selection; raises SelectionConflict on a key clash."""
        self.typename = self.typename or other.typename
        for key, gf in other.fields.items():
            mine = self.fields.get(key)
            if mine is None:
                self.fields[key] = _copy(gf)
                continue
            if mine.signature() != gf.signature():
                raise SelectionConflict(key)
            if mine.selection is not None and gf.selection is not None:
                mine.selection.merge(gf.selection)
        for type_name, frag in other.fragments.items():
            self.fragment(type_name).merge(frag)

    def conflicts_with(self, other: GSel) -> bool:
        probe = _copy_sel(self)
        try:
            probe.merge(other)
        except SelectionConflict:
            return True
        return False


def _copy(gf: GField) -> GField:
    return GField(
        gf.name, gf.alias, gf.arguments, _copy_sel(gf.selection) if gf.selection else None
    )


def _copy_sel(sel: GSel) -> GSel:
    return GSel(
        {k: _copy(v) for k, v in sel.fields.items()},
        {k: _copy_sel(v) for k, v in sel.fragments.items()},
        sel.typename,
    )


def print_selection(sel: GSel, variables: set[str]) -> str:
    """GraphQL text of a selection set; adds every variable it uses to ``variables``."""
    parts: list[str] = []
    if sel.typename:
        parts.append("__typename")
    for gf in sel.fields.values():
        text = f"{gf.alias}:{gf.name}" if gf.alias else gf.name
        if gf.arguments:
            for a in gf.arguments:
                _variables_in(a, variables)
            text += "(" + ",".join(print_ast(a) for a in gf.arguments) + ")"
        if gf.selection is not None:
            text += print_selection(gf.selection, variables)
        parts.append(text)
    for type_name, frag in sel.fragments.items():
        parts.append(f"...on {type_name}" + print_selection(frag, variables))
    if not parts:
        parts.append("__typename")
    return "{" + " ".join(parts) + "}"


def _variables_in(node: Node, out: set[str]) -> None:
    if isinstance(node, VariableNode):
        out.add(node.name.value)
        return
    for key in node.keys:
        value = getattr(node, key, None)
        if isinstance(value, Node):
            _variables_in(value, out)
        elif isinstance(value, tuple | list):
            for item in value:
                if isinstance(item, Node):
                    _variables_in(item, out)
