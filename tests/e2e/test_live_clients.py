"""Interoperability of the gateway's subscriptions with the reference clients, graphql-ws
(graphql-transport-ws) and graphql-sse (distinct connections) from npm under Node, on the
whole system; and a revoked membership ending a subscription.

``tests/gateway/live/`` holds their package.json and lock; ``npm ci`` installs them on first
use.
"""

from __future__ import annotations

import asyncio
import json
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import client
from tests.e2e.conftest import DEMO_BUSINESS, DEMO_REGULATOR, Actors
from tests.e2e.journeys import demo_facility
from tests.e2e.system import RunningSystem, eventually
from tests.e2e.test_accounts import ADD_PERSON, demo_org
from tests.e2e.test_live import live_subscriptions as _live
from tests.e2e.test_live import no_subscriptions
from tests.livewatch import Watch, watch

CLIENTS_DIR = Path(__file__).parents[1] / "gateway" / "live"
QUEUE = """subscription Queue($f: ID) { reviewQueueChanged(filter: {facilityId: $f}) {
  kind element { id element status facility { name } } } }"""
MINE = """subscription Mine($f: ID) { submittalElementChanged(facilityId: $f) {
  kind element { id status } } }"""
NOT_APPLICABLE = """mutation Na($input: MarkNotApplicableInput!) {
  markNotApplicable(input: $input) { element { id } userErrors { code message } } }"""
REMOVE = """mutation Remove($input: PersonInput!) {
  removePerson(input: $input) { userErrors { code message } } }"""
WAIT = 60.0

needs_node = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="needs Node.js and npm")


def ensure_node_modules() -> None:
    if not (CLIENTS_DIR / "node_modules" / "graphql-ws" / "package.json").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENTS_DIR, check=True,
                       capture_output=True, timeout=600)


class NodeClient:
    """One reference client subscribed in a Node process; its output lines, in order."""

    def __init__(self, **args: Any) -> None:
        self.process = subprocess.Popen(
            ["node", str(CLIENTS_DIR / "clients.mjs"), json.dumps(args)], cwd=CLIENTS_DIR,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def next(self, skip: tuple[str, ...] = ("connected",)) -> dict[str, Any]:
        while True:
            line = self.lines.get(timeout=WAIT)
            if line is None:
                stderr = self.process.stderr.read() if self.process.stderr else ""
                raise AssertionError(f"the client exited: {stderr[-2000:]}")
            if line["event"] not in skip:
                return line

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(10)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()


def live_subscriptions(system: RunningSystem) -> float:
    return _live(system, "submittal")


def gateway_subscriptions(system: RunningSystem) -> float:
    return _live(system, "gateway")


@needs_node
def test_graphql_ws_and_graphql_sse_receive_the_same_change(
    system: RunningSystem, actors: Actors, live_business: dict[str, Any],
) -> None:
    ensure_node_modules()
    facility = live_business
    token = actors.token(DEMO_REGULATOR[0])
    url = system.base_url + "/graphql"
    before = no_subscriptions(system)
    clients_before = gateway_subscriptions(system)
    clients = [NodeClient(protocol=p, url=url, token=token, query=QUEUE,
                          variables={"f": facility["id"]}, count=1) for p in ("ws", "sse")]
    try:
        # One token, one operation: the gateway runs both clients on one upstream
        # subscription.
        eventually(lambda: live_subscriptions(system) >= before + 1
                   and gateway_subscriptions(system) >= clients_before + 2, 30)
        marked = actors.gql("liv.live", NOT_APPLICABLE, {"input": {
            "facilityId": facility["id"], "element": "HAZARDOUS_WASTE_TANK_CLOSURE"}})
        element = client.payload(marked, "markNotApplicable")["element"]
        for reference in clients:
            line = reference.next()
            assert line["event"] == "next", line
            change = line["payload"]["data"]["reviewQueueChanged"]
            assert change["kind"] == "NOT_APPLICABLE"
            assert change["element"] == {"id": element["id"],
                                         "element": "HAZARDOUS_WASTE_TANK_CLOSURE",
                                         "status": "NOT_APPLICABLE",
                                         "facility": {"name": facility["name"]}}
    finally:
        for reference in clients:
            reference.stop()


@needs_node
def test_the_reference_clients_get_coded_refusals(system: RunningSystem) -> None:
    ensure_node_modules()
    url = system.base_url + "/graphql"
    ws = NodeClient(protocol="ws", url=url, token="not-a-token", query=QUEUE)
    try:
        line = ws.next()
        assert line == {"event": "error", "error": {"closeCode": 4403,
                                                    "reason": "Forbidden: UNAUTHENTICATED"}}
    finally:
        ws.stop()
    for protocol in ("ws", "sse"):
        anonymous = NodeClient(protocol=protocol, url=url, token=None, query=QUEUE)
        try:
            line = anonymous.next()
            assert line["event"] == "next", line
            assert line["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            assert anonymous.next()["event"] == "complete"
        finally:
            anonymous.stop()


def test_a_revoked_membership_ends_the_subscription(
    system: RunningSystem, actors: Actors,
) -> None:
    org = demo_org(actors)
    quincy = demo_facility(actors, "Quincy")
    rex = actors.register("rex.revoked", first="Rex", last="Revoked")
    client.payload(actors.gql(DEMO_BUSINESS[0], ADD_PERSON, {"input": {
        "organizationId": org["id"], "email": actors.email("rex.revoked"), "firstName": "Rex",
        "lastName": "Revoked", "role": "VIEWER"}}), "addPerson")
    token = actors.token("rex.revoked")
    before = no_subscriptions(system)

    async def subscribed() -> Watch:
        # Until submittal's read model has the membership (it follows facility's events),
        # the subscription is refused with NOT_FOUND: subscribe again until it runs.
        for _ in range(60):
            watcher = await watch(system.base_url + "/graphql", token, MINE, f=quincy["id"])
            await asyncio.to_thread(eventually, lambda w=watcher: w.results or live_subscriptions(
                system) >= before + 1, 30)
            if not watcher.results:
                return watcher
            code = watcher.results[0]["errors"][0]["extensions"]["code"]
            assert code == "NOT_FOUND", watcher.results
            await watcher.connection.close()
            await asyncio.sleep(0.5)
        raise AssertionError("submittal never learnt of the membership")

    async def journey() -> None:
        watcher = await subscribed()
        removed = await asyncio.to_thread(actors.gql, DEMO_BUSINESS[0], REMOVE, {"input": {
            "organizationId": org["id"], "userId": rex}})
        assert client.payload(removed, "removePerson")["userErrors"] == []
        last = await watcher.ended()
        assert last["errors"][0]["extensions"]["code"] == "FORBIDDEN", last
        await watcher.connection.close()

    asyncio.run(journey())
