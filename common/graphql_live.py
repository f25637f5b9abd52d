"""Subscriptions of a subgraph over WebSocket (``graphql-transport-ws``).

The gateway connects here with the client's bearer token in the ``connection_init`` payload
(``{"Authorization": "Bearer ..."}``); it is verified like a request's header, and a refused
one closes the socket with 4403 before any subscription runs. A subscription resolver then
sees the principal in its Context, and re-checks the caller's rights for every event.

A WebSocket connection keeps one Context for its lifetime, so request-scoped state (the
caller, DataLoaders) is dropped before each event is resolved (:func:`fresh_for_event`):
every event reads current data.

Subscribers with the same operation, variables and audience share each event's work
(:class:`AudienceExecutor`): a subscription resolver yields a root value whose ``live_share``
names the event and the audience (what the selection's resolvers read of the caller: its
level at the business, its staff role at the agency, statewide reading), and the first
subscriber of that audience executes the selection for all of them; the ``next`` payload is
encoded once too. Whether each subscriber gets the event at all is still decided for each,
by the resolver, before it yields.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Hashable
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any, TypeVar, cast

import strawberry
from graphql import GraphQLError
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocketDisconnect
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.unset import UnsetType

from common.auth import AuthError, JWKSVerifier, bearer_token
from common.events.live import Ended, Mailbox
from common.graphql import Admit, Context, ContextExtra, _GraphQLApp, coded_error, context_of

log = logging.getLogger(__name__)
T = TypeVar("T")

# Subscriptions one gateway connection may multiplex (the gateway shares a connection per
# subgraph and token); the gateway's own per-client limits are far lower.
MAX_SUBSCRIPTIONS_PER_CONNECTION = 1000


@dataclass
class LiveContext(Context):
    """A WebSocket connection's Context: the principal comes from ``connection_init``."""

    connection_params: dict[str, Any] | None = None


# The stream position of a delivered event travels in the ``next`` payload's extensions
# under this key; a subscriber that sends it back in its ``subscribe`` payload's extensions
# (the gateway, after the subgraph restarted) resumes right after that event. A subscriber
# that sends the key (even as null) also receives marks: ``next`` payloads with no data and
# only the position, when its subscription starts and as the stream moves on past changes
# that are not for it, so that its position never lags far behind.
POSITION = "livePosition"
_MARK = "LIVE_POSITION_MARK"


@dataclass
class Positions:
    """One subscription operation's resume position (from its subscribe message), whether
    it wants marks, and the position of the result being delivered (set by the resolver
    before it yields)."""

    resume: int | None = None
    marks: bool = False
    current: int | None = None


# Set for each operation's task (a task copies the context it is created in), so every
# subscription multiplexed on one socket has its own.
_positions: contextvars.ContextVar[Positions | None] = contextvars.ContextVar(
    "live_positions", default=None)


def positions() -> Positions:
    """This subscription operation's positions (a fresh, unused one outside an operation)."""
    return _positions.get() or Positions()


def mark(position: int) -> GraphQLError:
    """Yielded by a subscription resolver: sent as a mark of ``position`` (no data)."""
    positions().current = position
    return GraphQLError("position mark", extensions={"code": _MARK})


def _positions_of(payload: Any) -> Positions:
    extensions = payload.get("extensions") if isinstance(payload, dict) else None
    if not isinstance(extensions, dict) or POSITION not in extensions:
        return Positions()
    value = extensions[POSITION]
    valid = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return Positions(resume=value if valid else None, marks=True)


def _is_mark(result: ExecutionResult) -> bool:
    return bool(result.errors) and all(
        (e.extensions or {}).get("code") == _MARK for e in result.errors or ())


class _Recent(OrderedDict[Hashable, Any]):
    """The last ``size`` entries, oldest dropped first."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def keep(self, key: Hashable, value: Any) -> Any:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)
        return value


# Event executions and encoded payloads of the last few events, per audience.
SHARED_RECENT = 1024
_executions = _Recent(SHARED_RECENT)
_encodings = _Recent(SHARED_RECENT)


@dataclass
class SharedCounts:
    """Subscription events executed for an audience, and results handed on from one."""

    executed: int = 0
    shared: int = 0


shared_counts = SharedCounts()


class AudienceExecutor(StrawberryGraphQLCoreExecutionContext):
    """Executes a subscription event once per operation, variables and audience.

    A root value with a ``live_share`` (an event's serial and its audience key, hashable)
    is executed by the first subscriber that gets it; the others of the same operation and
    variables get that result. Any other root value (and any query) executes as usual."""

    _share: Hashable | None = None
    _operation_key: tuple[str, str, str] | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = cast("AudienceExecutor", super().build_per_event_executor(payload))
        share = getattr(payload, "live_share", None)
        if share is not None:
            executor._share = (self._operation(), share)
        return executor

    def _operation(self) -> tuple[str, str, str]:
        if self._operation_key is None:
            operation = self.operation
            loc = operation.loc
            text = loc.source.body if loc is not None else repr(operation)
            name = operation.name.value if operation.name else ""
            variables = getattr(self.variable_values, "coerced", self.variable_values)
            self._operation_key = (text, name, json.dumps(variables, sort_keys=True,
                                                          default=repr))
        return self._operation_key

    def execute_operation(self, serially: bool | None = None) -> Any:
        share = self._share
        if share is None:
            return super().execute_operation(serially)
        running = _executions.get(share)
        if running is not None:
            shared_counts.shared += 1
        else:
            shared_counts.executed += 1
            result = super().execute_operation(serially)
            if not self.is_awaitable(result):
                return _executions.keep(share, result)
            running = _executions.keep(share, asyncio.ensure_future(result))
        if isinstance(running, asyncio.Future):
            # The subscriber that started it may leave meanwhile; the others still wait.
            return asyncio.shield(running)
        return running


def _encoded_payload(result: ExecutionResult, encode: Callable[[object], str | bytes],
                     ) -> str | bytes:
    """A ``next`` payload's JSON, encoded once for every subscriber handed the same result
    data (a shared execution) with the same errors and extensions."""
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [e.formatted for e in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    if result.data is None:
        return encode(payload)
    key = id(result.data)
    held = _encodings.get(key)
    if (held is not None and held[0] is result.data and held[1] is result.errors
            and held[2] == result.extensions):
        return held[3]  # type: ignore[no-any-return]
    encoded = encode(payload)
    _encodings.keep(key, (result.data, result.errors, result.extensions, encoded))
    return encoded


class _PositionedHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """graphql-transport-ws with stream positions: in on ``subscribe`` (extensions), out on
    each ``next`` (extensions); a ``next`` payload shared by several subscribers is encoded
    once."""

    async def handle_subscribe(self, message: Any) -> None:
        token = _positions.set(_positions_of(message.get("payload")))
        try:
            await super().handle_subscribe(message)
        finally:
            _positions.reset(token)

    async def _send_result_stream(self, operation: Any, result_source: Any) -> None:
        async def positioned() -> AsyncGenerator[Any, None]:
            async for result in result_source:
                held = _positions.get()
                if (held is not None and held.current is not None
                        and isinstance(result, ExecutionResult)
                        and not isinstance(result, PreExecutionError)):
                    if _is_mark(result):
                        if not held.marks:
                            continue
                        result = ExecutionResult(data=None, errors=None)
                    result.extensions = {**(result.extensions or {}), POSITION: held.current}
                    held.current = None
                yield result

        first = True
        async for result in positioned():
            if first and isinstance(result, PreExecutionError):
                await self._handle_pre_execution_error(operation, result)
                return
            if not isinstance(result, ExecutionResult):
                await self._reject_incremental_delivery(operation)
                return
            await self._send_next(operation, result)
            first = False

    async def _send_next(self, operation: Any, result: ExecutionResult) -> None:
        if operation.completed:
            return
        payload = _encoded_payload(result, self.view.encode_json)
        if isinstance(payload, bytes):
            payload = payload.decode()
        message = f'{{"id":{json.dumps(operation.id)},"type":"next","payload":{payload}}}'
        try:
            await self.websocket.ws.send_text(message)  # type: ignore[attr-defined]
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class _LiveApp(_GraphQLApp):
    graphql_transport_ws_handler_class = _PositionedHandler

    def __init__(
        self, schema: strawberry.federation.Schema, extra: ContextExtra | None,
        verifier: JWKSVerifier, admit: Admit | None, *, keep_alive_seconds: float,
        init_timeout_seconds: float,
    ) -> None:
        super().__init__(schema, extra, graphiql=False)
        self.protocols = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
        self.keep_alive = True
        self.keep_alive_interval = keep_alive_seconds
        self.connection_init_wait_timeout = timedelta(seconds=init_timeout_seconds)
        self.max_subscriptions_per_connection = MAX_SUBSCRIPTIONS_PER_CONNECTION
        self.verifier = verifier
        self.admit = admit

    async def get_context(self, request: Any, response: Any) -> LiveContext:
        base = await super().get_context(request, response)
        return LiveContext(**{f.name: getattr(base, f.name) for f in fields(Context)})

    async def on_ws_connect(self, context: Any) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        try:
            token = bearer_token(header if isinstance(header, str) else None)
            principal = await self.verifier.verify(token) if token is not None else None
            if principal is not None and self.admit is not None:
                await self.admit(principal)
        except AuthError as exc:
            log.info("subscription connection refused: %s", exc.message)
            raise ConnectionRejectionError({"code": exc.code, "message": exc.message}) from exc
        context.principal = principal
        return None


def subscription_route(
    path: str,
    schema: strawberry.federation.Schema,
    verifier: JWKSVerifier,
    context_extra: ContextExtra | None = None,
    *,
    admit: Admit | None = None,
    keep_alive_seconds: float = 15.0,
    init_timeout_seconds: float = 10.0,
) -> WebSocketRoute:
    """WebSocket ``path`` serving ``schema``'s subscriptions (graphql-transport-ws only)."""
    app = _LiveApp(schema, context_extra, verifier, admit,
                   keep_alive_seconds=keep_alive_seconds,
                   init_timeout_seconds=init_timeout_seconds)
    return WebSocketRoute(path, app)


def fresh_for_event(info: strawberry.Info[Any, Any]) -> None:
    """Forget what the connection's Context cached (caller, loaders) before an event."""
    context = context_of(info)
    context.loaders.clear()
    context.extra.pop("caller", None)


_EXPIRED = "UNAUTHENTICATED"
_EXPIRED_MESSAGE = "Your access token has expired; subscribe again with a new one."


async def deliveries(
    info: strawberry.Info[Any, Any], mailbox: Mailbox[T]
) -> AsyncIterator[T | GraphQLError]:
    """The mailbox's changes, each after the connection's cached state is dropped; then a
    coded error that ends the stream: the mailbox's own ending, or UNAUTHENTICATED when the
    connection's token expires."""
    principal = context_of(info).principal
    exp = principal.claims.get("exp") if principal is not None else None
    # One timer for the token's expiry, not one per event.
    timer = asyncio.get_running_loop().call_later(
        max(0.0, exp - time.time()), mailbox.end, _EXPIRED, _EXPIRED_MESSAGE,
    ) if isinstance(exp, int | float) else None
    try:
        while True:
            item = await mailbox.get()
            if isinstance(exp, int | float) and time.time() >= exp:
                item = Ended(_EXPIRED, _EXPIRED_MESSAGE)  # nothing more once it has expired
            if isinstance(item, Ended):
                yield coded_error(item.code, item.message)
                return
            fresh_for_event(info)
            yield item
    finally:
        if timer is not None:
            timer.cancel()
