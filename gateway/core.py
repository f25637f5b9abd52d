"""The gateway's request handling, independent of HTTP: prepare, plan, execute, shape."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import execute_sync
from graphql.execution.values import get_variable_values
from graphql.language import DocumentNode, FieldNode, OperationDefinitionNode, SelectionSetNode

from common import tracing
from gateway.client import SubgraphClient
from gateway.config import GatewayConfig
from gateway.executor import Execution
from gateway.limits import Offload, without_suggestion
from gateway.metrics import UNPARSED, GatewayMetrics
from gateway.operation import OperationCache, OperationError, PreparedOperation
from gateway.shape import INVALID, Completion
from gateway.steps import PlanError
from gateway.supergraph import Supergraph

log = logging.getLogger(__name__)
_tracer = tracing.tracer(__name__)

# Error codes that mean the system failed the client, not that the client asked wrongly.
SERVER_ERROR_CODES = frozenset({"UNAVAILABLE", "INTERNAL_SERVER_ERROR", "QUERY_PLANNING_FAILED"})


@dataclass
class Seen:
    """What is known of an operation once it is prepared: for its span and its metrics."""

    name: str | None = None
    kind: str = UNPARSED


def outcome_of(body: Any, status: int) -> str:
    """ok, client_error (only errors the client caused), server_error, refused (before
    execution) or failed (the gateway itself)."""
    if status >= 500:
        return "failed"
    if status >= 400:
        return "refused"
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return "ok"
    codes = [(e.get("extensions") or {}).get("code") if isinstance(e, dict) else None
             for e in errors]
    return "server_error" if any(c is None or c in SERVER_ERROR_CODES for c in codes) else (
        "client_error"
    )


def _operation_name(payload: Any) -> Any:
    return payload.get("operationName") if isinstance(payload, dict) else None


def operation_hash(payload: Any) -> str:
    """sha256 of the query text (as for persisted queries), to find an operation in logs."""
    query = payload.get("query") if isinstance(payload, dict) else None
    return hashlib.sha256(query.encode() if isinstance(query, str) else b"").hexdigest()


def error_body(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


class Gateway:
    def __init__(
        self,
        supergraph: Supergraph,
        client: SubgraphClient,
        config: GatewayConfig,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.supergraph = supergraph
        self.client = client
        self.config = config
        self.metrics = metrics
        self.operations = OperationCache(supergraph, config)
        self.offload = Offload()

    async def execute(
        self, payload: Any, headers: Mapping[str, str], *, allow_mutation: bool = True
    ) -> tuple[dict[str, Any], int]:
        """Runs one GraphQL request payload; answers (response body, HTTP status)."""
        started = time.perf_counter()
        seen = Seen()
        with _tracer.start_as_current_span("graphql.operation") as span:
            body, status = await self._answer(payload, headers, allow_mutation, seen)
            outcome = outcome_of(body, status)
            if span.is_recording():
                name = (seen.name or "")[:100]
                span.update_name(f"{seen.kind} {name}".rstrip())
                span.set_attributes({
                    "graphql.operation.name": name,
                    "graphql.operation.type": seen.kind,
                    # The document's hash, never its variables.
                    "graphql.document.hash": f"sha256:{operation_hash(payload)}",
                    "cers.outcome": outcome,
                })
                if outcome in ("server_error", "failed"):
                    tracing.record_error(span, outcome)
            if self.metrics is not None:
                self.metrics.observe_operation(
                    seen.name, seen.kind, outcome, time.perf_counter() - started,
                    tracing.exemplar(),
                )
        return body, status

    async def _answer(
        self, payload: Any, headers: Mapping[str, str], allow_mutation: bool, seen: Seen
    ) -> tuple[dict[str, Any], int]:
        try:
            return await self._execute(payload, headers, allow_mutation, seen)
        except Exception:
            # A gateway bug answers in GraphQL terms, and never as if a subgraph were down.
            digest = operation_hash(payload)
            log.exception(
                "gateway failed on operation %r (sha256 %s)", _operation_name(payload), digest,
                extra={"operation_sha256": digest},
            )
            return error_body(
                "The gateway failed on this operation; operators can find it in the logs by "
                "its x-request-id or operation hash.", "INTERNAL_SERVER_ERROR",
                operationHash=digest,
            ), 500

    async def _execute(
        self, payload: Any, headers: Mapping[str, str], allow_mutation: bool, seen: Seen
    ) -> tuple[dict[str, Any], int]:
        if not isinstance(payload, dict):
            return error_body("A GraphQL request must be a JSON object.", "BAD_USER_INPUT"), 400
        query = payload.get("query")
        if not isinstance(query, str) or not query.strip():
            return error_body("The request has no 'query' string.", "BAD_USER_INPUT"), 400
        name = payload.get("operationName")
        if name is not None and not isinstance(name, str):
            return error_body("'operationName' must be a string.", "BAD_USER_INPUT"), 400
        variables = payload.get("variables") or {}
        if not isinstance(variables, dict):
            return error_body("'variables' must be a JSON object.", "BAD_USER_INPUT"), 400
        hit = self.operations.cached(query, name or None)
        try:
            if hit:
                prepared = self.operations.get(query, name or None)
            else:
                prepared = await self.offload.run(self.operations.get, query, name or None)
        except OperationError as exc:
            self._count("refused")
            return error_body(exc.message, exc.code, **exc.extensions), 400
        self._count("hit" if hit else "miss")
        seen.name = prepared.operation.name.value if prepared.operation.name else None
        seen.kind = prepared.kind
        if prepared.kind == "subscription":
            return error_body(
                "Subscriptions are served at this same /graphql over WebSocket "
                "(graphql-transport-ws) and over Server-Sent Events (POST with 'Accept: "
                "text/event-stream'); see gateway/README.md.", "BAD_USER_INPUT"), 400
        if prepared.kind == "mutation" and not allow_mutation:
            return error_body("Mutations must be sent with POST.", "BAD_USER_INPUT"), 405
        try:
            coerced = get_variable_values(
                self.supergraph.api_schema, prepared.variable_definitions, variables
            )
        except RecursionError:
            return error_body("'variables' are nested too deeply.", "BAD_USER_INPUT"), 400
        if isinstance(coerced, list):
            return {"errors": [
                {"message": self._message(e.message), "extensions": {"code": "BAD_USER_INPUT"}}
                for e in coerced
            ]}, 400
        try:
            if prepared.ready_for(coerced.coerced):
                plan = self._plan(prepared, coerced.coerced)
            else:
                plan = await self.offload.run(self._plan, prepared, coerced.coerced)
        except OperationError as exc:
            self._count("refused")
            return error_body(exc.message, exc.code, **exc.extensions), 400
        except RecursionError:
            return error_body(
                "The operation nests fragments too deeply to plan.", "BAD_USER_INPUT",
                limit="depth",
            ), 400
        except PlanError as exc:
            # The operation is valid, but no subgraph can serve part of it: a result with no
            # data, as for any error before execution.
            digest = operation_hash(payload)
            log.warning("cannot plan operation %r (sha256 %s): %s", name, digest, exc,
                        extra={"operation_sha256": digest})
            refused = error_body(
                f"The gateway cannot plan this operation: {exc}", "QUERY_PLANNING_FAILED"
            )
            refused["data"] = None
            return refused, 200
        execution = Execution(self.client, plan, variables, headers, self.metrics)
        await execution.run()
        data = execution.data
        if plan.introspection_keys:
            introspected = self._introspect(prepared, variables)
            for key in plan.introspection_keys:
                data[key] = introspected.get(key)
        completion = Completion(execution.errors)
        shaped = completion.complete_object(data, plan.shape, None)
        body: dict[str, Any] = {}
        if execution.errors:
            body["errors"] = execution.errors
        body["data"] = None if shaped is INVALID else shaped
        return body, 200

    def encode(self, body: Any, status: int, kind: str | None = None) -> tuple[bytes, int]:
        """The response bytes; past GATEWAY_MAX_RESPONSE_BYTES, a coded error instead."""
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        limit = self.config.max_response_bytes
        if len(data) <= limit:
            return data, status
        log.warning("response of %d bytes refused (limit %d)", len(data), limit)
        done = " The mutation was carried out." if kind == "mutation" else ""
        refused = error_body(
            f"The response would be {len(data)} bytes; the limit is {limit}. Ask for fewer "
            f"fields or smaller pages (first:).{done}", "BAD_USER_INPUT",
            limit="response", max=limit, actual=len(data),
        )
        refused["data"] = None
        return json.dumps(refused).encode(), 200 if kind == "mutation" else 400

    @staticmethod
    def _plan(prepared: PreparedOperation, coerced: dict[str, Any]) -> Any:
        prepared.check_sizes(coerced)
        return prepared.plan(coerced)

    def _message(self, message: str) -> str:
        return message if self.config.introspection else without_suggestion(message)

    def _count(self, result: str) -> None:
        if self.metrics is not None:
            self.metrics.operations.labels(result).inc()

    def _introspect(self, prepared: PreparedOperation, variables: dict[str, Any]) -> dict[str, Any]:
        op = prepared.operation
        only = [
            s for s in op.selection_set.selections
            if not isinstance(s, FieldNode) or s.name.value in ("__schema", "__type", "__typename")
        ]
        trimmed = OperationDefinitionNode(
            operation=op.operation,
            name=op.name,
            variable_definitions=op.variable_definitions,
            directives=op.directives,
            selection_set=SelectionSetNode(selections=tuple(only)),
        )
        others = [d for d in prepared.document.definitions if d is not op and
                  not isinstance(d, OperationDefinitionNode)]
        doc = DocumentNode(definitions=(trimmed, *others))
        result = execute_sync(self.supergraph.api_schema, doc, variable_values=variables)
        return dict(result.data or {})
