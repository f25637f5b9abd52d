"""Operation limits (depth, aliases, directives, cost) measured in time linear in the document.

The gateway and every subgraph measure an operation with the same rules before validating or
running it. Each fragment is measured once and its totals reused wherever it is spread, so a
fragment spread ten times in each of ten levels costs ten walks, not ten billion; a total past
its limit stops the walk at once. Expanded totals saturate just past their limit, so numbers
stay small however large the expansion would be.

Cost follows Apollo's demand control and IBM's cost directives: every field costs 1, and the
selection under a list is multiplied by the list's size: the value of its slicing argument
(``first``, ``last``, or those ``@listSize(slicingArguments:)`` names; a variable's value, or
the argument's default), else ``@listSize(assumedSize:)``, else a configured default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    get_named_type,
    parse,
)
from graphql.language import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    IntValueNode,
    ListValueNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    OperationDefinitionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)

# Arguments that size a list when the schema declares none.
DEFAULT_SLICING_ARGUMENTS = ("first", "last")
# The lists of a connection type, which its field's slicing argument sizes.
CONNECTION_LISTS = ("edges", "nodes")
COST_SPEC = "https://specs.apollo.dev/cost/"
FEDERATION_SPEC = "https://specs.apollo.dev/federation/"


@dataclass(frozen=True)
class ListSize:
    """A field's ``@listSize``: an assumed size, or the arguments that slice it."""

    assumed_size: int | None = None
    slicing_arguments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_cost: int
    max_directives: int
    default_list_size: int
    # The greatest page any slicing argument may ask for; larger values are measured as this.
    max_list_size: int = 10_000
    # Validation compares same-named fields and fragments pairwise; these keep it cheap.
    max_repeats: int = 10
    max_fragments: int = 100


@dataclass(frozen=True)
class Measure:
    depth: int
    aliases: int
    directives: int
    cost: int
    # Variables whose values size a list: the measure depends on them.
    size_variables: frozenset[str] = frozenset()


class LimitExceeded(Exception):
    """An operation past one of its limits; ``actual`` is at least the value reached."""

    def __init__(self, limit: str, maximum: int, actual: int, message: str) -> None:
        super().__init__(message)
        self.limit = limit
        self.maximum = maximum
        self.actual = actual
        self.message = message

    @property
    def extensions(self) -> dict[str, Any]:
        return {"limit": self.limit, "max": self.maximum, "actual": self.actual}


_MESSAGES = {
    "depth": "Operation nests fields {actual} levels deep; the limit is {max}.",
    "aliases": "Operation uses {actual} or more aliases (counted in every fragment spread); "
               "the limit is {max}.",
    "directives": "Operation uses {actual} or more directives (counted in every fragment "
                  "spread); the limit is {max}.",
    "repeats": "A selection set selects one response name {actual} times; the limit is {max}. "
               "Select each field once, or give each its own alias.",
    "fragments": "The document defines {actual} fragments; the limit is {max}.",
    "cost": "Operation costs {actual} or more (each field counts once per item of every list "
            "around it); the limit is {max}. Ask for fewer fields or smaller pages (first:).",
}


def _exceeded(limit: str, maximum: int, actual: int) -> LimitExceeded:
    return LimitExceeded(
        limit, maximum, actual, _MESSAGES[limit].format(actual=actual, max=maximum)
    )


@dataclass
class _Tally:
    depth: int = 0
    aliases: int = 0
    directives: int = 0
    cost: int = 0


@dataclass
class _Walk:
    schema: GraphQLSchema | None
    list_sizes: Mapping[tuple[str, str], ListSize]
    limits: Limits
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any] | None
    variable_defaults: Mapping[str, Any]
    memo: dict[str, _Tally] = field(default_factory=dict)
    in_progress: set[str] = field(default_factory=set)
    size_variables: set[str] = field(default_factory=set)

    def selection_set(self, ss: SelectionSetNode, parent: GraphQLType | None) -> _Tally:
        limits = self.limits
        tally = _Tally()
        seen: dict[str, int] = {}
        for sel in ss.selections:
            tally.directives += len(sel.directives or ())
            if isinstance(sel, FieldNode):
                key = (sel.alias or sel.name).value
                seen[key] = repeats = seen.get(key, 0) + 1
                if repeats > limits.max_repeats:
                    raise _exceeded("repeats", limits.max_repeats, repeats)
                if sel.alias is not None:
                    tally.aliases += 1
                tally.cost += 1
                if sel.selection_set is not None:
                    field_def = _field(parent, sel.name.value)
                    child_type = get_named_type(field_def.type) if field_def else None
                    child = self.selection_set(sel.selection_set, child_type)
                    depth = child.depth + 1
                    size = self._size(parent, field_def, sel)
                    tally.cost += min(size * child.cost, limits.max_cost + 1)
                    tally.aliases += child.aliases
                    tally.directives += child.directives
                else:
                    depth = 1
                tally.depth = max(tally.depth, depth)
            elif isinstance(sel, InlineFragmentNode):
                condition = parent
                if sel.type_condition is not None and self.schema is not None:
                    condition = self.schema.get_type(sel.type_condition.name.value)
                self._add(tally, self.selection_set(sel.selection_set, condition))
            elif isinstance(sel, FragmentSpreadNode):
                self._add(tally, self.fragment(sel.name.value))
            self._check(tally)
        return tally

    def fragment(self, name: str) -> _Tally:
        known = self.memo.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.in_progress:
            return _Tally()  # unknown or cyclic: validation refuses the document
        self.in_progress.add(name)
        condition = (
            self.schema.get_type(definition.type_condition.name.value) if self.schema else None
        )
        tally = self.selection_set(definition.selection_set, condition)
        tally.directives += len(definition.directives or ())
        self.in_progress.discard(name)
        self.memo[name] = tally
        return tally

    @staticmethod
    def _add(tally: _Tally, other: _Tally) -> None:
        tally.depth = max(tally.depth, other.depth)
        tally.aliases += other.aliases
        tally.directives += other.directives
        tally.cost += other.cost

    def _check(self, tally: _Tally) -> None:
        limits = self.limits
        if tally.depth > limits.max_depth:
            raise _exceeded("depth", limits.max_depth, tally.depth)
        if tally.aliases > limits.max_aliases:
            raise _exceeded("aliases", limits.max_aliases, tally.aliases)
        if tally.directives > limits.max_directives:
            raise _exceeded("directives", limits.max_directives, tally.directives)
        if tally.cost > limits.max_cost:
            raise _exceeded("cost", limits.max_cost, tally.cost)

    def _size(self, parent: GraphQLType | None, field_def: GraphQLField | None,
              node: FieldNode) -> int:
        name = node.name.value
        parent_name = getattr(parent, "name", None)
        declared = self.list_sizes.get((parent_name, name)) if parent_name else None
        slicing = declared.slicing_arguments if declared and declared.slicing_arguments else (
            DEFAULT_SLICING_ARGUMENTS
        )
        sizes = [s for s in (self._argument(field_def, node, a) for a in slicing) if s is not None]
        if sizes:
            return min(max(sizes), self.limits.max_list_size)
        if name == "_entities":
            return self._representations(node)
        if declared is not None and declared.assumed_size is not None:
            return declared.assumed_size
        if name in CONNECTION_LISTS and _is_connection(parent):
            return 1  # sized by the connection field's slicing argument, above it
        if field_def is not None and (
            _is_list(field_def.type) or _is_connection(get_named_type(field_def.type))
        ):
            return self.limits.default_list_size
        return 1

    def _argument(self, field_def: GraphQLField | None, node: FieldNode, name: str) -> int | None:
        for arg in node.arguments or ():
            if arg.name.value == name:
                return self._int(arg.value)
        if field_def is not None and name in field_def.args:
            default = field_def.args[name].default_value
            return max(default, 0) if isinstance(default, int) else None
        return None

    def _int(self, value: ValueNode) -> int | None:
        if isinstance(value, IntValueNode):
            return max(int(value.value), 0)
        if isinstance(value, VariableNode):
            name = value.name.value
            self.size_variables.add(name)
            given = (self.variables or {}).get(name, self.variable_defaults.get(name))
            if isinstance(given, int) and not isinstance(given, bool):
                return max(given, 0)
            # Not known yet (measured before the variables came): assume the default page.
            return self.limits.default_list_size if self.variables is None else None
        return None

    def _representations(self, node: FieldNode) -> int:
        for arg in node.arguments or ():
            if arg.name.value != "representations":
                continue
            if isinstance(arg.value, ListValueNode):
                return len(arg.value.values)
            if isinstance(arg.value, VariableNode):
                given = (self.variables or {}).get(arg.value.name.value)
                if isinstance(given, list):
                    return len(given)
        return self.limits.default_list_size


def _field(parent: GraphQLType | None, name: str) -> GraphQLField | None:
    # Introspection (__schema, __type) is walked untyped, so its lists count once each:
    # validation's MaxIntrospectionDepthRule bounds how its lists nest.
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _is_connection(type_: GraphQLType | None) -> bool:
    """A Relay connection: its list (``edges``, ``nodes``) is sized where it is selected."""
    return isinstance(type_, GraphQLObjectType) and "pageInfo" in type_.fields


def _is_list(type_: GraphQLType) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _literal(value: ValueNode) -> Any:
    if isinstance(value, IntValueNode):
        return int(value.value)
    if isinstance(value, BooleanValueNode):
        return value.value
    return None


def measure(
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    limits: Limits,
    *,
    schema: GraphQLSchema | None = None,
    list_sizes: Mapping[tuple[str, str], ListSize] | None = None,
    variables: Mapping[str, Any] | None = None,
) -> Measure:
    """The operation's totals; raises LimitExceeded at the first limit passed.

    Without ``variables`` (measuring before a request's values are known), a list sized by a
    variable counts as its declared default, else the default list size; ``size_variables``
    names such variables so the caller can measure again with the request's values.
    """
    if len(fragments) > limits.max_fragments:
        raise _exceeded("fragments", limits.max_fragments, len(fragments))
    root = None
    if schema is not None:
        root = schema.get_root_type(operation.operation)
    defaults = {
        d.variable.name.value: _literal(d.default_value)
        for d in operation.variable_definitions or () if d.default_value is not None
    }
    walk = _Walk(schema, list_sizes or {}, limits, fragments, variables, defaults)
    try:
        tally = walk.selection_set(operation.selection_set, root)
    except RecursionError:
        raise _exceeded("depth", limits.max_depth, limits.max_depth + 1) from None
    tally.directives += len(operation.directives or ())
    walk._check(tally)
    return Measure(tally.depth, tally.aliases, tally.directives, tally.cost,
                   frozenset(walk.size_variables))


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }


def list_sizes_from_sdl(sdl: str | DocumentNode) -> dict[tuple[str, str], ListSize]:
    """Every ``@listSize`` in a subgraph SDL or a supergraph (cost or federation spec)."""
    document = parse(sdl) if isinstance(sdl, str) else sdl
    name = _list_size_name(document)
    sizes: dict[tuple[str, str], ListSize] = {}
    for definition in document.definitions:
        if not isinstance(definition, ObjectTypeDefinitionNode | ObjectTypeExtensionNode
                          | InterfaceTypeDefinitionNode | InterfaceTypeExtensionNode):
            continue
        for field_def in definition.fields or ():
            for directive in field_def.directives or ():
                if directive.name.value == name:
                    sizes[(definition.name.value, field_def.name.value)] = _list_size(directive)
    return sizes


def _list_size_name(document: DocumentNode) -> str:
    """The local name of @listSize under the document's @link imports."""
    for definition in document.definitions:
        if not isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            continue
        for link in definition.directives or ():
            if link.name.value != "link":
                continue
            args = {a.name.value: a.value for a in link.arguments or ()}
            url = args.get("url")
            if not isinstance(url, StringValueNode) or not url.value.startswith(
                (COST_SPEC, FEDERATION_SPEC)
            ):
                continue
            for imported in _imports(args.get("import")):
                if imported[0] == "@listSize":
                    return imported[1].lstrip("@")
    return "listSize"


def _imports(value: ValueNode | None) -> Iterable[tuple[str, str]]:
    if not isinstance(value, ListValueNode):
        return
    for item in value.values:
        if isinstance(item, StringValueNode):
            yield item.value, item.value
        elif hasattr(item, "fields"):
            parts = {f.name.value: f.value for f in item.fields}
            name, alias = parts.get("name"), parts.get("as")
            if isinstance(name, StringValueNode):
                local = alias.value if isinstance(alias, StringValueNode) else name.value
                yield name.value, local


def _list_size(directive: DirectiveNode) -> ListSize:
    args = {a.name.value: a.value for a in directive.arguments or ()}
    assumed = args.get("assumedSize")
    slicing = args.get("slicingArguments")
    return ListSize(
        assumed_size=int(assumed.value) if isinstance(assumed, IntValueNode) else None,
        slicing_arguments=tuple(
            v.value for v in slicing.values if isinstance(v, StringValueNode)
        ) if isinstance(slicing, ListValueNode) else (),
    )
