"""Subscriptions shared in the gateway, with the real submittal subgraph behind it: clients
of one operation, variables and token share one upstream subscription and get the same
results; any other caller keeps its own, decided by the subgraph with its own rights.

"Receives nothing" is proven by order, never by waiting: a watcher whose first change is
one published later saw none before it.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from common.auth import JWKSVerifier
from common.contracts import facility as contract
from common.settings import load_settings
from gateway.app import create_app as create_gateway
from gateway.config import DEFAULT_SUPERGRAPH, GatewayConfig
from tests.livewatch import watch
from tests.submittal.conftest import AUDIENCE, ISSUER, World, eventually
from tests.submittal.test_live_faults import Served, bound, serve, submit
from tests.submittal.test_live_faults import submittal as submittal  # noqa: F401 - fixture

QUEUE = """subscription { reviewQueueChanged { kind eventId element { id element status
  hazardousMaterials(first: 5) { edges { node { location withheld } } } } } }"""
MINE = """subscription { submittalElementChanged { kind element { id status } } }"""


@pytest.fixture
async def gateway(world: World, submittal: tuple[socket.socket, Served]
                  ) -> AsyncIterator[str]:
    sock, _ = submittal
    verifier = JWKSVerifier(world.h.keys.url, issuer=ISSUER, audience=AUDIENCE)
    app = create_gateway(
        load_settings(), config=GatewayConfig(keep_alive=1.0),
        supergraph_sdl=DEFAULT_SUPERGRAPH.read_text(),
        subgraph_url_overrides={"submittal": f"http://127.0.0.1:{sock.getsockname()[1]}/graphql"},
        verifier=verifier)
    gateway_sock = bound()
    served = await serve(app, gateway_sock, lifespan="on")
    yield f"ws://127.0.0.1:{gateway_sock.getsockname()[1]}/graphql"
    await served.stop()
    gateway_sock.close()


def queue_of(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for result in results:
        assert "errors" not in result, result
    return [r["data"]["reviewQueueChanged"] for r in results]


def location(change: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = change["element"]["hazardousMaterials"]["edges"][1]["node"]
    return node


async def test_clients_of_one_token_share_an_upstream_and_other_callers_keep_their_own(
        world: World, gateway: str) -> None:
    h = world.h
    live = h.app.state.live
    await h.staff(world.agency, "inspector-2", "INSPECTOR")
    await h.settle()
    token = world.t("inspector")
    laptop = await watch(gateway, token, QUEUE)
    phone = await watch(gateway, token, QUEUE)
    colleague = await watch(gateway, world.t("inspector-2"), QUEUE)
    statewide = await watch(gateway, h.token("state-reader", "state"), QUEUE)
    other_county = await watch(gateway, world.t("other-inspector"), QUEUE)
    anonymous = await watch(gateway, None, QUEUE)
    assert (await anonymous.ended())["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # One upstream subscription for the two clients of one token; one for each other caller.
    await eventually(lambda: len(live.watchers) == 4, what="subscribed upstream")

    submitted = await submit(world, world.facility)
    mine = queue_of(await laptop.first(3))
    assert {c["element"]["id"] for c in mine} == submitted
    assert queue_of(await phone.first(3)) == mine
    assert queue_of(await colleague.first(3)) == mine
    inventory = [c for c in mine if c["element"]["element"] == "HAZARDOUS_MATERIALS_INVENTORY"]
    assert location(inventory[0])["location"] == "Vault B"
    state = queue_of(await statewide.first(3))
    withheld = [c for c in state if c["element"]["element"] == "HAZARDOUS_MATERIALS_INVENTORY"]
    assert location(withheld[0])["location"] != "Vault B" and location(withheld[0])["withheld"]
    assert len(anonymous.results) == 1  # its refusal, nothing after

    # The colleague's role is revoked: its subscription ends; the shared one goes on.
    await h.publish(contract.STAFF_REVOKED, f"{world.agency}:inspector-2",
                    contract.StaffRevoked(agency_id=world.agency, user_id="inspector-2")
                    .model_dump(mode="json"))
    assert (await colleague.ended())["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await h.settle()
    # One of the two clients leaves; the other keeps the upstream subscription.
    await phone.connection.close()
    await eventually(lambda: len(live.watchers) == 3, what="the colleague's gone")
    second = await submit(world, world.facility)
    assert {c["element"]["id"] for c in queue_of(await laptop.first(6))[3:]} == second
    assert len(colleague.results) == 4  # three changes, then the error
    # The other county's regulator got none of it: its first change is its own.
    theirs = await submit(world, world.other_facility, "outsider", "outsider")
    assert {c["element"]["id"] for c in queue_of(await other_county.first(3))} == theirs
    for w in (laptop, phone, colleague, statewide, other_county, anonymous):
        await w.connection.close()
    await eventually(lambda: not live.watchers, what="every upstream subscription closed")


async def test_another_business_gets_nothing_of_a_business_shared_subscription(
        world: World, gateway: str) -> None:
    h = world.h
    token = world.t("lead")
    lead = [await watch(gateway, token, MINE) for _ in range(2)]
    outsider = await watch(gateway, world.t("outsider"), MINE)
    await eventually(lambda: len(h.app.state.live.watchers) == 2, what="subscribed upstream")
    submitted = await submit(world, world.facility)
    first = await lead[0].first(3)
    assert await lead[1].first(3) == first
    assert {r["data"]["submittalElementChanged"]["element"]["id"] for r in first} == submitted
    theirs = await submit(world, world.other_facility, "outsider", "outsider")
    got = await outsider.first(3)
    assert {r["data"]["submittalElementChanged"]["element"]["id"] for r in got} == theirs
    for w in (*lead, outsider):
        await w.connection.close()
