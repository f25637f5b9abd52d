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

from common.limits import LimitExceeded, Measure, fragments_of, list_sizes_from_sdl, measure
from gateway.config import GatewayConfig
from gateway.limits import limits_of, without_suggestion
from gateway.plan import Plan
from gateway.planner import Planner
from gateway.supergraph import Supergraph

MAX_PLANS_PER_OPERATION = 16
MAX_MEASURES_PER_OPERATION = 16


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
        cache: OperationCache | None = None,
        measured: Measure | None = None,
    ) -> None:
        self.supergraph = supergraph
        self.cache = cache
        self.measured = measured
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
        self._sized: dict[tuple[Any, ...], LimitExceeded | None] = {}

    @property
    def kind(self) -> str:
        return self.operation.operation.value

    def ready_for(self, coerced: Mapping[str, Any]) -> bool:
        """Whether this request's limits and plan are known already (no CPU work left)."""
        return (self._sizes_key(coerced) in self._sized or not self._depends_on_sizes()) and (
            self._plan_key(coerced) in self._plans
        )

    def _depends_on_sizes(self) -> bool:
        return bool(self.measured and self.measured.size_variables and self.cache)

    def _sizes_key(self, coerced: Mapping[str, Any]) -> tuple[Any, ...]:
        names = sorted(self.measured.size_variables) if self.measured else ()
        return tuple(coerced.get(n) for n in names)

    def _plan_key(self, coerced: Mapping[str, Any]) -> tuple[bool, ...]:
        return tuple(bool(coerced.get(n)) for n in self.condition_vars)

    def check_sizes(self, coerced: Mapping[str, Any]) -> None:
        """Measures again with the request's page sizes when variables set them; raises
        OperationError past a limit."""
        if not self._depends_on_sizes():
            return
        assert self.cache is not None
        key = self._sizes_key(coerced)
        if key not in self._sized:
            if len(self._sized) >= MAX_MEASURES_PER_OPERATION:
                self._sized.pop(next(iter(self._sized)))
            try:
                self.cache.measure(self.operation, self.fragments, coerced)
                self._sized[key] = None
            except LimitExceeded as exc:
                self._sized[key] = exc
        refused = self._sized[key]
        if refused is not None:
            raise OperationError(refused.message, **refused.extensions)

    def plan(self, coerced: Mapping[str, Any]) -> Plan:
        key = self._plan_key(coerced)
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
        self.limits = limits_of(config)
        self.list_sizes = list_sizes_from_sdl(supergraph.sdl)

    def measure(
        self,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any] | None = None,
    ) -> Measure:
        return measure(operation, fragments, self.limits, schema=self.supergraph.api_schema,
                       list_sizes=self.list_sizes, variables=variables)

    def cached(self, query: str, operation_name: str | None) -> bool:
        return (query, operation_name) in self._entries

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
        # Limits come before validation: they are linear in the document, while some
        # validation rules are not.
        try:
            document = parse(query, max_tokens=self.config.max_tokens)
        except GraphQLError as exc:
            if "Parsing aborted" in exc.message:
                return OperationError(
                    f"The document has more than {self.config.max_tokens} tokens.",
                    limit="tokens", max=self.config.max_tokens,
                )
            return OperationError(exc.message, "BAD_USER_INPUT")
        except RecursionError:
            return OperationError("The operation is nested too deeply to read.", limit="depth")
        try:
            operation = _select_operation(document, operation_name)
        except OperationError as exc:
            return exc
        fragments = fragments_of(document)
        try:
            measured = self.measure(operation, fragments)
        except LimitExceeded as exc:
            return OperationError(exc.message, **exc.extensions)
        try:
            errors = validate(self.supergraph.api_schema, document)
        except RecursionError:
            return OperationError("The operation is nested too deeply to read.", limit="depth")
        if not self.config.introspection:
            errors = errors or _introspection_errors(document)
        if errors:
            messages = [self._message(e.message) for e in errors[:10]]
            return OperationError(messages[0], "BAD_USER_INPUT", validation=messages)
        return PreparedOperation(self.supergraph, document, operation, self, measured)

    def _message(self, message: str) -> str:
        return message if self.config.introspection else without_suggestion(message)


def _introspection_errors(document: DocumentNode) -> list[GraphQLError]:
    found: list[GraphQLError] = []

    class _Finder(Visitor):
        def enter_field(self, node: Any, *_: Any) -> None:
            if node.name.value in ("__schema", "__type"):
                found.append(GraphQLError("Introspection is disabled on this gateway."))

    visit(document, _Finder())
    return found
