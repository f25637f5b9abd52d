"""The gateway's subscription protocols refuse with codes: graphql-transport-ws close codes,
coded ``error`` messages, and limits per connection, per user and of operation cost.

The gateway serves the real supergraph with every subgraph unreachable: a subscription then
stays running (resubscribing with backoff), which is what the limits count.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets

from gateway.config import DEFAULT_SUPERGRAPH
from tests.gateway.conftest import Federation, mint_token

DEAD = "http://127.0.0.1:9/graphql"
SMALL = "subscription { reviewQueueChanged { kind } }"
COSTLY = """subscription { reviewQueueChanged { element { hazardousMaterials(first: 100) {
  edges { node { commonName casNumber location components { name casNumber percent } } } } } } }"""


@pytest.fixture(scope="module")
def gateway(core: Federation) -> str:
    return core.gateway(
        sdl=DEFAULT_SUPERGRAPH.read_text(),
        urls={"identity": DEAD, "facility": DEAD, "submittal": DEAD},
        max_subscriptions_per_connection=2, max_subscriptions_per_user=3, max_cost=200,
        subscription_idle_timeout=1.0, connection_init_timeout=1.0, keep_alive=30.0,
    )


class Socket:
    def __init__(self, ws: Any) -> None:
        self.ws = ws

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
            if message.get("type") != "ping":
                return message

    async def closed(self) -> tuple[int, str]:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(self.ws.recv(), 30)
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code, closed.value.rcvd.reason


async def connect(gateway: str, protocol: str | None = "graphql-transport-ws") -> Any:
    return await websockets.connect(
        gateway.replace("http", "ws") + "/graphql",
        subprotocols=[protocol] if protocol else None)  # type: ignore[list-item]


@pytest.fixture
async def socket(gateway: str) -> AsyncIterator[Socket]:
    ws = await connect(gateway)
    yield Socket(ws)
    await ws.close()


async def ready(gateway: str, user: str = "u1") -> Socket:
    s = Socket(await connect(gateway))
    await s.send({"type": "connection_init",
                  "payload": {"Authorization": f"Bearer {mint_token(user)}"}})
    assert await s.receive() == {"type": "connection_ack"}
    return s


async def test_a_socket_without_the_subprotocol_is_refused(gateway: str) -> None:
    # Closed before the upgrade is accepted: the server answers HTTP 403.
    with pytest.raises(websockets.InvalidStatus) as refused:
        await connect(gateway, None)
    assert refused.value.response.status_code == 403


async def test_no_connection_init_closes_with_4408(socket: Socket) -> None:
    assert await socket.closed() == (4408, "Connection initialisation timeout")


async def test_subscribe_before_the_ack_closes_with_4401(socket: Socket) -> None:
    await socket.send({"type": "subscribe", "id": "1", "payload": {"query": SMALL}})
    assert await socket.closed() == (4401, "Unauthorized")


async def test_an_invalid_token_closes_with_4403(socket: Socket) -> None:
    await socket.send({"type": "connection_init",
                       "payload": {"Authorization": "Bearer not-a-token"}})
    assert await socket.closed() == (4403, "Forbidden: UNAUTHENTICATED")


async def test_a_second_init_and_a_malformed_message_close_the_socket(gateway: str) -> None:
    s = await ready(gateway)
    await s.send({"type": "connection_init", "payload": {}})
    assert (await s.closed())[0] == 4429
    s = await ready(gateway)
    await s.ws.send("not json")
    assert (await s.closed())[0] == 4400


async def test_a_duplicate_id_closes_with_4409(gateway: str) -> None:
    s = await ready(gateway, "dup")
    await s.send({"type": "subscribe", "id": "a", "payload": {"query": SMALL}})
    await s.send({"type": "subscribe", "id": "a", "payload": {"query": SMALL}})
    assert await s.closed() == (4409, "Subscriber for a already exists")


async def test_limits_per_connection_and_per_user_answer_too_many_requests(
        gateway: str) -> None:
    first = await ready(gateway, "busy")
    for sid in ("1", "2"):
        await first.send({"type": "subscribe", "id": sid, "payload": {"query": SMALL}})
    await first.send({"type": "subscribe", "id": "3", "payload": {"query": SMALL}})
    refused = await first.receive()
    assert refused["type"] == "error" and refused["id"] == "3"
    assert refused["payload"][0]["extensions"] == {
        "code": "TOO_MANY_REQUESTS", "limit": "subscriptions_per_connection", "max": 2}
    second = await ready(gateway, "busy")
    await second.send({"type": "subscribe", "id": "1", "payload": {"query": SMALL}})
    await second.send({"type": "subscribe", "id": "2", "payload": {"query": SMALL}})
    refused = await second.receive()
    assert refused["id"] == "2"
    assert refused["payload"][0]["extensions"]["limit"] == "subscriptions_per_user"
    # Over SSE the same user is counted too.
    async with httpx.AsyncClient() as http:
        sse = await http.post(gateway + "/graphql", json={"query": SMALL}, headers={
            "accept": "text/event-stream", "authorization": f"Bearer {mint_token('busy')}"})
    assert sse.status_code == 429
    assert sse.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_REQUESTS"
    # Completing one frees its place.
    await first.send({"type": "complete", "id": "1"})
    await first.send({"type": "ping"})
    assert await first.receive() == {"type": "pong"}  # the complete was handled before
    await second.send({"type": "subscribe", "id": "3", "payload": {"query": SMALL}})
    await second.send({"type": "ping"})
    assert await second.receive() == {"type": "pong"}  # no refusal came before the pong
    for s in (first, second):
        await s.ws.close()


async def test_operation_limits_and_validation_are_coded_errors(gateway: str) -> None:
    s = await ready(gateway)
    await s.send({"type": "subscribe", "id": "c", "payload": {"query": COSTLY}})
    refused = await s.receive()
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert refused["payload"][0]["extensions"]["limit"] == "cost"
    await s.send({"type": "subscribe", "id": "v", "payload": {"query": "subscription { x }"}})
    refused = await s.receive()
    assert refused["id"] == "v"
    assert refused["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    await s.ws.close()


async def test_a_socket_running_nothing_is_closed_when_idle(gateway: str) -> None:
    s = await ready(gateway)
    assert await s.closed() == (4000, "Idle: no subscription for 1 seconds")


async def test_an_anonymous_subscription_is_refused_without_reaching_a_subgraph(
        gateway: str) -> None:
    s = Socket(await connect(gateway))
    await s.send({"type": "connection_init", "payload": {}})
    assert await s.receive() == {"type": "connection_ack"}
    await s.send({"type": "subscribe", "id": "a", "payload": {"query": SMALL}})
    refused = await s.receive()
    assert refused["type"] == "next"
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await s.receive() == {"type": "complete", "id": "a"}
    await s.ws.close()


async def test_live_connections_per_address_are_capped(core: Federation) -> None:
    gateway = core.gateway(
        sdl=DEFAULT_SUPERGRAPH.read_text(),
        urls={"identity": DEAD, "facility": DEAD, "submittal": DEAD},
        max_live_connections_per_address=2, keep_alive=30.0)
    first = await ready(gateway)
    second = Socket(await connect(gateway))  # counted from the upgrade, before any init
    # The third socket from this address is accepted and closed with 4429 (final for
    # graphql-ws clients: no retry loop), whoever it is for.
    third = Socket(await connect(gateway))
    assert await third.closed() == (4429, "Too many connections from your address")
    # An SSE stream from it answers 429, coded.
    async with httpx.AsyncClient() as http:
        sse = await http.post(gateway + "/graphql", json={"query": SMALL}, headers={
            "accept": "text/event-stream", "authorization": f"Bearer {mint_token('u2')}"})
    assert sse.status_code == 429
    assert sse.json()["errors"][0]["extensions"] == {
        "code": "TOO_MANY_REQUESTS", "limit": "connections_per_address", "max": 2}
    # Another address is not affected (the whole of 127/8 is this host's loopback).
    other = Socket(await websockets.connect(
        gateway.replace("http", "ws") + "/graphql", local_addr=("127.0.0.2", 0),
        subprotocols=["graphql-transport-ws"]))  # type: ignore[list-item]
    await other.send({"type": "connection_init",
                      "payload": {"Authorization": f"Bearer {mint_token('u3')}"}})
    assert await other.receive() == {"type": "connection_ack"}
    # Closing one frees its place (once the gateway has seen the close).
    await second.ws.close()
    for _ in range(200):
        again = Socket(await connect(gateway))
        await again.send({"type": "connection_init",
                          "payload": {"Authorization": f"Bearer {mint_token('u1')}"}})
        try:
            answer = await again.receive()
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4429
            await asyncio.sleep(0.05)
            continue
        assert answer == {"type": "connection_ack"}
        break
    else:
        raise AssertionError("the closed socket's place was never freed")
    for s in (first, other, again):
        await s.ws.close()
