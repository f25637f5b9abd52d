"""Subgraph selection sets built by the planner, and their printing to GraphQL text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from graphql import print_ast
from graphql.language import ArgumentNode, FieldNode, Node, VariableNode

from gateway.plan import Unalias


class SelectionConflict(Exception):
    """Two selections want one response key for different fields."""


def arguments_text(arguments: tuple[ArgumentNode, ...]) -> str:
    return ",".join(print_ast(a) for a in arguments)


@dataclass
class GField:
    name: str
    alias: str | None
    arguments: tuple[ArgumentNode, ...]
    selection: GSel | None = None
    args_text: str = ""

    @property
    def key(self) -> str:
        return self.alias or self.name

    def signature(self) -> tuple[str, str]:
        return self.name, self.args_text


@dataclass
class GSel:
    fields: dict[str, GField] = field(default_factory=dict)
    fragments: dict[str, GSel] = field(default_factory=dict)
    typename: bool = False

    def add_field(self, node: FieldNode, composite: bool) -> GField:
        """Adds a field of the client's operation under the client's response key."""
        key = node.alias.value if node.alias else node.name.value
        args = tuple(node.arguments or ())
        return self.add(key, node.name.value, args, arguments_text(args), composite)

    def add(
        self, key: str, name: str, arguments: tuple[ArgumentNode, ...], args_text: str,
        composite: bool,
    ) -> GField:
        existing = self.fields.get(key)
        if existing is not None:
            if existing.signature() != (name, args_text):
                raise SelectionConflict(key)
            return existing
        gf = GField(name, key if key != name else None, arguments,
                    GSel() if composite else None, args_text)
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
                self.fields[key] = copy_field(gf)
                continue
            if mine.signature() != gf.signature():
                raise SelectionConflict(key)
            if mine.selection is not None and gf.selection is not None:
                mine.selection.merge(gf.selection)
        for type_name, frag in other.fragments.items():
            self.fragment(type_name).merge(frag)

    def same_as(self, other: GSel) -> bool:
        return print_selection(self, set()) == print_selection(other, set())


def copy_field(gf: GField) -> GField:
    return GField(gf.name, gf.alias, gf.arguments,
                  copy_selection(gf.selection) if gf.selection else None, gf.args_text)


def copy_selection(sel: GSel) -> GSel:
    return GSel(
        {k: copy_field(v) for k, v in sel.fields.items()},
        {k: copy_selection(v) for k, v in sel.fragments.items()},
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
            text += "(" + gf.args_text + ")"
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


# (subgraph parent type, field name) -> the field's type in that subgraph, e.g. "[ID!]"
FieldType = Callable[[str, str], str]


def make_valid(
    sel: GSel, parent: str, field_type: FieldType, is_abstract: Callable[[str], bool],
    new_alias: Callable[[str], str],
) -> Unalias:
    """Aliases the fields that would make a subgraph operation invalid (GraphQL's "fields in
    set can merge"): one response key whose field has another type, or another name or
    arguments under the same or an abstract parent, in sibling fragments. Answers how to undo
    the aliases in the subgraph's result."""
    undo = Unalias()
    _fix([(sel, parent)], field_type, is_abstract, new_alias, undo)
    return undo


def _entries(sets: list[tuple[GSel, str]]) -> Iterator[tuple[GSel, str, str, GField]]:
    """Every field merged into one response object: direct ones and those of (nested)
    fragments, with the type each belongs to."""
    for sel, parent in sets:
        for key, gf in list(sel.fields.items()):
            yield sel, parent, key, gf
        yield from _entries(list((frag, t) for t, frag in sel.fragments.items()))


def _named(type_text: str) -> str:
    return type_text.replace("[", "").replace("]", "").replace("!", "")


def _fix(
    sets: list[tuple[GSel, str]], field_type: FieldType, is_abstract: Callable[[str], bool],
    new_alias: Callable[[str], str], undo: Unalias,
) -> None:
    # response key -> the first (type, signature, parent) seen, and the fields merged with it
    first: dict[str, tuple[str, tuple[str, str], str]] = {}
    together: dict[str, list[tuple[GField, str]]] = {}
    for owner, parent, key, gf in _entries(sets):
        ftype = field_type(parent, gf.name)
        seen = first.setdefault(key, (ftype, gf.signature(), parent))
        clash = seen[0] != ftype or (
            seen[1] != gf.signature()
            and (seen[2] == parent or is_abstract(seen[2]) or is_abstract(parent))
        )
        if clash:
            alias = new_alias(key)
            del owner.fields[key]
            gf.alias = alias
            owner.fields[alias] = gf
            undo.renames[alias] = key
            if gf.selection is not None:
                child = Unalias()
                _fix([(gf.selection, _named(ftype))], field_type, is_abstract, new_alias, child)
                if child:
                    undo.children[alias] = child
            continue
        if gf.selection is not None:
            together.setdefault(key, []).append((gf, _named(ftype)))
    for key, merged in together.items():
        child = Unalias()
        _fix([(gf.selection, t) for gf, t in merged if gf.selection is not None],
             field_type, is_abstract, new_alias, child)
        if child:
            undo.children[key] = child
