"""CollectFields of the GraphQL spec, with @skip/@include decided from known booleans."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from graphql import GraphQLSchema, is_abstract_type
from graphql.language import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
)

Fields = dict[str, list[FieldNode]]


def included(node: SelectionNode, conditions: Mapping[str, bool]) -> bool:
    for d in node.directives or ():
        name = d.name.value
        if name not in ("skip", "include"):
            continue
        value = False
        for a in d.arguments or ():
            if a.name.value != "if":
                continue
            if isinstance(a.value, BooleanValueNode):
                value = a.value.value
            elif isinstance(a.value, VariableNode):
                value = conditions.get(a.value.name.value, False)
        if (name == "skip" and value) or (name == "include" and not value):
            return False
    return True


def type_applies(schema: GraphQLSchema, type_name: str, condition: str | None) -> bool:
    if condition is None or condition == type_name:
        return True
    cond = schema.get_type(condition)
    obj = schema.get_type(type_name)
    if cond is None or obj is None:
        return False
    if is_abstract_type(cond):
        if is_abstract_type(obj):
            return any(
                t.name == type_name or _implements(schema, t.name, condition)
                for t in schema.get_possible_types(obj)
            )
        return schema.is_sub_type(cond, obj)
    return False


def _implements(schema: GraphQLSchema, obj: str, iface: str) -> bool:
    t = schema.get_type(obj)
    return t is not None and any(i.name == iface for i in getattr(t, "interfaces", ()))


def collect_fields(
    schema: GraphQLSchema,
    type_name: str,
    selection_sets: Iterable[SelectionSetNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    conditions: Mapping[str, bool],
) -> Fields:
    out: Fields = {}
    for ss in selection_sets:
        _collect(schema, type_name, ss, fragments, conditions, out, set())
    return out


def _collect(
    schema: GraphQLSchema,
    type_name: str,
    ss: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    conditions: Mapping[str, bool],
    out: Fields,
    visited: set[str],
) -> None:
    for sel in ss.selections:
        if not included(sel, conditions):
            continue
        if isinstance(sel, FieldNode):
            key = sel.alias.value if sel.alias else sel.name.value
            out.setdefault(key, []).append(sel)
        elif isinstance(sel, InlineFragmentNode):
            cond = sel.type_condition.name.value if sel.type_condition else None
            if type_applies(schema, type_name, cond):
                _collect(schema, type_name, sel.selection_set, fragments, conditions, out, visited)
        elif isinstance(sel, FragmentSpreadNode):
            name = sel.name.value
            frag = fragments.get(name)
            if frag is None or name in visited:
                continue
            visited.add(name)
            if type_applies(schema, type_name, frag.type_condition.name.value):
                _collect(schema, type_name, frag.selection_set, fragments, conditions, out, visited)


def sub_selections(nodes: Iterable[FieldNode]) -> list[SelectionSetNode]:
    return [n.selection_set for n in nodes if n.selection_set is not None]
