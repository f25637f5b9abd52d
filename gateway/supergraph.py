"""Reads a join-spec supergraph (v0.3 to v0.5) into routing metadata and the client API schema."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    GraphQLSchema,
    SelectionSetNode,
    build_ast_schema,
    is_abstract_type,
    parse,
)
from graphql.language import (
    ArgumentNode,
    BooleanValueNode,
    ConstDirectiveNode,
    EnumTypeDefinitionNode,
    EnumValueNode,
    FieldDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListValueNode,
    Node,
    ObjectTypeDefinitionNode,
    SchemaDefinitionNode,
    StringValueNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
)

from gateway.apischema import build_api_document


class SupergraphError(ValueError):
    """The supergraph SDL is not a join-spec supergraph this gateway can serve."""


@dataclass
class FieldInfo:
    # subgraphs that resolve the field (neither @external nor overridden there)
    graphs: frozenset[str]
    requires: dict[str, SelectionSetNode] = field(default_factory=dict)
    provides: dict[str, SelectionSetNode] = field(default_factory=dict)
    # graph -> the field's type as that subgraph declares it, when it differs
    types: dict[str, str] = field(default_factory=dict)
    # subgraphs whose schema has the field, @external or overridden ones included
    declared: frozenset[str] = frozenset()
    # set by @fromContext (join__field contextArguments), which this gateway does not plan
    context_arguments: bool = False


@dataclass
class Key:
    fields: SelectionSetNode
    resolvable: bool


@dataclass
class TypeInfo:
    name: str
    graphs: list[str]
    keys: dict[str, list[Key]] = field(default_factory=dict)
    interface_object_graphs: set[str] = field(default_factory=set)
    fields: dict[str, FieldInfo] = field(default_factory=dict)
    # graph -> member/implementing type names that subgraph knows (unions and interfaces)
    members: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Supergraph:
    """Routing metadata of a supergraph plus its API schema."""

    sdl: str
    graph_urls: dict[str, str]
    graph_names: dict[str, str]  # enum value (ELEMENTS) -> subgraph name (elements)
    types: dict[str, TypeInfo]
    api_schema: GraphQLSchema
    implements: dict[str, dict[str, set[str]]]  # object type -> graph -> interfaces
    # The supergraph's own schema: the API schema plus @inaccessible elements, which the
    # planner needs for @key and @requires field sets.
    schema: GraphQLSchema

    def type_info(self, name: str) -> TypeInfo:
        return self.types[name]

    def field_info(self, type_name: str, field_name: str) -> FieldInfo | None:
        info = self.types.get(type_name)
        return info.fields.get(field_name) if info is not None else None

    def is_interface_object(self, graph: str, type_name: str) -> bool:
        info = self.types.get(type_name)
        return info is not None and graph in info.interface_object_graphs

    def subgraph_field_type(self, graph: str, type_name: str, field_name: str) -> str:
        """The field's type as ``graph`` declares it (``@join__field(type:)``), else the
        supergraph's."""
        finfo = self.field_info(type_name, field_name)
        if finfo is not None and graph in finfo.types:
            return finfo.types[graph]
        parent = self.schema.get_type(type_name)
        fields = getattr(parent, "fields", None) or {}
        return str(fields[field_name].type) if field_name in fields else ""

    def possible_in(self, graph: str, type_name: str) -> list[str]:
        """Concrete types an abstract type can take in ``graph``'s answers, in schema order."""
        t = self.schema.get_type(type_name)
        if t is None or not is_abstract_type(t):
            return [type_name] if t is not None else []
        info = self.types.get(type_name)
        known = info.members.get(graph, set()) if info is not None else set()
        return [o.name for o in self.schema.get_possible_types(t)
                if o.name in known]

    def field_graphs(self, type_name: str, field_name: str) -> frozenset[str]:
        info = self.types.get(type_name)
        if info is None:
            return frozenset()
        f = info.fields.get(field_name)
        if f is None:
            return frozenset(info.graphs)
        return f.graphs

    def knows_type(self, graph: str, type_name: str) -> bool:
        info = self.types.get(type_name)
        return info is not None and graph in info.graphs

    def resolvable_keys(self, graph: str, type_name: str) -> list[Key]:
        info = self.types.get(type_name)
        if info is None:
            return []
        return [k for k in info.keys.get(graph, []) if k.resolvable]


def _arg(directive: ConstDirectiveNode, name: str) -> object:
    for a in directive.arguments or ():
        if a.name.value == name:
            return _value(a)
    return None


def _value(arg: ArgumentNode) -> object:
    v = arg.value
    if isinstance(v, StringValueNode):
        return v.value
    if isinstance(v, BooleanValueNode):
        return v.value
    if isinstance(v, EnumValueNode):
        return v.value
    if isinstance(v, ListValueNode):
        return v
    return None


def field_set(text: str) -> SelectionSetNode:
    """Parses a join__FieldSet such as ``id organization { id }``."""
    doc = parse("{" + text + "}", no_location=True)
    op = doc.definitions[0]
    return op.selection_set  # type: ignore[attr-defined, no-any-return]


@dataclass
class _Specs:
    join: str = "join"
    link: str = "link"
    # prefixes (``join__``) of every linked spec, which the API schema drops
    prefixes: set[str] = field(default_factory=set)
    inaccessible: str | None = None
    directive_names: set[str] = field(default_factory=set)


def _read_links(doc: DocumentNode) -> _Specs:
    specs = _Specs()
    for d in doc.definitions:
        if not isinstance(d, SchemaDefinitionNode):
            continue
        for directive in d.directives or ():
            name = directive.name.value
            if name not in ("link", "core"):
                continue
            url = _arg(directive, "url") or _arg(directive, "feature")
            if not isinstance(url, str):
                continue
            parts = url.rstrip("/").split("/")
            spec_name = parts[-2] if len(parts) >= 2 else parts[-1]
            alias = _arg(directive, "as")
            local = alias if isinstance(alias, str) else spec_name
            specs.prefixes.add(f"{local}__")
            specs.directive_names.add(local)
            if spec_name == "join":
                specs.join = local
            elif spec_name in ("link", "core"):
                specs.link = local
            elif spec_name == "inaccessible":
                specs.inaccessible = local
            imports = _arg(directive, "import")
            if isinstance(imports, ListValueNode):
                for item in imports.values:
                    if isinstance(item, StringValueNode):
                        imported = item.value.lstrip("@")
                        specs.directive_names.add(imported)
                        if spec_name == "inaccessible" or imported == "inaccessible":
                            specs.inaccessible = imported
    specs.directive_names.add(specs.link)
    if "join__" not in specs.prefixes and specs.join == "join":
        specs.prefixes.add("join__")
    return specs


def _directives(node: Node, name: str) -> list[ConstDirectiveNode]:
    return [d for d in getattr(node, "directives", None) or () if d.name.value == name]


def load_supergraph(sdl: str) -> Supergraph:
    """Parses a supergraph SDL; raises SupergraphError with a reason when it is not one."""
    try:
        doc = parse(sdl, no_location=True)
    except Exception as exc:
        raise SupergraphError(f"supergraph does not parse: {exc}") from exc
    specs = _read_links(doc)
    join = specs.join
    graph_urls: dict[str, str] = {}
    graph_names: dict[str, str] = {}
    for d in doc.definitions:
        if isinstance(d, EnumTypeDefinitionNode) and d.name.value == f"{join}__Graph":
            for v in d.values or ():
                for g in _directives(v, f"{join}__graph"):
                    name = str(_arg(g, "name"))
                    graph_names[v.name.value] = name
                    graph_urls[name] = str(_arg(g, "url") or "")
    if not graph_names:
        raise SupergraphError(f"no {join}__Graph enum with @{join}__graph values: not a supergraph")

    types: dict[str, TypeInfo] = {}
    implements: dict[str, dict[str, set[str]]] = {}
    for d in doc.definitions:
        if not isinstance(d, TypeDefinitionNode):
            continue
        name = d.name.value
        if any(name.startswith(p) for p in specs.prefixes):
            continue
        info = TypeInfo(name=name, graphs=[])
        for jt in _directives(d, f"{join}__type"):
            graph = graph_names[str(_arg(jt, "graph"))]
            if graph not in info.graphs:
                info.graphs.append(graph)
            key = _arg(jt, "key")
            if isinstance(key, str):
                resolvable = _arg(jt, "resolvable")
                info.keys.setdefault(graph, []).append(
                    Key(field_set(key), resolvable is not False)
                )
            if _arg(jt, "isInterfaceObject") is True:
                info.interface_object_graphs.add(graph)
        if not info.graphs:
            info.graphs = list(graph_names.values())
        for ji in _directives(d, f"{join}__implements"):
            graph = graph_names[str(_arg(ji, "graph"))]
            implements.setdefault(name, {}).setdefault(graph, set()).add(str(_arg(ji, "interface")))
        if isinstance(d, UnionTypeDefinitionNode):
            for um in _directives(d, f"{join}__unionMember"):
                graph = graph_names[str(_arg(um, "graph"))]
                info.members.setdefault(graph, set()).add(str(_arg(um, "member")))
            if not _directives(d, f"{join}__unionMember"):
                for graph_name in info.graphs:
                    info.members[graph_name] = {t.name.value for t in d.types or ()}
        if isinstance(d, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            for fd in d.fields or ():
                info.fields[fd.name.value] = _field_info(fd, info, graph_names, join)
        types[name] = info

    # Interfaces know their implementations per graph (for routing by __typename).
    for obj, per_graph in implements.items():
        for graph, interfaces in per_graph.items():
            for iface in interfaces:
                if iface in types:
                    types[iface].members.setdefault(graph, set()).add(obj)
    _fields_from_interface_objects(doc, types)
    api_doc = build_api_document(doc, specs.prefixes, specs.directive_names, specs.inaccessible)
    full_doc = build_api_document(doc, specs.prefixes, specs.directive_names, None)
    try:
        api_schema = build_ast_schema(api_doc, assume_valid_sdl=True)
        schema = build_ast_schema(full_doc, assume_valid_sdl=True)
    except Exception as exc:
        raise SupergraphError(f"API schema does not build: {exc}") from exc
    _check_interfaces_without_implements(doc, types, implements)
    return Supergraph(sdl, graph_urls, graph_names, types, api_schema, implements, schema)


def _check_interfaces_without_implements(
    doc: DocumentNode, types: dict[str, TypeInfo], implements: dict[str, dict[str, set[str]]]
) -> None:
    # Old composers omit @join__implements: then every graph of an object knows its interfaces.
    for d in doc.definitions:
        if isinstance(d, ObjectTypeDefinitionNode) and d.name.value not in implements:
            info = types.get(d.name.value)
            if info is None:
                continue
            for iface in d.interfaces or ():
                target = types.get(iface.name.value)
                if target is None:
                    continue
                for g in info.graphs:
                    if g in target.graphs:
                        target.members.setdefault(g, set()).add(d.name.value)


def _fields_from_interface_objects(doc: DocumentNode, types: dict[str, TypeInfo]) -> None:
    for d in doc.definitions:
        if not isinstance(d, ObjectTypeDefinitionNode) or d.name.value not in types:
            continue
        info = types[d.name.value]
        for fname, finfo in info.fields.items():
            if finfo.graphs:
                continue
            graphs: set[str] = set()
            for iface in d.interfaces or ():
                iinfo = types.get(iface.name.value)
                ifield = iinfo.fields.get(fname) if iinfo else None
                if iinfo and ifield:
                    from_objects = ifield.graphs & iinfo.interface_object_graphs
                    graphs |= from_objects
                    for g in from_objects:
                        if g in ifield.requires:
                            finfo.requires[g] = ifield.requires[g]
                        if g in ifield.provides:
                            finfo.provides[g] = ifield.provides[g]
            finfo.graphs = frozenset(graphs)
            finfo.declared = finfo.declared | finfo.graphs


def _field_info(
    fd: FieldDefinitionNode, owner: TypeInfo, graph_names: dict[str, str], join: str
) -> FieldInfo:
    jfs = _directives(fd, f"{join}__field")
    if not jfs:
        return FieldInfo(graphs=frozenset(owner.graphs), declared=frozenset(owner.graphs))
    graphs: set[str] = set()
    declared: set[str] = set()
    info = FieldInfo(graphs=frozenset())
    for jf in jfs:
        g = _arg(jf, "graph")
        if g is None:
            # A bare @join__field: no subgraph that defines this type resolves the field; it
            # comes from an @interfaceObject (see _fields_from_interface_objects).
            continue
        graph = graph_names[str(g)]
        declared.add(graph)
        if _arg(jf, "contextArguments") is not None:
            info.context_arguments = True
        typ = _arg(jf, "type")
        if isinstance(typ, str):
            info.types[graph] = typ
        if _arg(jf, "external") is True or _arg(jf, "usedOverridden") is True:
            continue
        graphs.add(graph)
        requires = _arg(jf, "requires")
        if isinstance(requires, str):
            info.requires[graph] = field_set(requires)
        provides = _arg(jf, "provides")
        if isinstance(provides, str):
            info.provides[graph] = field_set(provides)
    info.graphs = frozenset(graphs)
    info.declared = frozenset(declared)
    return info
