"""A GraphQL over WebSocket client (``graphql-transport-ws``): the gateway's way to its
subgraphs' subscriptions, and a Python client for anyone else.

One :class:`WSConnection` multiplexes many subscriptions; it answers the server's pings,
pings the server itself, and when the socket closes every open subscription ends with
:class:`ConnectionLost` (the caller decides whether to subscribe again).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

log = logging.getLogger(__name__)

PROTOCOL = "graphql-transport-ws"


class ConnectionLost(Exception):
    """The socket closed (or never opened) before the subscription completed."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class SubscriptionError(Exception):
    """The server answered the subscription with an ``error`` message (GraphQL errors)."""

    def __init__(self, errors: list[Any]) -> None:
        super().__init__(json.dumps(errors)[:500])
        self.errors = errors


_END = object()
# Results one subscription may have waiting for its reader. A reader this far behind (a
# client that stopped reading) is ended rather than buffered without bound.
MAX_PENDING = 256


class FellBehind(SubscriptionError):
    """The reader left MAX_PENDING results unread; the subscription was ended."""

    def __init__(self) -> None:
        super().__init__([{
            "message": f"This subscription fell {MAX_PENDING} results behind and was ended; "
                       "subscribe again (and query what changed meanwhile).",
            "extensions": {"code": "UNAVAILABLE"}}])


class WSConnection:
    def __init__(self, socket: ClientConnection, ping_seconds: float) -> None:
        self.socket = socket
        self.ping_seconds = ping_seconds
        self.queues: dict[str, asyncio.Queue[Any]] = {}
        self.ids = itertools.count(1)
        self.closed: ConnectionLost | None = None
        self._reader = asyncio.create_task(self._read())
        self._pinger = asyncio.create_task(self._ping())

    @classmethod
    async def connect(
        cls, url: str, payload: Mapping[str, Any] | None = None, *,
        headers: Mapping[str, str] | None = None, init_timeout: float = 10.0,
        ping_seconds: float = 15.0, open_timeout: float = 10.0,
        compression: str | None = None,
    ) -> WSConnection:
        """Opens the socket and completes connection_init / connection_ack. Messages are not
        compressed unless ``compression="deflate"``: between the gateway and its subgraphs a
        compressor per socket costs more CPU and memory than it saves."""
        ws_url = "ws" + url[4:] if url.startswith("http") else url
        try:
            socket = await websockets.connect(
                ws_url, subprotocols=[PROTOCOL],  # type: ignore[list-item]
                additional_headers=dict(headers or {}), open_timeout=open_timeout,
                max_size=16 * 1024 * 1024, ping_interval=None,
                compression=compression,
            )
        except (OSError, websockets.WebSocketException, TimeoutError) as exc:
            raise ConnectionLost(f"cannot connect to {url}: {type(exc).__name__}: {exc}") \
                from exc
        try:
            init = {"type": "connection_init", "payload": dict(payload or {})}
            await socket.send(json.dumps(init))
            async with asyncio.timeout(init_timeout):
                while True:
                    message = json.loads(await socket.recv())
                    if message.get("type") == "connection_ack":
                        break
                    if message.get("type") == "ping":
                        await socket.send(json.dumps({"type": "pong"}))
        except websockets.ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
            reason = exc.rcvd.reason if exc.rcvd else ""
            raise ConnectionLost(f"{url} refused the connection: {code} {reason}", code) from exc
        except (TimeoutError, ValueError) as exc:
            await socket.close()
            raise ConnectionLost(f"{url} did not acknowledge the connection") from exc
        return cls(socket, ping_seconds)

    async def subscribe(self, payload: Mapping[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Yields each ``next`` payload; returns on ``complete``; raises SubscriptionError on
        ``error`` and ConnectionLost when the socket goes away first."""
        if self.closed is not None:
            raise self.closed
        sid = str(next(self.ids))
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self.queues[sid] = queue
        completed = False
        try:
            await self._send({"id": sid, "type": "subscribe", "payload": dict(payload)})
            while True:
                item = await queue.get()
                if item is _END:
                    completed = True
                    return
                if isinstance(item, Exception):
                    # The server ended it with an error; unless we did, because it fell behind.
                    completed = (isinstance(item, SubscriptionError)
                                 and not isinstance(item, FellBehind))
                    raise item
                yield item
        finally:
            self.queues.pop(sid, None)
            if not completed and self.closed is None:
                with contextlib.suppress(Exception):
                    await self._send({"id": sid, "type": "complete"})

    async def close(self) -> None:
        self._pinger.cancel()
        with contextlib.suppress(Exception):
            await self.socket.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader

    @property
    def open_subscriptions(self) -> int:
        return len(self.queues)

    async def _send(self, message: Mapping[str, Any]) -> None:
        try:
            await self.socket.send(json.dumps(message))
        except websockets.ConnectionClosed as exc:
            raise ConnectionLost(f"connection closed: {exc}") from exc

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(self.ping_seconds)
            try:
                await self._send({"type": "ping"})
            except ConnectionLost:
                return

    async def _read(self) -> None:
        lost = ConnectionLost("connection closed")
        try:
            async for raw in self.socket:
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                kind = message.get("type")
                if kind == "ping":
                    await self._send({"type": "pong"})
                    continue
                queue = self.queues.get(str(message.get("id")))
                if queue is None:
                    continue
                if kind == "next":
                    if queue.qsize() >= MAX_PENDING:
                        self.queues.pop(str(message.get("id")), None)
                        queue.put_nowait(FellBehind())
                        continue
                    queue.put_nowait(message.get("payload") or {})
                elif kind == "error":
                    queue.put_nowait(SubscriptionError(list(message.get("payload") or [])))
                elif kind == "complete":
                    queue.put_nowait(_END)
        except websockets.ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
            lost = ConnectionLost(f"connection closed: {exc}", code)
        except ConnectionLost as exc:
            lost = exc
        finally:
            self.closed = lost
            self._pinger.cancel()
            for queue in list(self.queues.values()):
                queue.put_nowait(lost)
