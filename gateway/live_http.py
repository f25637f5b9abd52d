"""The client protocols of subscriptions, on the gateway's one origin at ``/graphql``:

- GraphQL over WebSocket, ``graphql-transport-ws`` (the ``graphql-ws`` npm library's
  protocol): the bearer token goes in the ``connection_init`` payload as ``Authorization``.
- GraphQL over Server-Sent Events, ``graphql-sse``'s distinct-connections mode: ``POST
  /graphql`` with ``Accept: text/event-stream`` and the usual ``Authorization`` header.

Limits: connections per client address, subscriptions per connection and per user, the
operation limits of any request, the time to send ``connection_init`` and an idle timeout of a
socket with nothing running.
Every refusal is coded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from common.auth import AuthError, JWKSVerifier, Principal, bearer_token
from gateway.config import GatewayConfig
from gateway.core import error_body
from gateway.live import Delivery, LiveGateway, Prepared, Refused
from gateway.wsclient import MAX_PENDING

log = logging.getLogger(__name__)

PROTOCOL = "graphql-transport-ws"
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


class Quotas:
    """Subscriptions running per user (the token's ``sub``, or its client for integrations)."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self.running: dict[str, int] = {}

    def take(self, principal: Principal | None) -> str | None:
        """The key taken, or raises Refused past the limit."""
        if principal is None:
            return None
        key = str(principal.claims.get("sub") or principal.claims.get("client_id"))
        if self.running.get(key, 0) >= self.per_user:
            raise Refused(error_body(
                f"You have {self.per_user} subscriptions running, the most one user may have; "
                "complete one first.", "TOO_MANY_REQUESTS", limit="subscriptions_per_user",
                max=self.per_user))
        self.running[key] = self.running.get(key, 0) + 1
        return key

    def give_back(self, key: str | None) -> None:
        if key is None:
            return
        left = self.running.get(key, 1) - 1
        if left > 0:
            self.running[key] = left
        else:
            self.running.pop(key, None)


class Addresses:
    """WebSocket and SSE connections open per client address (the peer the gateway sees)."""

    def __init__(self, per_address: int) -> None:
        self.per_address = per_address
        self.open: dict[str, int] = {}

    def full(self, address: str) -> bool:
        return 0 < self.per_address <= self.open.get(address, 0)

    def take(self, address: str) -> bool:
        if self.full(address):
            return False
        self.open[address] = self.open.get(address, 0) + 1
        return True

    def give_back(self, address: str) -> None:
        left = self.open.get(address, 1) - 1
        if left > 0:
            self.open[address] = left
        else:
            self.open.pop(address, None)

    def refusal(self) -> dict[str, Any]:
        return error_body(
            f"{self.per_address} live connections are open from your address, the most one "
            "address may have; close one first.", "TOO_MANY_REQUESTS",
            limit="connections_per_address", max=self.per_address)


def _address(connection: Request | WebSocket) -> str:
    return connection.client.host if connection.client else ""


async def _principal(jwks: JWKSVerifier, authorization: str | None) -> Principal | None:
    token = bearer_token(authorization)
    return await jwks.verify(token) if token is not None else None


class LiveEndpoints:
    def __init__(self, live: LiveGateway, jwks: JWKSVerifier, config: GatewayConfig) -> None:
        self.live = live
        self.jwks = jwks
        self.config = config
        self.quotas = Quotas(config.max_subscriptions_per_user)
        self.addresses = Addresses(config.max_live_connections_per_address)

    # --- graphql-transport-ws -----------------------------------------------------------

    async def websocket(self, websocket: WebSocket) -> None:
        offered = websocket.scope.get("subprotocols") or []
        if PROTOCOL not in offered:
            await websocket.close(4406, "Subprotocol not acceptable: use graphql-transport-ws")
            return
        await websocket.accept(PROTOCOL)
        address = _address(websocket)
        if not self.addresses.take(address):
            # 4429 is final for graphql-ws clients: they do not retry in a loop.
            await websocket.close(4429, "Too many connections from your address")
            return
        try:
            session = _Session(self, websocket)
            await session.run()
        finally:
            self.addresses.give_back(address)

    # --- graphql-sse, distinct connections ----------------------------------------------

    async def sse(self, request: Request, body: bytes) -> Response:
        if self.addresses.full(_address(request)):
            return _json(self.addresses.refusal(), 429)
        authorization = request.headers.get("authorization") or ""
        try:
            principal = await _principal(self.jwks, authorization or None)
        except AuthError as exc:
            status = 503 if exc.code == "UNAVAILABLE" else 401
            return _json(error_body(exc.message, exc.code), status)
        try:
            payload = json.loads(body)
            prepared = self.live.prepare(payload)
            if prepared.kind == "mutation":
                raise Refused(error_body("Send mutations as JSON, not as an event stream.",
                                         "BAD_USER_INPUT"))
            quota = self.quotas.take(principal) if prepared.kind == "subscription" else None
        except (ValueError, RecursionError):
            return _json(error_body("The body is not valid JSON.", "BAD_USER_INPUT"), 400)
        except Refused as refused:
            status = 429 if _code(refused.body) == "TOO_MANY_REQUESTS" else 400
            return _json(refused.body, status)
        headers = {"authorization": authorization} if authorization else {}
        return StreamingResponse(
            self._events(prepared, payload, principal, authorization, headers, quota,
                         _address(request)),
            media_type="text/event-stream", headers=SSE_HEADERS)

    async def _events(
        self, prepared: Prepared, payload: Any, principal: Principal | None,
        authorization: str, headers: dict[str, str], quota: str | None, address: str,
    ) -> AsyncIterator[bytes]:
        # Counted against the address from here, as the stream starts (checked before, in
        # sse(); taken here so that a stream that never starts holds nothing).
        if not self.addresses.take(address):
            self.quotas.give_back(quota)
            yield _sse("next", self.addresses.refusal())
            yield b"event: complete\ndata: \n\n"
            return
        results = self._results(prepared, payload, principal, authorization, headers)
        # Bounded: a client that stops reading holds back the upstream subscription, whose
        # own bound then ends it (wsclient.FellBehind), instead of growing this queue.
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(MAX_PENDING)

        async def pump() -> None:
            try:
                async for delivery in results:
                    await queue.put(_sse_encoded("next", delivery.json))
            finally:
                # Never wait here (a cancelled pump must end); a full queue's reader notices
                # the pump has ended once it has drained it.
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(None)

        task = asyncio.ensure_future(pump())
        try:
            # The first bytes go out at once, so proxies and clients see the stream open.
            yield b": open\n\n"
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), self.config.keep_alive)
                except TimeoutError:
                    if task.done() and queue.empty():
                        break
                    yield b": keep-alive\n\n"
                    continue
                if item is None:
                    break
                yield item
            if task.done() and task.exception() is not None:
                log.error("subscription failed", exc_info=task.exception())
            yield b"event: complete\ndata: \n\n"
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            self.quotas.give_back(quota)
            self.addresses.give_back(address)

    async def _results(
        self, prepared: Prepared, payload: Any, principal: Principal | None,
        authorization: str, headers: dict[str, str],
    ) -> AsyncIterator[Delivery]:
        if prepared.kind != "subscription":
            result, _ = await self.live.gateway.execute(payload, headers)
            yield Delivery(result)
            return
        async for delivery in self.live.stream(prepared, principal, authorization, headers):
            yield delivery


class _Session:
    """One client socket: connection_init, then subscribe / complete by id."""

    def __init__(self, endpoints: LiveEndpoints, websocket: WebSocket) -> None:
        self.endpoints = endpoints
        self.config = endpoints.config
        self.websocket = websocket
        self.principal: Principal | None = None
        self.authorization = ""
        self.acknowledged = False
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.send_lock = asyncio.Lock()

    async def run(self) -> None:
        pinger = asyncio.ensure_future(self._ping())
        try:
            await self._receive()
        finally:
            pinger.cancel()
            for task in list(self.operations.values()):
                task.cancel()
            for task in list(self.operations.values()):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _receive(self) -> None:
        loop = asyncio.get_running_loop()
        init_deadline = loop.time() + self.config.connection_init_timeout
        idle_since = loop.time()
        while True:
            if not self.acknowledged:
                timeout = init_deadline - loop.time()
            elif self.operations:
                timeout = None
                idle_since = loop.time()
            else:
                timeout = idle_since + self.config.subscription_idle_timeout - loop.time()
            try:
                if timeout is not None and timeout <= 0:
                    raise TimeoutError
                raw = await asyncio.wait_for(self.websocket.receive_text(), timeout)
            except TimeoutError:
                if not self.acknowledged:
                    await self._close(4408, "Connection initialisation timeout")
                else:
                    await self._close(4000, "Idle: no subscription for "
                                      f"{self.config.subscription_idle_timeout:g} seconds")
                return
            except (WebSocketDisconnect, RuntimeError, KeyError):
                return
            if len(raw) > self.config.max_body_bytes:
                await self._close(4413, "Message too large")
                return
            try:
                message = json.loads(raw)
                kind = message.get("type")
            except (ValueError, AttributeError, RecursionError):
                await self._close(4400, "Invalid message")
                return
            if not await self._handle(kind, message):
                return
            if not self.operations:
                idle_since = loop.time()

    async def _handle(self, kind: Any, message: dict[str, Any]) -> bool:
        if kind == "connection_init":
            return await self._init(message)
        if kind == "ping":
            await self._send({"type": "pong"})
            return True
        if kind == "pong":
            return True
        if kind == "subscribe":
            if not self.acknowledged:
                await self._close(4401, "Unauthorized")
                return False
            sid = message.get("id")
            if not isinstance(sid, str) or not sid or len(sid) > 100:
                await self._close(4400, "Invalid message: a subscribe needs a string id")
                return False
            if sid in self.operations:
                await self._close(4409, f"Subscriber for {sid} already exists")
                return False
            await self._subscribe(sid, message.get("payload"))
            return True
        if kind == "complete":
            task = self.operations.pop(str(message.get("id")), None)
            if task is not None:
                task.cancel()
                # Its place is free before the next message is read.
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            return True
        await self._close(4400, f"Invalid message type {str(kind)[:40]!r}")
        return False

    async def _init(self, message: dict[str, Any]) -> bool:
        if self.acknowledged:
            await self._close(4429, "Too many initialisation requests")
            return False
        payload = message.get("payload") or {}
        header = payload.get("Authorization") or payload.get("authorization") if isinstance(
            payload, dict) else None
        if header is not None and not isinstance(header, str):
            await self._close(4400, "Invalid connection init payload")
            return False
        try:
            self.principal = await _principal(self.endpoints.jwks, header)
        except AuthError as exc:
            await self._close(4403, f"Forbidden: {exc.code}")
            return False
        self.authorization = header or ""
        self.acknowledged = True
        await self._send({"type": "connection_ack"})
        return True

    async def _subscribe(self, sid: str, payload: Any) -> None:
        limit = self.config.max_subscriptions_per_connection
        try:
            if len(self.operations) >= limit:
                raise Refused(error_body(
                    f"This connection has {limit} operations running, the most one may have.",
                    "TOO_MANY_REQUESTS", limit="subscriptions_per_connection", max=limit))
            prepared = self.endpoints.live.prepare(payload)
            if prepared.kind == "subscription":
                quota = self.endpoints.quotas.take(self.principal)
            else:
                quota = None
        except Refused as refused:
            await self._send({"id": sid, "type": "error",
                              "payload": refused.body.get("errors", [])})
            return
        self.operations[sid] = asyncio.ensure_future(self._run(sid, payload, prepared, quota))

    async def _run(self, sid: str, payload: Any, prepared: Prepared, quota: str | None) -> None:
        headers = {"authorization": self.authorization} if self.authorization else {}
        try:
            if prepared.kind != "subscription":
                result, _ = await self.endpoints.live.gateway.execute(payload, headers)
                await self._send({"id": sid, "type": "next", "payload": result})
            else:
                prefix = f'{{"id":{json.dumps(sid)},"type":"next","payload":'
                async for delivery in self.endpoints.live.stream(
                        prepared, self.principal, self.authorization, headers):
                    # The same encoded result for every client of one group.
                    await self._send_text(prefix + delivery.json + "}")
            if self.operations.pop(sid, None) is not None:
                await self._send({"id": sid, "type": "complete"})
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self.operations.pop(sid, None)
            self.endpoints.quotas.give_back(quota)

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(self.config.keep_alive)
            try:
                await self._send({"type": "ping"})
            except (WebSocketDisconnect, RuntimeError):
                return

    async def _send(self, message: dict[str, Any]) -> None:
        await self._send_text(json.dumps(message, separators=(",", ":"), ensure_ascii=False))

    async def _send_text(self, text: str) -> None:
        if self.websocket.application_state != WebSocketState.CONNECTED:
            raise RuntimeError("closed")
        async with self.send_lock:
            await self.websocket.send_text(text)

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(code, reason)


def _sse(event: str, data: Any) -> bytes:
    return _sse_encoded(event, json.dumps(data, separators=(",", ":")))


def _sse_encoded(event: str, data: str) -> bytes:
    return f"event: {event}\ndata: {data}\n\n".encode()


def _code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or [{}]
    return (errors[0].get("extensions") or {}).get("code")


def _json(body: Any, status: int) -> Response:
    return Response(json.dumps(body, separators=(",", ":")).encode(), status_code=status,
                    media_type="application/json")
