"""Response shaping: the client's selection over merged subgraph data, with null propagation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    is_abstract_type,
    is_composite_type,
)
from graphql.language import FragmentDefinitionNode, SelectionSetNode

from gateway.collect import collect_fields, sub_selections

# A completed value that is null because of an error, to propagate to the nearest nullable.
INVALID: Any = object()


@dataclass
class TypeRef:
    non_null: bool
    of: TypeRef | None  # list item type, when a list
    composite: bool


@dataclass
class FieldShape:
    key: str
    name: str
    parent: str
    kind: str  # typename | leaf | composite | introspection
    type: TypeRef
    child: SelShape | None = None
    # an enum's values in the API schema (a subgraph may return @inaccessible ones)
    enum: frozenset[str] | None = None
    enum_name: str = ""


@dataclass
class SelShape:
    static_type: str | None
    by_type: dict[str, list[FieldShape]] = field(default_factory=dict)


def _type_ref(t: GraphQLOutputType) -> TypeRef:
    if isinstance(t, GraphQLNonNull):
        inner = _type_ref(t.of_type)
        return TypeRef(True, inner.of, inner.composite)
    if isinstance(t, GraphQLList):
        return TypeRef(False, _type_ref(t.of_type), False)
    return TypeRef(False, None, is_composite_type(t))


def build_shape(
    schema: GraphQLSchema,
    named: GraphQLNamedType,
    sets: list[SelectionSetNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    conditions: Mapping[str, bool],
) -> SelShape:
    if is_abstract_type(named):
        shape = SelShape(None)
        types = [t.name for t in schema.get_possible_types(named)]
        if isinstance(named, GraphQLInterfaceType):
            # An @interfaceObject subgraph answers with the interface's own name when the
            # client did not need the concrete type: the interface's fields still apply.
            types.append(named.name)
    else:
        shape = SelShape(named.name)
        types = [named.name]
    for type_name in types:
        obj = schema.get_type(type_name)
        assert isinstance(obj, GraphQLObjectType | GraphQLInterfaceType)
        out: list[FieldShape] = []
        for key, nodes in collect_fields(schema, type_name, sets, fragments, conditions).items():
            name = nodes[0].name.value
            if name == "__typename":
                out.append(FieldShape(key, name, type_name, "typename", TypeRef(True, None, False)))
                continue
            if name in ("__schema", "__type"):
                out.append(
                    FieldShape(key, name, type_name, "introspection", TypeRef(False, None, False))
                )
                continue
            fdef = obj.fields[name]
            ref = _type_ref(fdef.type)
            base: Any = fdef.type
            while isinstance(base, GraphQLNonNull | GraphQLList):
                base = base.of_type
            if is_composite_type(base):
                child = build_shape(schema, base, sub_selections(nodes), fragments, conditions)
                out.append(FieldShape(key, name, type_name, "composite", ref, child))
            elif isinstance(base, GraphQLEnumType):
                out.append(FieldShape(key, name, type_name, "leaf", ref, None,
                                      frozenset(base.values), base.name))
            else:
                out.append(FieldShape(key, name, type_name, "leaf", ref))
        shape.by_type[type_name] = out
    return shape


class Completion:
    """Walks merged data with a SelShape; records spec errors for non-null violations."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        self._error_paths: set[tuple[Any, ...]] | None = None

    def _null_error(self, path: Any, fs: FieldShape) -> None:
        flat = _flatten(path)
        if self._error_paths is None:
            self._error_paths = {tuple(e["path"]) for e in self.errors if e.get("path")}
        for i in range(len(flat), 0, -1):
            if flat[:i] in self._error_paths:
                return
        self._error_paths.add(flat)
        # No subgraph said why: the owning service returned nothing for it (an entity the
        # caller may not see reads as absent), so it is coded as not found.
        self.errors.append({
            "message": f"Cannot return null for non-nullable field {fs.parent}.{fs.name}.",
            "path": list(flat),
            "extensions": {"code": "NOT_FOUND"},
        })

    def complete_object(self, obj: Any, shape: SelShape, path: Any) -> Any:
        if not isinstance(obj, dict):
            return None
        typename = obj.get("__typename") or shape.static_type
        fields = shape.by_type.get(typename) if typename else None
        if fields is None:
            if shape.static_type is None:
                return None
            typename = shape.static_type
            fields = shape.by_type[typename]
        out: dict[str, Any] = {}
        for fs in fields:
            kind = fs.kind
            if kind == "typename":
                out[fs.key] = typename
                continue
            value = obj.get(fs.key)
            if fs.enum is not None and value is not None:
                value = self._check_enum(value, fs, (path, fs.key))
            if kind == "leaf" or kind == "introspection":
                if value is None and fs.type.non_null:
                    self._null_error((path, fs.key), fs)
                    return INVALID
                if fs.type.of is not None and value is not None:
                    value = self._complete_list(value, fs.type.of, fs, (path, fs.key))
                    if value is INVALID:
                        if fs.type.non_null:
                            return INVALID
                        value = None
                out[fs.key] = value
                continue
            result = self._complete(value, fs.type, fs, (path, fs.key))
            if result is INVALID:
                return INVALID
            out[fs.key] = result
        return out

    def _check_enum(self, value: Any, fs: FieldShape, path: Any) -> Any:
        """Value completion of an enum against the API schema: a value it does not have (an
        @inaccessible one, or one a subgraph made up) is null with an error."""
        assert fs.enum is not None
        if isinstance(value, list):
            return [self._check_enum(v, fs, (path, i)) if v is not None else None
                    for i, v in enumerate(value)]
        if isinstance(value, str) and value in fs.enum:
            return value
        self.errors.append({
            "message": f'Enum "{fs.enum_name}" cannot represent value: {json.dumps(value)}',
            "path": list(_flatten(path)),
        })
        self._error_paths = None
        return None

    def _complete(self, value: Any, ref: TypeRef, fs: FieldShape, path: Any) -> Any:
        if value is None:
            if ref.non_null:
                self._null_error(path, fs)
                return INVALID
            return None
        if ref.of is not None:
            result = self._complete_list(value, ref.of, fs, path)
        elif ref.composite:
            assert fs.child is not None
            result = self.complete_object(value, fs.child, path)
        else:
            result = value
        if result is INVALID or result is None:
            if ref.non_null:
                if result is None:
                    self._null_error(path, fs)
                return INVALID
            return None
        return result

    def _complete_list(self, value: Any, item: TypeRef, fs: FieldShape, path: Any) -> Any:
        if not isinstance(value, list):
            return None
        if item.of is None and not item.composite:
            if item.non_null and any(v is None for v in value):
                i = next(i for i, v in enumerate(value) if v is None)
                self._null_error((path, i), fs)
                return INVALID
            return value
        out = []
        for i, v in enumerate(value):
            r = self._complete(v, item, fs, (path, i))
            if r is INVALID:
                return INVALID
            out.append(r)
        return out


def _flatten(path: Any) -> tuple[Any, ...]:
    parts: list[Any] = []
    while path is not None:
        path, key = path
        parts.append(key)
    return tuple(reversed(parts))
