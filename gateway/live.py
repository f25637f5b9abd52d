"""Federated subscriptions: subscribe to the subgraph that owns the root field, and for each
event resolve the rest of the client's selection from the other subgraphs with the normal
plan (entity fetches), then shape it like any response.

Gateway -> subgraph is ``graphql-transport-ws``: one socket per subgraph and bearer token,
shared by that caller's subscriptions, with pings; when a subgraph restarts, its sockets are
opened again with backoff and the subscriptions resubscribed from the last stream position
each received (``extensions.livePosition``), so the subgraph replays what they missed. Client
protocols are in gateway/live_http.py.

Clients running the same operation with the same variables and the same bearer token (one
caller: the subgraphs decide rights from the token, so nothing else can tell two such
clients apart) share one upstream subscription (:class:`Group`); each event is completed and
encoded once for them and the same bytes go to each. Different tokens never share an
upstream subscription: each keeps its own, so the owning subgraph decides each caller's
rights. Where the rest of the operation fetches nothing more (the subgraph's result is all of
it), the completion is a function of the operation and the subgraph's payload alone, so
identical payloads received for different callers are completed and encoded once too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql.execution.values import get_variable_values

from common.auth import Principal
from gateway.core import Gateway, error_body
from gateway.executor import Execution
from gateway.operation import OperationError
from gateway.plan import FetchNode, Plan, Stage
from gateway.shape import INVALID, Completion
from gateway.steps import PlanError
from gateway.wsclient import (
    MAX_PENDING,
    ConnectionLost,
    FellBehind,
    SubscriptionError,
    WSConnection,
)

log = logging.getLogger(__name__)

BACKOFF_FIRST = 0.25
BACKOFF_MAX = 10.0
# Upstream sockets opened at once: the rest wait their turn here rather than crowd the
# subgraph (whose handshake verifies the token and reads its database) past its timeouts.
UPSTREAM_CONNECTS = 8
# Where a subgraph puts an event's stream position in a ``next`` payload's extensions, and
# where the gateway sends it back when it resubscribes (common/graphql_live.py's POSITION).
POSITION = "livePosition"


class Refused(Exception):
    """The subscription is not started: ``body`` is the coded GraphQL error response."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(str(body)[:200])
        self.body = body


@dataclass
class Prepared:
    root: FetchNode
    rest: Plan
    shape: Any
    variables: dict[str, Any]
    kind: str
    # The operation's text, name and variables: equal keys complete alike.
    key: tuple[str, str, str] = ("", "", "")

    @property
    def self_contained(self) -> bool:
        """Whether the subscribed subgraph's payload is all of the result (no more fetches)."""
        return not any(step for stage in self.rest.stages for step in stage.steps)


@dataclass
class Delivery:
    """One event's complete result, encoded once however many clients it goes to."""

    result: dict[str, Any]
    _encoded: str | None = field(default=None, repr=False)

    @property
    def json(self) -> str:
        if self._encoded is None:
            self._encoded = json.dumps(self.result, separators=(",", ":"), ensure_ascii=False)
        return self._encoded


_END: None = None
# Completed results of the last few events, by operation and subgraph payload.
RECENT_RESULTS = 1024


class Group:
    """The clients of one operation, variables and token: one upstream subscription, each
    event completed once and the same Delivery put in each client's inbox."""

    def __init__(self, live: LiveGateway, key: Hashable, prepared: Prepared,
                 authorization: str, headers: Mapping[str, str]) -> None:
        self.live = live
        self.key = key
        self.prepared = prepared
        self.authorization = authorization
        self.headers = dict(headers)
        self.inboxes: list[asyncio.Queue[Delivery | None]] = []
        self.closed = False
        self.task = asyncio.ensure_future(self._pump())

    def join(self) -> asyncio.Queue[Delivery | None]:
        inbox: asyncio.Queue[Delivery | None] = asyncio.Queue()
        self.inboxes.append(inbox)
        return inbox

    def leave(self, inbox: asyncio.Queue[Delivery | None]) -> None:
        with contextlib.suppress(ValueError):
            self.inboxes.remove(inbox)
        if not self.inboxes and not self.closed:
            # The last client gone: the upstream subscription ends (an ending pump, closed
            # already, finishes closing it undisturbed).
            self._close()
            self.task.cancel()

    def _close(self) -> None:
        self.closed = True
        if self.live.groups.get(self.key) is self:
            del self.live.groups[self.key]

    async def _pump(self) -> None:
        events = self.live._upstream(self.prepared, self.authorization)
        try:
            async for event in events:
                inboxes = list(self.inboxes)  # those subscribed when the event came
                delivery = await self.live._delivery(self.prepared, event, self.headers)
                for inbox in inboxes:
                    if inbox.qsize() < MAX_PENDING:
                        inbox.put_nowait(delivery)
                        continue
                    # A client that stopped reading is ended, not buffered without bound.
                    with contextlib.suppress(ValueError):
                        self.inboxes.remove(inbox)
                    inbox.put_nowait(Delivery({"errors": FellBehind().errors, "data": None}))
                    inbox.put_nowait(_END)
        except Exception:
            log.exception("subscription failed")
            for inbox in self.inboxes:
                inbox.put_nowait(Delivery(error_body(
                    "The subscription failed in the gateway; subscribe again.",
                    "INTERNAL_SERVER_ERROR")))
        finally:
            self._close()
            for inbox in self.inboxes:
                inbox.put_nowait(_END)
            with contextlib.suppress(Exception):
                await events.aclose()


class _Recent(OrderedDict[Hashable, Delivery]):
    def keep(self, key: Hashable, value: Delivery) -> Delivery:
        self[key] = value
        if len(self) > RECENT_RESULTS:
            self.popitem(last=False)
        return value


class SubgraphSockets:
    """One graphql-transport-ws connection per (subgraph, token), shared and refcounted."""

    def __init__(self, urls: Mapping[str, str], ping_seconds: float) -> None:
        self.urls = dict(urls)
        self.ping_seconds = ping_seconds
        self._open: dict[tuple[str, str], WSConnection] = {}
        self._users: dict[tuple[str, str], int] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._connecting = asyncio.Semaphore(UPSTREAM_CONNECTS)

    async def acquire(self, service: str, authorization: str) -> WSConnection:
        key = (service, authorization)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            connection = self._open.get(key)
            if connection is None or connection.closed is not None:
                payload = {"Authorization": authorization} if authorization else {}
                async with self._connecting:
                    connection = await WSConnection.connect(
                        self.urls[service], payload, ping_seconds=self.ping_seconds)
                self._open[key] = connection
            self._users[key] = self._users.get(key, 0) + 1
            return connection

    async def release(self, service: str, authorization: str, connection: WSConnection) -> None:
        key = (service, authorization)
        left = self._users.get(key, 1) - 1
        if left > 0:
            self._users[key] = left
            return
        self._users.pop(key, None)
        self._locks.pop(key, None)
        current = self._open.pop(key, None)
        # The last user gone: close the socket in use (and the one this user held, when a
        # reconnection replaced it meanwhile).
        for held in {id(c): c for c in (connection, current) if c is not None}.values():
            await held.close()

    @property
    def connections(self) -> int:
        return len(self._open)

    async def aclose(self) -> None:
        for connection in list(self._open.values()):
            await connection.close()
        self._open.clear()


class LiveGateway:
    def __init__(self, gateway: Gateway, urls: Mapping[str, str], *, ping_seconds: float,
                 ) -> None:
        self.gateway = gateway
        self.sockets = SubgraphSockets(
            {name: url for name, url in urls.items()}, ping_seconds)
        self.active = 0
        self.delivered = 0
        self.groups: dict[Hashable, Group] = {}
        self.recent = _Recent()

    def prepare(self, payload: Any) -> Prepared:
        """The plan of a subscription (or, over WebSocket, of a query); raises Refused."""
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise Refused(error_body("The request has no 'query' string.", "BAD_USER_INPUT"))
        name = payload.get("operationName")
        if name is not None and not isinstance(name, str):
            raise Refused(error_body("'operationName' must be a string.", "BAD_USER_INPUT"))
        variables = payload.get("variables") or {}
        if not isinstance(variables, dict):
            raise Refused(error_body("'variables' must be a JSON object.", "BAD_USER_INPUT"))
        try:
            prepared = self.gateway.operations.get(payload["query"], name or None)
            coerced = get_variable_values(
                self.gateway.supergraph.api_schema, prepared.variable_definitions, variables)
            if isinstance(coerced, list):
                raise Refused({"errors": [
                    {"message": e.message, "extensions": {"code": "BAD_USER_INPUT"}}
                    for e in coerced]})
            prepared.check_sizes(coerced.coerced)
            plan = prepared.plan(coerced.coerced)
        except OperationError as exc:
            raise Refused(error_body(exc.message, exc.code, **exc.extensions)) from exc
        except (PlanError, RecursionError) as exc:
            raise Refused(error_body(f"The gateway cannot plan this operation: {exc}",
                                     "QUERY_PLANNING_FAILED")) from exc
        if prepared.kind != "subscription":
            return Prepared(FetchNode("", "", (), False), plan, plan.shape, variables,
                            prepared.kind)
        key = (payload["query"], name or "", json.dumps(coerced.coerced, sort_keys=True,
                                                        default=repr))
        first = plan.stages[0].steps[0] if plan.stages and plan.stages[0].steps else []
        if len(first) != 1 or first[0].entity:
            raise Refused(error_body("A subscription selects one root field of one subgraph.",
                                     "BAD_USER_INPUT"))
        rest_stages = [Stage(plan.stages[0].steps[1:]), *plan.stages[1:]]
        rest = Plan("query", rest_stages, (), plan.shape, plan.abstract_types)
        return Prepared(first[0], rest, plan.shape, variables, "subscription", key)

    async def stream(
        self, prepared: Prepared, principal: Principal | None, authorization: str,
        headers: Mapping[str, str],
    ) -> AsyncIterator[Delivery]:
        """Each event's complete result. Ends when the subgraph completes the subscription,
        and with UNAUTHENTICATED when the caller's token expires."""
        if principal is None:
            # Every subscription needs a caller; refused here, nothing is opened upstream.
            yield Delivery(error_body(
                "Sign in first: send the bearer token in the connection_init payload "
                "(WebSocket) or the Authorization header (SSE).", "UNAUTHENTICATED"))
            return
        exp = principal.claims.get("exp")
        deadline = float(exp) if isinstance(exp, int | float) else None
        key = (prepared.key, authorization)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(self, key, prepared, authorization, headers)
        inbox = group.join()
        expired = Delivery(error_body("Your access token has expired; subscribe again with "
                                      "a new one.", "UNAUTHENTICATED"))
        # One timer for the token's expiry, not one per event.
        timer = asyncio.get_running_loop().call_later(
            max(0.0, deadline - time.time()), inbox.put_nowait, expired,
        ) if deadline is not None else None
        self.active += 1
        try:
            while True:
                delivery = await inbox.get()
                if delivery is None:
                    return
                if deadline is not None and time.time() >= deadline:
                    delivery = expired  # nothing more once it has expired
                if delivery is expired:
                    yield delivery
                    return
                self.delivered += 1
                yield delivery
        finally:
            self.active -= 1
            if timer is not None:
                timer.cancel()
            group.leave(inbox)

    async def _delivery(
        self, prepared: Prepared, event: dict[str, Any], headers: Mapping[str, str]
    ) -> Delivery:
        if not prepared.self_contained:
            return Delivery(await self._complete(prepared, event, headers))
        key = (prepared.key, json.dumps(event, separators=(",", ":")))
        held = self.recent.get(key)
        if held is None:
            held = self.recent.keep(key, Delivery(await self._complete(prepared, event, headers)))
        return held

    async def _upstream(
        self, prepared: Prepared, authorization: str
    ) -> AsyncGenerator[dict[str, Any], None]:
        """The subgraph's events; resubscribes with backoff when its socket is lost."""
        root = prepared.root
        body: dict[str, Any] = {"query": root.operation}
        variables = {n: prepared.variables[n] for n in root.variable_names
                     if n in prepared.variables}
        if variables:
            body["variables"] = variables
        delay = BACKOFF_FIRST
        position: int | None = None  # the stream position of the last event received
        while True:
            # Asks for positions (with marks); resubscribing, the subgraph replays what came
            # after ``position`` (and ends the subscription with a coded error when that is
            # too far back). A subgraph without live positions ignores it.
            body["extensions"] = {POSITION: position}
            try:
                connection = await self.sockets.acquire(root.service, authorization)
            except ConnectionLost as exc:
                if exc.code == 4403:
                    yield {"errors": [{"message": "The subgraph refused your credentials.",
                                       "extensions": {"code": "UNAUTHENTICATED"}}]}
                    return
                log.warning("subgraph %s subscription socket: %s; retrying in %.1fs",
                            root.service, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            try:
                async for event in connection.subscribe(body):
                    delay = BACKOFF_FIRST
                    extensions = event.get("extensions")
                    at = extensions.get(POSITION) if isinstance(extensions, dict) else None
                    if isinstance(at, int) and not isinstance(at, bool):
                        position = at
                        if event.get("data") is None and not event.get("errors"):
                            continue  # a mark: the position only, nothing for the client
                    yield event
                return  # completed by the subgraph
            except SubscriptionError as exc:
                yield {"errors": [_coded(e) for e in exc.errors]}
                return
            except ConnectionLost as exc:
                log.warning("subgraph %s subscription lost: %s; resubscribing", root.service,
                            exc)
            finally:
                await self.sockets.release(root.service, authorization, connection)
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    async def _complete(
        self, prepared: Prepared, event: dict[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        execution = Execution(self.gateway.client, prepared.rest, prepared.variables, headers,
                              self.gateway.metrics)
        data = event.get("data")
        if isinstance(data, dict):
            if prepared.root.unalias is not None:
                prepared.root.unalias.apply(data)
            execution.data = data
        for err in event.get("errors") or ():
            execution.errors.append(_coded(err) | {"extensions": {
                **(_coded(err).get("extensions") or {}), "serviceName": prepared.root.service}})
        if isinstance(data, dict) and any(data.values()):
            await execution.run()
        shaped = Completion(execution.errors).complete_object(
            execution.data, prepared.shape, None)
        result: dict[str, Any] = {}
        if execution.errors:
            result["errors"] = execution.errors
        result["data"] = None if shaped is INVALID else shaped
        return result

    async def aclose(self) -> None:
        for group in list(self.groups.values()):
            group.task.cancel()
        await self.sockets.aclose()


def _coded(error: Any) -> dict[str, Any]:
    if not isinstance(error, dict):
        return {"message": str(error), "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    extensions = dict(error.get("extensions") or {})
    extensions.setdefault("code", "BAD_USER_INPUT")
    out = {"message": str(error.get("message", "")), "extensions": extensions}
    if error.get("path"):
        out["path"] = error["path"]
    return out
