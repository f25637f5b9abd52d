"""Plans an operation over the subgraphs of a Federation 2 supergraph.

The planner walks the client's selection and keeps, for every object position it visits, a
``Ctx``: the fetch group (one subgraph request) that holds the object, the selection in that
group, the object's type and response path, what ``@provides`` guarantees there, and how it was
reached from its parent. A field the group's subgraph cannot resolve is reached by entering
another subgraph:

- through ``_entities`` with a ``@key`` of the object's type (or of an interface the target
  sees as an ``@interfaceObject``), the key and any ``@requires`` fields being planned first in
  the current position, as internal fields that never clash with the client's response keys;
- or, where the type has no key there (a value type, ``resolvable: false``), by re-entering at
  the nearest ancestor the target can reach (an entity, or the query root) and repeating the
  fields in between.

Groups are shared per (subgraph, path, type) as long as that creates no cycle and no clash of
representations, so a chain A -> B -> A -> B becomes a sequence of fetches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import count

from graphql import (
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
from graphql.language import (
    FieldNode,
    FragmentDefinitionNode,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    visit,
)
from graphql.language.visitor import Visitor

from gateway.collect import Fields, collect_fields, sub_selections, type_applies
from gateway.plan import Plan, Projection
from gateway.selection import GField, GSel, arguments_text
from gateway.shape import build_shape
from gateway.steps import Group, Path, PlanError, StepBuilder
from gateway.supergraph import Key, Supergraph

# How deep the estimate of a subtree's cost looks when choosing between subgraphs.
ESTIMATE_DEPTH = 3
# What a member of a union or interface that a subgraph cannot return weighs against fetches.
UNKNOWN_MEMBER_COST = 100
# Entity jumps nested while planning keys of keys; beyond this the supergraph has no answer.
MAX_NESTED_JUMPS = 32


def _unwrap(t: GraphQLOutputType) -> tuple[GraphQLNamedType, int]:
    depth = 0
    while isinstance(t, GraphQLNonNull | GraphQLList):
        if isinstance(t, GraphQLList):
            depth += 1
        t = t.of_type
    return t, depth


@dataclass(eq=False)
class Ctx:
    """One object position inside one fetch group."""

    group: Group
    sel: GSel
    type_name: str  # the object's supergraph type (an interface where the subgraph sees one)
    path: Path
    provided: list[SelectionSetNode] | None
    client: Fields  # the client's fields on this object: internal fields avoid their keys
    parent: Ctx | None = None
    via: GField | None = None  # the parent's field that leads here
    frag: str | None = None  # the type condition under ``via``, for abstract field types
    # whether the object's __typename is already fetched (abstract positions, entities)
    typed: bool = False
    # At an interface's own level: every response key the client uses on this object in any
    # of its types. ``client`` then holds only the interface-level fields, the ones an
    # internal field may share; type-specific keys mean different fields per type.
    taken: frozenset[str] | None = None

    @property
    def service(self) -> str:
        return self.group.service


@dataclass
class Option:
    """One way into subgraph ``target`` for a field the current group cannot resolve."""

    target: str
    anchor: Ctx
    chain: list[Ctx]  # positions from just below the anchor down to the field's object
    rep_type: str = ""  # type named in representations (the entity or its interface object)
    keys: list[Key] = field(default_factory=list)
    requires: SelectionSetNode | None = None
    root: bool = False


class AliasMaker:
    """Aliases for internal fields: unique in the operation, stable per field signature."""

    def __init__(self, used: set[str]) -> None:
        self.used = used
        self.by_signature: dict[tuple[str, str], str] = {}
        self.n = count()

    def fresh(self, name: str) -> str:
        while True:
            alias = f"{name}__{next(self.n)}"
            if alias not in self.used:
                self.used.add(alias)
                return alias

    def for_signature(self, name: str, args_text: str) -> str:
        alias = self.by_signature.get((name, args_text))
        if alias is None:
            alias = self.by_signature[(name, args_text)] = self.fresh(name)
        return alias


class _Names(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_field(self, node: FieldNode, *_: object) -> None:
        self.names.add(node.name.value)
        if node.alias:
            self.names.add(node.alias.value)


class Planner:
    def __init__(
        self,
        supergraph: Supergraph,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        conditions: Mapping[str, bool],
    ) -> None:
        self.sg = supergraph
        self.schema = supergraph.schema
        self.operation = operation
        self.fragments = fragments
        self.conditions = conditions
        self.ids = count()
        self.groups: list[Group] = []
        self.registry: dict[tuple[str, Path, str, str], list[Group]] = {}
        self.roots: dict[str, Ctx] = {}
        self.root_fields: Fields = {}
        self.stage = 0
        self.nested_jumps = 0
        names = _Names()
        visit(operation, names)
        for frag in fragments.values():
            visit(frag, names)
        self.aliases = AliasMaker(names.names)

    def collect(self, type_name: str, sets: list[SelectionSetNode]) -> Fields:
        return collect_fields(self.schema, type_name, sets, self.fragments, self.conditions)

    # --- the plan -------------------------------------------------------------------------

    def plan(self) -> Plan:
        op = self.operation.operation
        root_type = self.sg.api_schema.get_root_type(op)
        if root_type is None:
            raise PlanError(f"the schema has no {op.value} type")
        fields = self.collect(root_type.name, [self.operation.selection_set])
        self.root_fields = fields
        introspection = tuple(
            k for k, nodes in fields.items() if nodes[0].name.value in ("__schema", "__type")
        )
        current: Ctx | None = None
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if name.startswith("__"):
                continue
            owners = self.sg.field_graphs(root_type.name, name)
            if not owners:
                raise PlanError(f"no subgraph resolves {root_type.name}.{name}")
            ranked = sorted(owners, key=lambda s: (
                self._field_misses(s, root_type.name, nodes, None, 0),
                current is None or s != current.service,
                s not in self.roots,
                s,
            ))
            if op == OperationType.MUTATION:
                # Mutation fields run one after another: a new stage whenever the subgraph
                # changes.
                if current is None or current.service != ranked[0]:
                    self.stage = 0 if current is None else self.stage + 1
                    current = self._new_root(ranked[0], root_type.name)
                ctx = current
            else:
                ctx = self.roots.get(ranked[0]) or self._new_root(ranked[0], root_type.name)
            ctx.group.root_keys.append(key)
            self.plan_field(ctx, key, nodes)
        stages_count = self.stage + 1
        builder = StepBuilder(self.sg, self.operation, self.aliases.fresh)
        stages = [
            builder.stage([g for g in self.groups if g.stage == i]) for i in range(stages_count)
        ]
        shape = build_shape(
            self.sg.api_schema, root_type, [self.operation.selection_set], self.fragments,
            self.conditions,
        )
        abstract = frozenset(
            name for name, t in self.schema.type_map.items() if is_abstract_type(t)
        )
        return Plan(op.value, stages, introspection, shape, abstract)

    def _new_root(self, service: str, root_type: str) -> Ctx:
        group = Group(next(self.ids), service, (), root_type, False, self.stage)
        self.groups.append(group)
        ctx = Ctx(group, group.sel, root_type, (), None, self.root_fields)
        if self.operation.operation != OperationType.MUTATION:
            self.roots[service] = ctx
        return ctx

    # --- client fields --------------------------------------------------------------------

    def plan_fields(self, ctx: Ctx, fields: Fields) -> set[Group]:
        touched: set[Group] = {ctx.group}
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                ctx.sel.typename = ctx.sel.typename or not ctx.typed
                continue
            if name in ("__schema", "__type"):
                continue
            touched |= self.plan_field(ctx, key, nodes)
        return touched

    def plan_field(
        self, ctx: Ctx, key: str, nodes: list[FieldNode], requires_met: bool = False
    ) -> set[Group]:
        touched, _ = self._place(ctx, key, nodes, requires_met, None)
        return touched

    def _field_def(self, type_name: str, name: str) -> GraphQLOutputType:
        parent = self.schema.get_type(type_name)
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) or (
            name not in parent.fields
        ):
            raise PlanError(f"{type_name}.{name} is not in the supergraph")
        ftype: GraphQLOutputType = parent.fields[name].type
        return ftype

    def _place(
        self,
        ctx: Ctx,
        key: str,
        nodes: list[FieldNode],
        requires_met: bool,
        internal: SelectionSetNode | None,
    ) -> tuple[set[Group], Projection | None]:
        """Puts one field into ``ctx`` (or into the subgraph that can resolve it). With
        ``internal`` (a field set's sub-selection) the field is one the gateway needs for a key
        or @requires; answers the groups touched and, then, how to project it."""
        name = nodes[0].name.value
        ftype = self._field_def(ctx.type_name, name)
        finfo = self.sg.field_info(ctx.type_name, name)
        if finfo is not None and finfo.context_arguments:
            raise PlanError(
                f"{ctx.type_name}.{name} takes an argument from @fromContext, which this "
                "gateway does not support"
            )
        local = self.local(ctx.service, ctx.type_name, name, ctx.provided)
        if not local and requires_met:
            local = ctx.service in self.sg.field_graphs(ctx.type_name, name)
        if not local:
            return self.jump(ctx, key, nodes, internal)
        named, depth = _unwrap(ftype)
        args = tuple(nodes[0].arguments or ())
        gf = ctx.sel.add(key, name, args, arguments_text(args), is_composite_type(named))
        if gf.selection is None:
            return {ctx.group}, None
        provided = self._provided_below(ctx, name)
        path = ctx.path + (key,) + ("@",) * depth
        if internal is not None:
            return self._internal_composite(ctx, gf, named.name, path, provided, internal,
                                            ctx.client.get(key))
        sets = sub_selections(nodes)
        return self._client_composite(ctx, gf, named.name, path, provided, sets), None

    def _provided_below(self, ctx: Ctx, name: str) -> list[SelectionSetNode] | None:
        provided = provided_sub(self.schema, ctx.provided, ctx.type_name, name)
        finfo = self.sg.field_info(ctx.type_name, name)
        if finfo is not None and ctx.service in finfo.provides:
            provided = [*(provided or []), finfo.provides[ctx.service]]
        return provided or None

    def _positions(self, service: str, parent: str, name: str, type_name: str) -> list[str]:
        """The concrete types an abstract field can answer with in ``service``: its own type
        there may be narrower (``@join__field(type:)``), and it may know fewer members."""
        local_type = _named_text(self.sg.subgraph_field_type(service, parent, name)) or type_name
        t = self.schema.get_type(local_type)
        if t is not None and not is_abstract_type(t):
            return [local_type]
        supergraph_types = {o.name for o in self.schema.get_possible_types(
            self.schema.get_type(type_name))}  # type: ignore[arg-type]
        return [n for n in self.sg.possible_in(service, local_type) if n in supergraph_types]

    def _client_composite(
        self,
        parent: Ctx,
        gf: GField,
        type_name: str,
        path: Path,
        provided: list[SelectionSetNode] | None,
        sets: list[SelectionSetNode],
    ) -> set[Group]:
        assert gf.selection is not None
        t = self.schema.get_type(type_name)
        if not is_abstract_type(t):
            fields = self.collect(type_name, sets)
            ctx = Ctx(parent.group, gf.selection, type_name, path, provided, fields, parent, gf)
            return self.plan_fields(ctx, fields)
        if self.sg.is_interface_object(parent.service, type_name):
            return self._interface_object(parent, gf, type_name, path, provided, sets)
        gf.selection.typename = True
        touched: set[Group] = {parent.group}
        for obj in self._positions(parent.service, parent.type_name, gf.name, type_name):
            fields = self.collect(obj, sets)
            if all(nodes[0].name.value == "__typename" for nodes in fields.values()):
                continue  # the abstract field's own __typename says it all
            ctx = Ctx(parent.group, gf.selection.fragment(obj), obj, path, provided, fields,
                      parent, gf, obj, typed=True)
            touched |= self.plan_fields(ctx, fields)
        return touched

    def _interface_object(
        self,
        parent: Ctx,
        gf: GField,
        iface: str,
        path: Path,
        provided: list[SelectionSetNode] | None,
        sets: list[SelectionSetNode],
    ) -> set[Group]:
        """The subgraph sees interface ``iface`` as an object type: it answers the interface's
        fields; the concrete type, when the client needs it, comes from an owner of the
        interface's @key."""
        assert gf.selection is not None
        shared = self.collect(iface, sets)
        concrete = {
            o.name: self.collect(o.name, sets)
            for o in self.schema.get_possible_types(self.schema.get_type(iface))  # type: ignore[arg-type]
        }
        taken = frozenset(shared).union(*concrete.values())
        # The subgraph answers __typename with the interface's name: enough to shape the
        # interface's own fields when the client needs no concrete type.
        gf.selection.typename = True
        ctx = Ctx(parent.group, gf.selection, iface, path, provided, shared, parent, gf,
                  typed=True, taken=taken)
        wants_typename = any(n[0].name.value == "__typename" for n in shared.values())
        touched = self.plan_fields(ctx, {
            k: n for k, n in shared.items() if n[0].name.value != "__typename"
        })
        residual = {
            obj: {k: n for k, n in fields.items() if shared.get(k) != n}
            for obj, fields in concrete.items()
        }
        # Interface fields under a type condition (`... on Company { badge }`) are the
        # interface object's to answer too: fetched here for every object, shown for the
        # right type when the response is shaped.
        movable = self._interface_level(ctx, residual)
        if movable:
            touched |= self.plan_fields(ctx, movable)
            residual = {obj: {k: n for k, n in fields.items() if k not in movable}
                        for obj, fields in residual.items()}
        residual = {obj: fields for obj, fields in residual.items() if fields}
        if not residual and not wants_typename:
            return touched
        owners = [
            g for g in sorted(self.sg.types[iface].graphs)
            if not self.sg.is_interface_object(g, iface)
            and self.sg.resolvable_keys(g, iface)
        ]
        if not owners:
            raise PlanError(
                f"no subgraph can tell which type each {iface} is: the client asks for "
                f"{'__typename' if wants_typename else 'type-specific fields'} and no "
                f"subgraph resolves {iface} by a @key"
            )
        option = Option(owners[0], ctx, [], iface, self.sg.resolvable_keys(owners[0], iface))
        child, entered = self.enter(option)
        child.sel.typename = True
        touched |= entered | {child.group}
        for obj in self.sg.possible_in(child.service, iface):
            wanted = residual.get(obj)
            if not wanted:
                continue
            frag = Ctx(child.group, child.sel.fragment(obj), obj, path, None, concrete[obj],
                       parent, gf, obj, typed=True)
            touched |= self.plan_fields(frag, wanted)
        return touched

    def _interface_level(self, ctx: Ctx, residual: dict[str, Fields]) -> Fields:
        """The type-specific fields the interface object's subgraph resolves itself: one
        field per response key across the types, else they stay with their types."""
        iface = self.schema.get_type(ctx.type_name)
        assert isinstance(iface, GraphQLInterfaceType)
        movable: Fields = {}
        signature: dict[str, tuple[str, str]] = {}
        blocked: set[str] = set()
        for fields in residual.values():
            for key, nodes in fields.items():
                name = nodes[0].name.value
                if name.startswith("__") or name not in iface.fields or not self.local(
                    ctx.service, ctx.type_name, name, ctx.provided
                ):
                    blocked.add(key)
                    continue
                sig = (name, arguments_text(tuple(nodes[0].arguments or ())))
                if signature.setdefault(key, sig) != sig:
                    blocked.add(key)
                movable.setdefault(key, []).extend(n for n in nodes if n not in movable[key])
        return {k: n for k, n in movable.items() if k not in blocked}

    # --- internal fields: keys and @requires ----------------------------------------------

    def internal_key(self, ctx: Ctx, node: FieldNode) -> str:
        """The response key of a field the gateway adds: the client's own key when the client
        selects the same field, else its name unless the client uses that name for another
        field, else an alias (always one for fields with arguments)."""
        name = node.name.value
        args = arguments_text(tuple(node.arguments or ()))
        for key, nodes in ctx.client.items():
            mine = nodes[0]
            if mine.name.value == name and arguments_text(tuple(mine.arguments or ())) == args:
                return key
        taken = ctx.client.keys() if ctx.taken is None else ctx.taken
        if not args and name not in taken:
            existing = ctx.sel.fields.get(name)
            if existing is None or existing.signature() == (name, ""):
                return name
        return self.aliases.for_signature(name, args)

    def plan_internal(
        self, ctx: Ctx, fieldset: SelectionSetNode
    ) -> tuple[set[Group], Projection]:
        touched: set[Group] = {ctx.group}
        proj = Projection()
        for sel in fieldset.selections:
            if isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition.name.value if sel.type_condition else None
                if type_applies(self.schema, ctx.type_name, cond):
                    t, p = self.plan_internal(ctx, sel.selection_set)
                    touched |= t
                    proj = proj.merged(p)
                continue
            if not isinstance(sel, FieldNode):
                continue
            name = sel.name.value
            if name == "__typename":
                ctx.sel.typename = True
                proj = proj.merged(Projection(typename=True))
                continue
            key = self.internal_key(ctx, sel)
            node = FieldNode(
                alias=NameNode(value=key) if key != name else None, name=sel.name,
                arguments=sel.arguments or (), directives=(), selection_set=None,
            )
            t, sub = self._place(ctx, key, [node], False, sel.selection_set)
            touched |= t
            proj = proj.merged(Projection(((key, name, sub),)))
        return touched, proj

    def _internal_composite(
        self,
        parent: Ctx,
        gf: GField,
        type_name: str,
        path: Path,
        provided: list[SelectionSetNode] | None,
        fieldset: SelectionSetNode | None,
        client_nodes: list[FieldNode] | None,
    ) -> tuple[set[Group], Projection | None]:
        assert gf.selection is not None
        if fieldset is None:
            gf.selection.typename = True
            return {parent.group}, None
        sets = sub_selections(client_nodes or [])
        t = self.schema.get_type(type_name)
        if not is_abstract_type(t):
            ctx = Ctx(parent.group, gf.selection, type_name, path, provided,
                      self.collect(type_name, sets), parent, gf)
            return self.plan_internal(ctx, fieldset)
        if self.sg.is_interface_object(parent.service, type_name):
            taken = frozenset(self.collect(type_name, sets)).union(*(
                self.collect(o.name, sets) for o in self.schema.get_possible_types(t)
            ))
            ctx = Ctx(parent.group, gf.selection, type_name, path, provided,
                      self.collect(type_name, sets), parent, gf, taken=taken)
            return self.plan_internal(ctx, fieldset)
        gf.selection.typename = True
        touched: set[Group] = {parent.group}
        by_type: list[tuple[str, Projection]] = []
        for obj in self._positions(parent.service, parent.type_name, gf.name, type_name):
            ctx = Ctx(parent.group, gf.selection.fragment(obj), obj, path, provided,
                      self.collect(obj, sets), parent, gf, obj, typed=True)
            t2, p = self.plan_internal(ctx, fieldset)
            touched |= t2
            by_type.append((obj, p))
        return touched, Projection(by_type=tuple(by_type), typename=True)

    # --- which subgraph resolves what -------------------------------------------------------

    def local(
        self, service: str, type_name: str, name: str, provided: list[SelectionSetNode] | None
    ) -> bool:
        """Whether ``service`` resolves ``type_name.name`` where it already holds the object."""
        if provided and provided_sub(self.schema, provided, type_name, name) is not None:
            return True
        info = self.sg.types.get(type_name)
        finfo = info.fields.get(name) if info else None
        if finfo is None:
            return info is None or service in info.graphs
        if service in finfo.graphs:
            return service not in finfo.requires
        # A subgraph answers its own key fields, even ones it marks @external (Federation 1).
        assert info is not None
        return any(_selects(k.fields, name) for k in info.keys.get(service, ()))

    def suppliable(
        self, service: str, type_name: str, fieldset: SelectionSetNode,
        provided: list[SelectionSetNode] | None,
    ) -> bool:
        for sel in fieldset.selections:
            if isinstance(sel, InlineFragmentNode):
                if not self.suppliable(service, type_name, sel.selection_set, provided):
                    return False
                continue
            if not isinstance(sel, FieldNode) or sel.name.value == "__typename":
                continue
            name = sel.name.value
            if not self.local(service, type_name, name, provided):
                return False
            if sel.selection_set is not None:
                named, _ = _unwrap(self._field_def(type_name, name))
                below = provided_sub(self.schema, provided, type_name, name)
                if is_abstract_type(named) or not self.suppliable(
                    service, named.name, sel.selection_set, below
                ):
                    return False
        return True

    def _field_misses(
        self, service: str, type_name: str, nodes: list[FieldNode],
        provided: list[SelectionSetNode] | None, depth: int,
    ) -> int:
        """Roughly how many more fetches ``service`` would need to answer this field's
        subtree: each field below it that it cannot resolve counts one."""
        name = nodes[0].name.value
        named, _ = _unwrap(self._field_def(type_name, name))
        if not is_composite_type(named) or depth >= ESTIMATE_DEPTH:
            return 0
        below = provided_sub(self.schema, provided, type_name, name)
        finfo = self.sg.field_info(type_name, name)
        if finfo is not None and service in finfo.provides:
            below = [*(below or []), finfo.provides[service]]
        sets = sub_selections(nodes)
        misses = 0
        if is_abstract_type(named) and not self.sg.is_interface_object(service, named.name):
            types = self._positions(service, type_name, name, named.name)
            # A subgraph that does not know some members of a union or interface never returns
            # those objects (a @shareable field whose subgraphs know different members):
            # prefer one that knows them all, whatever the client selects on them, even at
            # the price of more fetches.
            misses += UNKNOWN_MEMBER_COST * sum(
                1 for obj in self.schema.get_possible_types(named) if obj.name not in types
            )
        else:
            types = [named.name]
        for t in types:
            for nodes_below in self.collect(t, sets).values():
                child = nodes_below[0].name.value
                if child.startswith("__"):
                    continue
                if self.local(service, t, child, below or None):
                    misses += self._field_misses(service, t, nodes_below, below or None,
                                                 depth + 1)
                else:
                    misses += 1
        return misses

    # --- entering another subgraph --------------------------------------------------------

    def jump(
        self, ctx: Ctx, key: str, nodes: list[FieldNode], internal: SelectionSetNode | None
    ) -> tuple[set[Group], Projection | None]:
        name = nodes[0].name.value
        if self.nested_jumps > MAX_NESTED_JUMPS:
            raise PlanError(f"planning {ctx.type_name}.{name} does not converge")
        self.nested_jumps += 1
        try:
            options = self.options(ctx, name)
            if not options:
                raise PlanError(
                    f"no subgraph can resolve {ctx.type_name}.{name} from where subgraph "
                    f"{ctx.service} holds it (path {'.'.join(ctx.path) or 'root'})"
                )
            option = min(options, key=lambda o: self._rank(o, nodes))
            child, touched = self.enter(option)
            placed, proj = self._place(child, key, nodes, option.requires is not None, internal)
            return touched | placed, proj
        finally:
            self.nested_jumps -= 1

    def _rank(self, option: Option, nodes: list[FieldNode]) -> tuple[int, int, int, str]:
        anchor = option.anchor
        hops = 0
        if not option.root and not any(
            self.suppliable(anchor.service, anchor.type_name, k.fields, anchor.provided)
            for k in option.keys
        ):
            hops = 1
        last = option.chain[-1] if option.chain else anchor
        fetches = self._field_misses(option.target, option.rep_type if not option.chain
                                     else last.type_name, nodes, None, 0)
        if not self._reusable(option):
            fetches += 1
        return hops, fetches, len(option.chain), option.target

    def _reusable(self, option: Option) -> bool:
        if option.root:
            return option.target in self.roots
        a = option.anchor
        return bool(self.registry.get((option.target, a.path, a.type_name, option.rep_type)))

    def options(self, ctx: Ctx, name: str) -> list[Option]:
        finfo = self.sg.field_info(ctx.type_name, name)
        owners = sorted(finfo.graphs if finfo is not None
                        else self.sg.field_graphs(ctx.type_name, name))
        found: list[Option] = []
        for target in owners:
            requires = finfo.requires.get(target) if finfo is not None else None
            direct = self._entity_option(ctx, target, requires, name)
            if direct is not None:
                found.append(direct)
            elif requires is None:
                reentry = self._reentry(ctx, target)
                if reentry is not None:
                    found.append(reentry)
        return found

    def _entity_option(
        self, ctx: Ctx, target: str, requires: SelectionSetNode | None, name: str
    ) -> Option | None:
        keys = self.sg.resolvable_keys(target, ctx.type_name)
        if keys:
            return Option(target, ctx, [], ctx.type_name, keys, requires)
        t = self.schema.get_type(ctx.type_name)
        for iface in getattr(t, "interfaces", ()):
            if not self.sg.is_interface_object(target, iface.name):
                continue
            keys = self.sg.resolvable_keys(target, iface.name)
            if keys:
                ifinfo = self.sg.field_info(iface.name, name)
                required = ifinfo.requires.get(target) if ifinfo is not None else requires
                return Option(target, ctx, [], iface.name, keys, required)
        return None

    def _reentry(self, ctx: Ctx, target: str) -> Option | None:
        """The nearest ancestor from which ``target`` reaches this object: an entity with a
        key there, or the query root, with every field in between resolvable in ``target``."""
        chain: list[Ctx] = []
        at: Ctx | None = ctx
        while at is not None and at.parent is not None:
            above = at.parent
            assert at.via is not None
            if not self._step_valid(target, above, at):
                return None
            chain.insert(0, at)
            if above.parent is None and not above.group.entity and above.path == ():
                if self.operation.operation == OperationType.MUTATION:
                    return None
                return Option(target, above, chain, above.type_name, root=True)
            option = self._entity_option(above, target, None, at.via.name)
            if option is not None:
                option.chain = chain
                return option
            at = above
        return None

    def _step_valid(self, target: str, above: Ctx, at: Ctx) -> bool:
        assert at.via is not None
        name = at.via.name
        if not self.local(target, above.type_name, name, None):
            return False
        if at.frag is not None:
            named, _ = _unwrap(self._field_def(above.type_name, name))
            return at.frag in self._positions(target, above.type_name, name, named.name)
        return True

    def enter(self, option: Option) -> tuple[Ctx, set[Group]]:
        """A position in ``option.target`` at the option's object, with the representation
        (key and required fields) planned at the anchor."""
        anchor = option.anchor
        touched: set[Group] = set()
        if option.root:
            root = self.roots.get(option.target) or self._new_root(
                option.target, anchor.type_name
            )
            first = option.chain[0].via
            assert first is not None
            if first.key not in root.group.root_keys:
                root.group.root_keys.append(first.key)
            at = root
        else:
            if not anchor.typed:
                anchor.sel.typename = True
            key = next(
                (k for k in option.keys
                 if self.suppliable(anchor.service, anchor.type_name, k.fields, anchor.provided)),
                option.keys[0],
            )
            touched, key_proj = self.plan_internal(anchor, key.fields)
            proj = key_proj
            if option.requires is not None:
                more, required = self.plan_internal(anchor, option.requires)
                touched |= more
                proj = proj.merged(required)
            touched.add(anchor.group)
            group = self._entity_group(option, proj, key_proj, touched)
            at = Ctx(group, group.sel.fragment(option.rep_type), option.rep_type, anchor.path,
                     None, anchor.client, anchor.parent, anchor.via, anchor.frag, typed=True,
                     taken=anchor.taken)
        for step in option.chain:
            via = step.via
            assert via is not None
            gf = at.sel.add(via.key, via.name, via.arguments, via.args_text, True)
            assert gf.selection is not None
            sel = gf.selection
            if step.frag is not None:
                sel.typename = True
                sel = sel.fragment(step.frag)
            at = Ctx(at.group, sel, step.type_name, step.path,
                     self._provided_below(at, via.name), step.client, at, gf, step.frag,
                     typed=step.frag is not None, taken=step.taken)
        return at, touched

    def _entity_group(
        self, option: Option, proj: Projection, key_proj: Projection, deps: set[Group]
    ) -> Group:
        anchor = option.anchor
        slot = (option.target, anchor.path, anchor.type_name, option.rep_type)
        for g in self.registry.get(slot, ()):
            assert g.projection is not None
            if g.stage != self.stage or g.projection.conflicts_with(proj):
                continue
            if any(_reaches(d, g) for d in deps):
                continue  # g feeds what this representation needs: a later fetch, not g
            g.projection = g.projection.merged(proj)
            g.deps |= deps
            return g
        group = Group(next(self.ids), option.target, anchor.path, anchor.type_name, True,
                      self.stage)
        group.rep_type = option.rep_type
        if self.sg.is_interface_object(option.target, option.rep_type):
            group.rep_typename = option.rep_type
        group.projection = proj
        group.key = key_proj
        group.deps = set(deps)
        self.groups.append(group)
        self.registry.setdefault(slot, []).append(group)
        return group


def _reaches(start: Group, goal: Group) -> bool:
    seen: set[int] = set()
    todo = [start]
    while todo:
        g = todo.pop()
        if g is goal:
            return True
        if g.id in seen:
            continue
        seen.add(g.id)
        todo.extend(g.deps)
    return False


def _named_text(type_text: str) -> str:
    return type_text.replace("[", "").replace("]", "").replace("!", "")


def _selects(ss: SelectionSetNode, name: str) -> bool:
    return any(isinstance(s, FieldNode) and s.name.value == name for s in ss.selections)


def provided_sub(
    schema: GraphQLSchema, provided: list[SelectionSetNode] | None, type_name: str, name: str
) -> list[SelectionSetNode] | None:
    """What ``@provides`` guarantees below ``type_name.name``: None when the field is not
    provided, else the provided selections below it (empty for a leaf)."""
    if not provided:
        return None
    found: list[SelectionSetNode] | None = None
    for ss in provided:
        for sel in ss.selections:
            if isinstance(sel, FieldNode) and sel.name.value == name:
                found = found if found is not None else []
                if sel.selection_set is not None:
                    found.append(sel.selection_set)
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition.name.value if sel.type_condition else None
                if type_applies(schema, type_name, cond):
                    below = provided_sub(schema, [sel.selection_set], type_name, name)
                    if below is not None:
                        found = [*(found or []), *below]
    return found

