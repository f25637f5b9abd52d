"""Parsed, validated and measured operations with their plans, cached per document."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError, parse, validate
from graphql.language import (
    DocumentNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    VariableNode,
    visit,
)
from graphql.language.visitor import Visitor

from gateway.config import GatewayConfig
from gateway.limits import measure
from gateway.plan import Plan
from gateway.planner import Planner
from gateway.supergraph import Supergraph

MAX_PLANS_PER_OPERATION = 16


class OperationError(Exception):
    """The client's operation is unacceptable; answered with a coded GraphQL error."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT", **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extensions = extensions


class _ConditionVars(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_directive(self, node: Any, *_: Any) -> None:
        if node.name.value in ("skip", "include"):
            for a in node.arguments or ():
                if isinstance(a.value, VariableNode):
                    self.names.add(a.value.name.value)


class PreparedOperation:
    def __init__(
        self,
        supergraph: Supergraph,
        document: DocumentNode,
        operation: OperationDefinitionNode,
    ) -> None:
        self.supergraph = supergraph
        self.document = document
        self.operation = operation
        self.fragments: dict[str, FragmentDefinitionNode] = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        visitor = _ConditionVars()
        visit(document, visitor)
        self.condition_vars = tuple(sorted(visitor.names))
        self.variable_definitions = tuple(operation.variable_definitions or ())
        self._plans: dict[tuple[bool, ...], Plan] = {}

    @property
    def kind(self) -> str:
        return self.operation.operation.value

    def plan(self, coerced: Mapping[str, Any]) -> Plan:
        key = tuple(bool(coerced.get(n)) for n in self.condition_vars)
        plan = self._plans.get(key)
        if plan is None:
            conditions = dict(zip(self.condition_vars, key, strict=True))
            plan = Planner(self.supergraph, self.operation, self.fragments, conditions).plan()
            if len(self._plans) >= MAX_PLANS_PER_OPERATION:
                self._plans.pop(next(iter(self._plans)))
            self._plans[key] = plan
        return plan


def _select_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        for op in ops:
            if op.name and op.name.value == name:
                return op
        raise OperationError(f"Unknown operation named '{name}'.")
    if len(ops) != 1:
        raise OperationError("Must provide operation name if query contains multiple operations.")
    return ops[0]


class OperationCache:
    """Bounded LRU of prepared operations keyed by (document text, operation name)."""

    def __init__(self, supergraph: Supergraph, config: GatewayConfig) -> None:
        self.supergraph = supergraph
        self.config = config
        self._entries: OrderedDict[tuple[str, str | None], PreparedOperation | OperationError]
        self._entries = OrderedDict()
        self.last_hit = False

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str, operation_name: str | None) -> PreparedOperation:
        key = (query, operation_name)
        entry = self._entries.get(key)
        self.last_hit = entry is not None
        if entry is None:
            entry = self._prepare(query, operation_name)
            self._entries[key] = entry
            if len(self._entries) > self.config.plan_cache_size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        if isinstance(entry, OperationError):
            raise entry
        return entry

    def _prepare(
        self, query: str, operation_name: str | None
    ) -> PreparedOperation | OperationError:
        try:
            document = parse(query, max_tokens=50_000)
            errors = validate(self.supergraph.api_schema, document)
        except GraphQLError as exc:
            return OperationError(f"Syntax Error: {exc.message}", "BAD_USER_INPUT")
        except RecursionError:
            return OperationError("The operation is nested too deeply to read.", limit="depth")
        if not self.config.introspection:
            errors = errors or _introspection_errors(document)
        if errors:
            first = errors[0]
            return OperationError(first.message, "BAD_USER_INPUT", validation=[
                e.message for e in errors[:10]
            ])
        try:
            operation = _select_operation(document, operation_name)
        except OperationError as exc:
            return exc
        if operation.operation.value == "subscription":
            return OperationError("Subscriptions are not supported by this gateway.")
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        try:
            m = measure(operation.selection_set, fragments)
        except RecursionError:
            return OperationError("The operation is nested too deeply to read.", limit="depth")
        cfg = self.config
        if m.depth > cfg.max_depth:
            return OperationError(
                f"Operation is {m.depth} levels deep; the limit is {cfg.max_depth}.",
                limit="depth", max=cfg.max_depth, actual=m.depth,
            )
        if m.aliases > cfg.max_aliases:
            return OperationError(
                f"Operation uses {m.aliases} aliases; the limit is {cfg.max_aliases}.",
                limit="aliases", max=cfg.max_aliases, actual=m.aliases,
            )
        if m.cost > cfg.max_cost:
            return OperationError(
                f"Operation costs {m.cost} (fields times requested list sizes); the limit is "
                f"{cfg.max_cost}. Ask for fewer fields or smaller pages.",
                limit="cost", max=cfg.max_cost, actual=m.cost,
            )
        return PreparedOperation(self.supergraph, document, operation)


def _introspection_errors(document: DocumentNode) -> list[GraphQLError]:
    found: list[GraphQLError] = []

    class _Finder(Visitor):
        def enter_field(self, node: Any, *_: Any) -> None:
            if node.name.value in ("__schema", "__type"):
                found.append(GraphQLError("Introspection is disabled on this gateway."))

    visit(document, _Finder())
    return found
