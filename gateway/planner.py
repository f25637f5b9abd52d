"""Plans an operation over the subgraphs: root fields to owners, entity jumps via _entities."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import count

from graphql import (
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_abstract_type,
    is_composite_type,
)
from graphql.language import (
    FieldNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

from gateway.collect import Fields, collect_fields, sub_selections
from gateway.plan import Plan, Projection
from gateway.selection import GSel, SelectionConflict
from gateway.shape import build_shape
from gateway.steps import Group, Path, PlanError, StepBuilder
from gateway.supergraph import Supergraph, TypeInfo


def _unwrap(t: GraphQLOutputType) -> tuple[GraphQLNamedType, int]:
    depth = 0
    while isinstance(t, GraphQLNonNull | GraphQLList):
        if isinstance(t, GraphQLList):
            depth += 1
        t = t.of_type
    return t, depth


class Planner:
    def __init__(
        self,
        supergraph: Supergraph,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        conditions: Mapping[str, bool],
    ) -> None:
        self.sg = supergraph
        self.schema = supergraph.api_schema
        self.operation = operation
        self.fragments = fragments
        self.conditions = conditions
        self.ids = count()
        self.groups: list[Group] = []
        self.jump_depth = 0

    def collect(self, type_name: str, sets: list[SelectionSetNode]) -> Fields:
        return collect_fields(self.schema, type_name, sets, self.fragments, self.conditions)

    def _group(self, service: str, path: Path, type_name: str, entity: bool) -> Group:
        g = Group(next(self.ids), service, path, type_name, entity)
        self.groups.append(g)
        return g

    # --- the plan -------------------------------------------------------------------------

    def plan(self) -> Plan:
        try:
            return self._plan()
        except SelectionConflict as exc:
            raise PlanError(
                f"the response key '{exc}' names two different fields, and the gateway needs "
                f"'{exc}' itself to join subgraphs; choose another alias"
            ) from exc

    def _plan(self) -> Plan:
        op = self.operation.operation
        root_type = self.schema.get_root_type(op)
        if root_type is None:
            raise PlanError(f"the schema has no {op.value} type")
        fields = self.collect(root_type.name, [self.operation.selection_set])
        introspection = tuple(
            k for k, nodes in fields.items() if nodes[0].name.value in ("__schema", "__type")
        )
        stages_roots: list[list[Group]] = []
        if op == OperationType.MUTATION:
            current: Group | None = None
            for key, nodes in fields.items():
                name = nodes[0].name.value
                if name.startswith("__"):
                    continue
                graphs = sorted(self.sg.field_graphs(root_type.name, name))
                if not graphs:
                    raise PlanError(f"no subgraph resolves {root_type.name}.{name}")
                if current is None or current.service not in graphs:
                    current = self._group(graphs[0], (), root_type.name, False)
                    stages_roots.append([current])
                current.root_keys.append(key)
                self.plan_field(current, current.sel, root_type.name, key, nodes, (), None)
        else:
            roots: dict[str, Group] = {}
            for key, nodes in fields.items():
                name = nodes[0].name.value
                if name.startswith("__"):
                    continue
                owners = self.sg.field_graphs(root_type.name, name)
                if not owners:
                    raise PlanError(f"no subgraph resolves {root_type.name}.{name}")
                service = next((s for s in roots if s in owners), None) or sorted(owners)[0]
                if service not in roots:
                    roots[service] = self._group(service, (), root_type.name, False)
                g = roots[service]
                g.root_keys.append(key)
                self.plan_field(g, g.sel, root_type.name, key, nodes, (), None)
            stages_roots.append(list(roots.values()))
        builder = StepBuilder(self.schema, self.operation)
        stages = [builder.stage(roots) for roots in stages_roots]
        shape = build_shape(
            self.schema, root_type, [self.operation.selection_set], self.fragments, self.conditions
        )
        return Plan(op.value, stages, introspection, shape)

    # --- fields ---------------------------------------------------------------------------

    def plan_fields(
        self,
        group: Group,
        gsel: GSel,
        type_name: str,
        fields: Fields,
        path: Path,
        provided: SelectionSetNode | None,
    ) -> set[Group]:
        touched: set[Group] = {group}
        for key, nodes in fields.items():
            if nodes[0].name.value == "__typename":
                gsel.typename = True
                continue
            touched |= self.plan_field(group, gsel, type_name, key, nodes, path, provided)
        return touched

    def _local(
        self, service: str, type_name: str, name: str, provided: SelectionSetNode | None
    ) -> bool:
        if provided is not None and _provided_field(provided, name) is not None:
            return True
        info = self.sg.types.get(type_name)
        finfo = info.fields.get(name) if info else None
        if finfo is None:
            return info is None or service in info.graphs
        if service in finfo.graphs:
            return service not in finfo.requires
        # A subgraph can always answer its own key fields, even ones it marks @external.
        return info is not None and any(
            _selects(k.fields, name) for k in info.keys.get(service, ())
        )

    def plan_field(
        self,
        group: Group,
        gsel: GSel,
        type_name: str,
        key: str,
        nodes: list[FieldNode],
        path: Path,
        provided: SelectionSetNode | None,
        requires_met: bool = False,
    ) -> set[Group]:
        name = nodes[0].name.value
        parent = self.schema.get_type(type_name)
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) or (
            name not in parent.fields
        ):
            raise PlanError(f"{type_name}.{name} is not in the API schema")
        local = self._local(group.service, type_name, name, provided)
        if not local and requires_met:
            local = group.service in self.sg.field_graphs(type_name, name)
        if not local:
            return self.jump(group, gsel, type_name, key, nodes, path, provided)
        named, depth = _unwrap(parent.fields[name].type)
        gf = gsel.add_field(nodes[0], is_composite_type(named))
        if gf.selection is None:
            return {group}
        child_provided = None
        if provided is not None:
            pf = _provided_field(provided, name)
            child_provided = pf.selection_set if pf is not None else None
        finfo = self.sg.types[type_name].fields.get(name) if type_name in self.sg.types else None
        if finfo is not None and group.service in finfo.provides:
            child_provided = finfo.provides[group.service]
        child_path = path + (key,) + ("@",) * depth
        return self.plan_composite(
            group, gf.selection, named.name, sub_selections(nodes), child_path, child_provided
        )

    def plan_composite(
        self,
        group: Group,
        gsel: GSel,
        type_name: str,
        sets: list[SelectionSetNode],
        path: Path,
        provided: SelectionSetNode | None,
    ) -> set[Group]:
        t = self.schema.get_type(type_name)
        if not is_abstract_type(t):
            return self.plan_fields(group, gsel, type_name, self.collect(type_name, sets), path,
                                    provided)
        gsel.typename = True
        touched: set[Group] = {group}
        info = self.sg.types.get(type_name)
        if info is not None and group.service in info.interface_object_graphs:
            # The subgraph sees the interface as an object: ask it for the interface only, then
            # resolve the concrete type through an owner of the interface.
            return self._plan_interface_object(group, gsel, type_name, sets, path, provided)
        known = info.members.get(group.service, set()) if info else set()
        for obj in self.schema.get_possible_types(t):
            if known and obj.name not in known:
                continue
            if not known and not self.sg.knows_type(group.service, obj.name):
                continue
            fields = self.collect(obj.name, sets)
            if not fields:
                continue
            frag = gsel.fragment(obj.name)
            touched |= self.plan_fields(group, frag, obj.name, fields, path, provided)
        return touched

    def _plan_interface_object(
        self,
        group: Group,
        gsel: GSel,
        type_name: str,
        sets: list[SelectionSetNode],
        path: Path,
        provided: SelectionSetNode | None,
    ) -> set[Group]:
        info = self.sg.types[type_name]
        keys = self.sg.resolvable_keys(group.service, type_name)
        if not keys:
            raise PlanError(f"interface object {type_name} in {group.service} has no key")
        key_fields = self.collect(type_name, [keys[0].fields])
        touched = self.plan_fields(group, gsel, type_name, key_fields, path, provided)
        owner = next(
            (g for g in sorted(info.graphs)
             if g not in info.interface_object_graphs and self.sg.resolvable_keys(g, type_name)),
            None,
        )
        if owner is None:
            raise PlanError(f"no subgraph resolves the concrete type of {type_name}")
        child = self._child(group, owner, path, type_name, type_name, keys[0].fields, touched)
        return touched | {child} | self.plan_composite(
            child, child.sel, type_name, sets, path, None
        )

    # --- entity jumps ---------------------------------------------------------------------

    def _can_provide(
        self, service: str, type_name: str, ss: SelectionSetNode, provided: SelectionSetNode | None
    ) -> bool:
        for sel in ss.selections:
            name = sel.name.value  # type: ignore[attr-defined]
            if name == "__typename":
                continue
            if not self._local(service, type_name, name, provided):
                return False
            sub = sel.selection_set  # type: ignore[attr-defined]
            if sub is not None:
                parent = self.schema.get_type(type_name)
                assert isinstance(parent, GraphQLObjectType)
                named, _ = _unwrap(parent.fields[name].type)
                if not self._can_provide(service, named.name, sub, None):
                    return False
        return True

    def jump(
        self,
        group: Group,
        gsel: GSel,
        type_name: str,
        key: str,
        nodes: list[FieldNode],
        path: Path,
        provided: SelectionSetNode | None,
    ) -> set[Group]:
        name = nodes[0].name.value
        info = self.sg.types.get(type_name)
        if info is None:
            raise PlanError(f"no routing information for type {type_name}")
        if self.jump_depth > 40:
            raise PlanError(f"planning {type_name}.{name} does not converge")
        self.jump_depth += 1
        try:
            return self._jump(group, gsel, info, type_name, key, nodes, path, provided)
        finally:
            self.jump_depth -= 1

    def _jump(
        self,
        group: Group,
        gsel: GSel,
        info: TypeInfo,
        type_name: str,
        key: str,
        nodes: list[FieldNode],
        path: Path,
        provided: SelectionSetNode | None,
    ) -> set[Group]:
        name = nodes[0].name.value
        candidates: list[str] = sorted(self.sg.field_graphs(type_name, name))
        existing = {c[0] for c in group.children if c[1] == path and c[2] == type_name}
        candidates.sort(key=lambda g: g not in existing)
        choice = None
        fallback = None
        for target in candidates:
            rep_type = type_name
            keys = self.sg.resolvable_keys(target, type_name)
            if not keys:
                # Reachable through an interface the target sees as an @interfaceObject.
                for iface in self.sg.implements.get(type_name, {}).get(group.service, set()):
                    iinfo = self.sg.types.get(iface)
                    if iinfo and target in iinfo.interface_object_graphs:
                        keys = self.sg.resolvable_keys(target, iface)
                        rep_type = iface
                        break
            for k in keys:
                if self._can_provide(group.service, type_name, k.fields, provided):
                    choice = (target, k, rep_type)
                    break
                if fallback is None:
                    fallback = (target, k, rep_type)
            if choice:
                break
        choice = choice or fallback
        if choice is None:
            raise PlanError(
                f"cannot reach {type_name}.{name} from subgraph {group.service}: "
                "no subgraph with that field has a key this plan can supply"
            )
        target, k, rep_type = choice
        gsel.typename = True
        touched = self.plan_fields(
            group, gsel, type_name, self.collect(type_name, [k.fields]), path, provided
        )
        rep = k.fields
        finfo = info.fields.get(name)
        requires = finfo.requires.get(target) if finfo else None
        if requires is not None:
            touched |= self.plan_fields(
                group, gsel, type_name, self.collect(type_name, [requires]), path, provided
            )
        child = self._child(group, target, path, type_name, rep_type, rep, touched)
        if requires is not None:
            assert child.projection is not None
            child.projection = child.projection.merged(Projection.from_selection(requires))
        inner = child.sel.fragment(rep_type)
        if rep_type != type_name:
            return {child} | self._plan_via_interface(child, inner, rep_type, key, nodes, path)
        return {child} | self.plan_field(
            child, inner, type_name, key, nodes, path, None, requires_met=requires is not None
        )

    def _plan_via_interface(
        self, child: Group, inner: GSel, iface: str, key: str, nodes: list[FieldNode], path: Path
    ) -> set[Group]:
        # The target knows only the interface: plan the field on it.
        parent = self.schema.get_type(iface)
        assert isinstance(parent, GraphQLInterfaceType)
        name = nodes[0].name.value
        named, depth = _unwrap(parent.fields[name].type)
        gf = inner.add_field(nodes[0], is_composite_type(named))
        if gf.selection is None:
            return {child}
        return self.plan_composite(
            child, gf.selection, named.name, sub_selections(nodes),
            path + (key,) + ("@",) * depth, None,
        )

    def _child(
        self,
        group: Group,
        target: str,
        path: Path,
        type_name: str,
        rep_type: str,
        rep: SelectionSetNode,
        deps: set[Group],
    ) -> Group:
        ck = (target, path, type_name)
        child = group.children.get(ck)
        if child is None:
            child = self._group(target, path, type_name, True)
            child.rep_typename = rep_type if rep_type != type_name else None
            child.projection = Projection.from_selection(rep)
            group.children[ck] = child
        else:
            assert child.projection is not None
            child.projection = child.projection.merged(Projection.from_selection(rep))
        child.deps |= deps
        return child


def _selects(ss: SelectionSetNode, name: str) -> bool:
    return any(isinstance(s, FieldNode) and s.name.value == name for s in ss.selections)


def _provided_field(provided: SelectionSetNode, name: str) -> FieldNode | None:
    for sel in provided.selections:
        if isinstance(sel, FieldNode) and sel.name.value == name:
            return sel
    return None
