"""The gateway's graphql-transport-ws client holds a bounded number of unread results per
subscription: a reader that stops reading is ended with a coded error, the server is told to
complete that subscription, and the connection's other subscriptions go on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from gateway.wsclient import MAX_PENDING, FellBehind, WSConnection


class Flood:
    """A graphql-transport-ws server that answers every subscribe with ``count`` results at
    once, and records which subscriptions the client completed."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.completed: list[str] = []
        self.url = ""

    async def handler(self, socket: ServerConnection) -> None:
        async for raw in socket:
            message = json.loads(raw)
            if message["type"] == "connection_init":
                await socket.send(json.dumps({"type": "connection_ack"}))
            elif message["type"] == "subscribe":
                for n in range(self.count):
                    await socket.send(json.dumps({"id": message["id"], "type": "next",
                                                  "payload": {"data": {"n": n}}}))
            elif message["type"] == "complete":
                self.completed.append(message["id"])


@pytest.fixture
async def flood() -> AsyncIterator[Flood]:
    server = Flood(MAX_PENDING * 3)
    protocol = Subprotocol("graphql-transport-ws")
    async with serve(server.handler, "127.0.0.1", 0, subprotocols=[protocol]) as running:
        port = next(iter(running.sockets)).getsockname()[1]
        server.url = f"ws://127.0.0.1:{port}/graphql"
        yield server


async def _eventually(probe: Any) -> None:
    async with asyncio.timeout(10):
        while not probe():  # noqa: ASYNC110 - state of the client's reader task, not an event
            await asyncio.sleep(0.02)


async def test_a_reader_that_falls_behind_is_ended_with_a_code_and_the_server_told(
    flood: Flood,
) -> None:
    connection = await WSConnection.connect(flood.url)
    try:
        slow = connection.subscribe({"query": "subscription { n }"})
        first = await anext(slow)  # subscribed; then stop reading while the results arrive
        assert first == {"data": {"n": 0}}
        await _eventually(lambda: "1" not in connection.queues)
        received = 1
        with pytest.raises(FellBehind) as ended:
            async for _ in slow:
                received += 1
        assert received <= MAX_PENDING + 1
        assert ended.value.errors[0]["extensions"]["code"] == "UNAVAILABLE"
        await _eventually(lambda: flood.completed == ["1"])

        # The socket is still good for the next subscription.
        flood.count = 3
        again = [item async for item in _first(connection.subscribe(
            {"query": "subscription { n }"}), 3)]
        assert [r["data"]["n"] for r in again] == [0, 1, 2]
    finally:
        await connection.close()


async def _first(results: AsyncIterator[dict[str, Any]], n: int
                 ) -> AsyncIterator[dict[str, Any]]:
    async for item in results:
        yield item
        n -= 1
        if n == 0:
            await results.aclose()  # type: ignore[attr-defined]
            return

