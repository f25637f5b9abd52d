"""A subscription watched in the background through the Python graphql-transport-ws client
(gateway/wsclient.py): its results in order, and how it ended."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.wsclient import ConnectionLost, WSConnection

WAIT = 30.0


class Watch:
    """One subscription's results, gathered in the background."""

    def __init__(self, connection: WSConnection, query: str, variables: dict[str, Any],
                 extensions: dict[str, Any] | None = None):
        self.connection = connection
        self.results: list[dict[str, Any]] = []
        self.arrived = asyncio.Condition()
        self.done = False
        self.lost: ConnectionLost | None = None
        payload: dict[str, Any] = {"query": query, "variables": variables}
        if extensions:
            payload["extensions"] = extensions
        self.task = asyncio.ensure_future(self._run(payload))

    async def _run(self, payload: dict[str, Any]) -> None:
        try:
            async for result in self.connection.subscribe(payload):
                async with self.arrived:
                    self.results.append(result)
                    self.arrived.notify_all()
        except ConnectionLost as lost:
            self.lost = lost
        finally:
            async with self.arrived:
                self.done = True
                self.arrived.notify_all()

    async def first(self, count: int) -> list[dict[str, Any]]:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(
                lambda: len(self.results) >= count or self.done), WAIT)
        assert len(self.results) >= count, self.results
        return self.results[:count]

    async def ended(self) -> dict[str, Any]:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: self.done), WAIT)
        return self.results[-1]


async def watch(url: str, token: str | None, query: str,
                extensions: dict[str, Any] | None = None, **variables: Any) -> Watch:
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    connection = await WSConnection.connect(url, payload)
    return Watch(connection, query, variables, extensions)
