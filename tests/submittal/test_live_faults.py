"""Live subscriptions through faults, with real parts: NATS restarted under the submittal
service, and the submittal service restarted under the gateway. A client that stays
connected gets every change once: none lost, none twice."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from common.auth import JWKSVerifier
from common.natsserver import NatsServerProcess
from common.settings import load_settings
from gateway.app import create_app as create_gateway
from gateway.config import DEFAULT_SUPERGRAPH, GatewayConfig
from tests.livewatch import watch
from tests.submittal.conftest import AUDIENCE, ISSUER, Harness, World, eventually
from tests.submittal.flows import SUBMIT, draft_hmbp, ok

QUEUE = "subscription { reviewQueueChanged { kind eventId element { id status } } }"


@dataclass
class Served:
    server: uvicorn.Server
    task: asyncio.Future[Any]

    async def stop(self) -> None:
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 15)


async def serve(app: Any, sock: socket.socket, lifespan: str = "off") -> Served:
    server = uvicorn.Server(uvicorn.Config(app, lifespan=lifespan, log_level="warning"))
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return Served(server, task)


def bound(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    return sock


@pytest.fixture
async def submittal(harness: Harness) -> AsyncIterator[tuple[socket.socket, Served]]:
    sock = bound()
    served = await serve(harness.app, sock)
    live = harness.app.state.live
    await asyncio.wait_for(live.elements.ready.wait(), 30)
    yield sock, served
    if not served.task.done():
        await served.stop()
    sock.close()


def ids(results: list[dict[str, Any]]) -> list[str]:
    for result in results:
        assert "errors" not in result, result
    return [r["data"]["reviewQueueChanged"]["eventId"] for r in results]


async def submit(world: World, facility: str, editor: str = "editor",
                 approver: str = "approver") -> set[str]:
    drafted = await draft_hmbp(world.h, world.t(editor), facility)
    ok(await world.h.gql(SUBMIT, world.t(approver), f=facility), "submitDrafts")
    return set(drafted.values())


async def test_nats_restarted_under_the_service_loses_and_repeats_nothing(
        world: World, submittal: tuple[socket.socket, Served],
        private_nats_server: NatsServerProcess) -> None:
    sock, _ = submittal
    url = f"ws://127.0.0.1:{sock.getsockname()[1]}/graphql"
    live = world.h.app.state.live
    inspector = await watch(url, world.t("inspector"), QUEUE)
    await eventually(lambda: len(live.watchers) == 1, what="subscribed")
    await submit(world, world.facility)
    assert len(set(ids(await inspector.first(3)))) == 3

    private_nats_server.stop()
    # Written while NATS is down: the outbox holds them until it is back.
    second = await submit(world, world.facility)
    private_nats_server.start()
    results = await inspector.first(6)
    assert len(set(ids(results))) == 6
    assert {r["data"]["reviewQueueChanged"]["element"]["id"] for r in results[3:]} == second
    # Nothing more is pending: the next change is the next one delivered.
    third = await submit(world, world.facility)
    results = await inspector.first(9)
    assert len(set(ids(results))) == 9
    assert {r["data"]["reviewQueueChanged"]["element"]["id"] for r in results[6:]} == third
    await inspector.connection.close()


async def test_the_gateway_resubscribes_when_the_subgraph_restarts(
        world: World, submittal: tuple[socket.socket, Served]) -> None:
    sock, served = submittal
    port = sock.getsockname()[1]
    live = world.h.app.state.live
    subgraph = f"http://127.0.0.1:{port}/graphql"
    verifier = JWKSVerifier(world.h.keys.url, issuer=ISSUER, audience=AUDIENCE)
    gateway_app = create_gateway(
        load_settings(), config=GatewayConfig(keep_alive=1.0),
        supergraph_sdl=DEFAULT_SUPERGRAPH.read_text(),
        subgraph_url_overrides={"submittal": subgraph}, verifier=verifier)
    gateway_sock = bound()
    gateway = await serve(gateway_app, gateway_sock, lifespan="on")
    try:
        url = f"ws://127.0.0.1:{gateway_sock.getsockname()[1]}/graphql"
        inspector = await watch(url, world.t("inspector"), QUEUE)
        await eventually(lambda: len(live.watchers) == 1, what="subscribed")
        first = await submit(world, world.facility)
        results = await inspector.first(3)
        assert {r["data"]["reviewQueueChanged"]["element"]["id"] for r in results} == first

        await served.stop()  # the subgraph goes away (its sockets close with 1012)
        await eventually(lambda: not live.watchers, what="the old subscription gone")
        again = bound(port)  # uvicorn closed the old socket; the same port again
        restarted = await serve(world.h.app, again)
        # The gateway connects again and resubscribes; the client saw nothing of it.
        await eventually(lambda: len(live.watchers) == 1, what="resubscribed")
        second = await submit(world, world.facility)
        results = await inspector.first(6)
        assert {r["data"]["reviewQueueChanged"]["element"]["id"] for r in results[3:]} == second
        assert len(set(ids(results))) == 6 and not inspector.done
        await inspector.connection.close()
        await restarted.stop()
        again.close()
    finally:
        await gateway.stop()
        gateway_sock.close()


async def stream_order(live: Any, event_ids: set[str]) -> list[str]:
    """``event_ids`` in the order the SUBMITTAL stream holds them."""
    last = live.elements.last_sequence or 0
    return [envelope.id async for _, envelope in live.elements.replay(0, last)
            if envelope.id in event_ids]


async def test_changes_made_while_the_subgraph_is_down_reach_the_client_once_in_order(
        world: World, submittal: tuple[socket.socket, Served]) -> None:
    sock, served = submittal
    port = sock.getsockname()[1]
    live = world.h.app.state.live
    verifier = JWKSVerifier(world.h.keys.url, issuer=ISSUER, audience=AUDIENCE)
    gateway_app = create_gateway(
        load_settings(), config=GatewayConfig(keep_alive=1.0),
        supergraph_sdl=DEFAULT_SUPERGRAPH.read_text(),
        subgraph_url_overrides={"submittal": f"http://127.0.0.1:{port}/graphql"},
        verifier=verifier)
    gateway_sock = bound()
    gateway = await serve(gateway_app, gateway_sock, lifespan="on")
    try:
        url = f"ws://127.0.0.1:{gateway_sock.getsockname()[1]}/graphql"
        inspector = await watch(url, world.t("inspector"), QUEUE)
        # The other county's inspector, who received nothing before the restart, resumes
        # from where it started (the subgraph's mark): it gets its own county's changes made
        # meanwhile, and none of this county's.
        other = await watch(url, world.t("other-inspector"), QUEUE)
        await eventually(lambda: len(live.watchers) == 2, what="subscribed")
        first = await submit(world, world.facility)
        assert {r["data"]["reviewQueueChanged"]["element"]["id"]
                for r in await inspector.first(3)} == first

        await served.stop()  # the subgraph goes away (its sockets close with 1012)
        await eventually(lambda: not live.watchers, what="the old subscriptions gone")
        # Submitted while the subgraph is down: published to the stream, delivered to no one.
        downtime = await submit(world, world.facility)
        theirs = await submit(world, world.other_facility, "outsider", "outsider")
        again = bound(port)
        restarted = await serve(world.h.app, again)
        await eventually(lambda: len(live.watchers) == 2, what="resubscribed")
        after = await submit(world, world.facility)

        results = await inspector.first(9)
        elements = [r["data"]["reviewQueueChanged"]["element"]["id"] for r in results]
        assert set(elements[3:6]) == downtime and set(elements[6:]) == after
        events = ids(results)
        assert len(set(events)) == 9
        assert events == await stream_order(live, set(events))  # in the stream's order
        assert {r["data"]["reviewQueueChanged"]["element"]["id"]
                for r in await other.first(3)} == theirs
        # Nothing more is pending: the next change is the next one delivered.
        last = await submit(world, world.facility)
        results = await inspector.first(12)
        assert {r["data"]["reviewQueueChanged"]["element"]["id"] for r in results[9:]} == last
        assert len(set(ids(results))) == 12 and not inspector.done
        for w in (inspector, other):
            await w.connection.close()
        await restarted.stop()
        again.close()
    finally:
        await gateway.stop()
        gateway_sock.close()


async def test_a_gateway_restart_closes_subscriptions_cleanly_and_clients_subscribe_again(
        world: World, submittal: tuple[socket.socket, Served]) -> None:
    sock, _ = submittal
    live = world.h.app.state.live
    verifier = JWKSVerifier(world.h.keys.url, issuer=ISSUER, audience=AUDIENCE)

    def gateway_app() -> Any:
        return create_gateway(
            load_settings(), config=GatewayConfig(keep_alive=1.0),
            supergraph_sdl=DEFAULT_SUPERGRAPH.read_text(),
            subgraph_url_overrides={
                "submittal": f"http://127.0.0.1:{sock.getsockname()[1]}/graphql"},
            verifier=verifier)

    gateway_sock = bound()
    port = gateway_sock.getsockname()[1]
    url = f"ws://127.0.0.1:{port}/graphql"
    gateway = await serve(gateway_app(), gateway_sock, lifespan="on")
    inspector = await watch(url, world.t("inspector"), QUEUE)
    await eventually(lambda: len(live.watchers) == 1, what="subscribed")
    first = await submit(world, world.facility)
    assert {r["data"]["reviewQueueChanged"]["element"]["id"]
            for r in await inspector.first(3)} == first

    await gateway.stop()
    gateway_sock.close()
    # The client's socket is closed with a close frame (1012, service restart: a code after
    # which graphql-ws clients retry), and the gateway's subscription upstream is gone.
    await inspector.ended()
    assert inspector.lost is not None and inspector.lost.code == 1012, inspector.lost
    await eventually(lambda: not live.watchers, what="the upstream subscription gone")

    again_sock = bound(port)
    restarted = await serve(gateway_app(), again_sock, lifespan="on")
    try:
        # What a graphql-ws client does: connect again, subscribe again (and re-query what
        # changed while it was away); then it receives what follows.
        renewed = await watch(url, world.t("inspector"), QUEUE)
        await eventually(lambda: len(live.watchers) == 1, what="subscribed again")
        second = await submit(world, world.facility)
        results = await renewed.first(3)
        assert {r["data"]["reviewQueueChanged"]["element"]["id"] for r in results} == second
        assert len(set(ids(results))) == 3
        await renewed.connection.close()
    finally:
        await restarted.stop()
        again_sock.close()
