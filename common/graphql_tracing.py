"""A span per GraphQL operation a subgraph runs: its name, type and document hash, never its
variables. The operation's database statements and events are its children."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from common import tracing

_tracer = tracing.tracer(__name__)
MAX_NAME = 100  # a client's operationName, as far as a span keeps it


def _unexpected(errors: list[GraphQLError]) -> bool:
    # A coded error is an answer, and one without a path was refused before execution
    # (syntax, validation, limits): the caller's mistake. Anything else is the service failing.
    return any(error.path and not (error.extensions or {}).get("code") for error in errors)


class OperationSpan(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        with operation_span(self.execution_context):
            yield


@contextmanager
def operation_span(context: ExecutionContext) -> Iterator[None]:
    """The span of the operation run inside the block (none when tracing is off)."""
    if not tracing.enabled():
        yield  # no span to record: skip making and entering a non-recording one
        return
    with _tracer.start_as_current_span("graphql.operation") as span:
        yield
        if not span.is_recording():
            return
        try:
            kind = context.operation_type.value
        except Exception:  # noqa: BLE001 - not parsed or no such operation: refused
            kind = "unparsed"
        name = (context.operation_name or "")[:MAX_NAME]
        span.update_name(f"{kind} {name}".rstrip())
        query = context.query or ""
        span.set_attributes({
            "graphql.operation.name": name,
            "graphql.operation.type": kind,
            "graphql.document.hash": f"sha256:{hashlib.sha256(query.encode()).hexdigest()}",
        })
        errors = list(context.result.errors or ()) if context.result is not None else []
        if errors:
            span.set_attribute("graphql.error.count", len(errors))
        if _unexpected(errors):
            tracing.record_error(span, errors[0].message)
