"""Subscriptions of the facility subgraph over graphql-transport-ws, fed by a real
nats-server through the service's own outbox: who receives which facility change and access
request, and a revoked membership ending a subscription.

"Receives nothing" is proven by order, never by waiting: the live feed delivers events in
stream order, so a watcher whose first change is one made later saw none before it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from common.auth import JWKSVerifier
from common.graphql_live import subscription_route
from services.facility.live import LiveFacilities
from services.facility.worker import Worker
from tests.livewatch import Watch
from tests.livewatch import watch as watch_at

from .conftest import AUDIENCE, ISSUER, token
from .helpers import agency, business

FACILITY = """subscription($f: ID) { facilityChanged(facilityId: $f) {
  kind eventId facility { id name annualDueDate permits { number } } } }"""
REQUESTS = """subscription { accessRequestChanged {
  kind accessRequest { id status requestedRole grantedRole organization { id } } } }"""
SET_DUE = """mutation($id: ID!, $d: Date!) { setAnnualDueDate(input: {facilityId: $id,
  annualDueDate: $d}) { userErrors { code } } }"""
ISSUE = """mutation($id: ID!) { issuePermit(input: {facilityId: $id, expiresAt: "2027-06-30"}) {
  permit { number } userErrors { code message } } }"""
ASK = """mutation($o: ID!) { requestAccess(input: {organizationId: $o, requestedRole: EDITOR}) {
  accessRequest { id } userErrors { code message } } }"""
DECIDE = """mutation($id: ID!) { decideAccessRequest(input: {id: $id, decision: APPROVE,
  role: VIEWER}) { userErrors { code message } } }"""
REMOVE = """mutation($o: ID!, $u: ID!) { removePerson(input: {organizationId: $o, userId: $u}) {
  userErrors { code message } } }"""


@pytest.fixture
async def live(app: Any, settings: Any, jwks_url: str,
               nats_server: Any) -> AsyncIterator[tuple[str, LiveFacilities]]:
    settings = dataclasses.replace(settings, nats_url=nats_server.url, outbox_poll_seconds=0.05)
    worker = Worker(app, settings)
    hub = LiveFacilities(app, worker.bus.connection)
    verifier = JWKSVerifier(jwks_url, issuer=ISSUER, audience=AUDIENCE)
    asgi = Starlette(routes=[subscription_route("/graphql", schema(), verifier,
                                                {"app": app, "live": hub})])
    await worker.start()
    hub.start()
    await asyncio.wait_for(hub.feed.ready.wait(), 30)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(asgi, lifespan="off", log_level="warning"))
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    yield f"ws://127.0.0.1:{sock.getsockname()[1]}/graphql", hub
    server.should_exit = True
    await asyncio.wait_for(task, 10)
    sock.close()
    await hub.stop()
    await worker.stop()
    await verifier.aclose()


def schema() -> Any:
    from services.facility.graphql.schema import schema

    return schema


async def watch(url: str, user: str, query: str, portal: str = "business",
                **variables: Any) -> Watch:
    return await watch_at(url, token(user, portal), query, **variables)


async def watching(hub: LiveFacilities, count: int) -> None:
    async def until() -> None:
        while len(hub.watchers) != count:  # noqa: ASYNC110 - a plain count; no event to wait on
            await asyncio.sleep(0.02)

    await asyncio.wait_for(until(), 30)


def changes(results: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    for result in results:
        assert "errors" not in result, result
    return [r["data"][field] for r in results]


async def test_facility_changes_reach_its_business_and_regulator_only(
        api: Any, app: Any, live: tuple[str, LiveFacilities]) -> None:
    url, hub = live
    await agency(app, "Plumas County EH", "Plumas", "pat")
    await agency(app, "Sierra County EH", "Sierra", "sid")
    mine = (await business(api, "ann", "1 Main St"))["facility"]
    other = (await business(api, "olga", "9 Elm St", name="Olga Oil"))["facility"]
    sierra = (await business(api, "sam", "5 Pine St", name="Sam's", county="Sierra"))[
        "facility"]
    ann = await watch(url, "ann", FACILITY, f=mine["id"])
    pat = await watch(url, "pat", FACILITY, portal="regulator")
    olga = await watch(url, "olga", FACILITY)
    sid = await watch(url, "sid", FACILITY, portal="regulator")
    await watching(hub, 4)

    set_due = await api(SET_DUE, as_="pat", portal="regulator", id=mine["id"], d="2027-02-01")
    assert set_due["data"]["setAnnualDueDate"]["userErrors"] == [], set_due
    [due] = changes(await ann.first(1), "facilityChanged")
    assert due["kind"] == "DUE_DATE_CHANGED"
    assert due["facility"]["annualDueDate"] == "2027-02-01"
    [seen] = changes(await pat.first(1), "facilityChanged")
    assert seen["eventId"] == due["eventId"]

    issued = await api(ISSUE, as_="pat", portal="regulator", id=mine["id"])
    assert issued["data"]["issuePermit"]["userErrors"] == [], issued
    number = issued["data"]["issuePermit"]["permit"]["number"]
    permit = changes(await ann.first(2), "facilityChanged")[1]
    assert permit["kind"] == "PERMIT_ISSUED"
    assert permit["facility"]["permits"] == [{"number": number}]

    # Another business and another county's regulator: their first change is their own.
    await api(SET_DUE, as_="pat", portal="regulator", id=other["id"], d="2027-02-02")
    [first] = changes(await olga.first(1), "facilityChanged")
    assert first["facility"]["id"] == other["id"]
    await api(SET_DUE, as_="sid", portal="regulator", id=sierra["id"], d="2027-02-03")
    [first] = changes(await sid.first(1), "facilityChanged")
    assert first["facility"]["id"] == sierra["id"]
    for w in (ann, pat, olga, sid):
        await w.connection.close()


async def test_access_requests_reach_the_requester_and_the_lead_user_and_revocation_ends(
        api: Any, app: Any, live: tuple[str, LiveFacilities]) -> None:
    url, hub = live
    await agency(app, "Plumas County EH", "Plumas", "pat")
    org = (await business(api, "ann", "1 Main St"))["organization"]
    await business(api, "olga", "9 Elm St", name="Olga Oil")
    ann = await watch(url, "ann", REQUESTS)
    rita = await watch(url, "rita", REQUESTS)
    olga = await watch(url, "olga", REQUESTS)
    await watching(hub, 3)

    asked = await api(ASK, as_="rita", o=org["id"])
    request_id = asked["data"]["requestAccess"]["accessRequest"]["id"]
    [created] = changes(await ann.first(1), "accessRequestChanged")
    assert created["kind"] == "CREATED"
    assert created["accessRequest"]["id"] == request_id
    assert created["accessRequest"]["organization"] == {"id": org["id"]}
    decided = await api(DECIDE, as_="ann", id=request_id)
    assert decided["data"]["decideAccessRequest"]["userErrors"] == [], decided
    mine = changes(await rita.first(2), "accessRequestChanged")
    assert [c["kind"] for c in mine] == ["CREATED", "DECIDED"]
    assert mine[1]["accessRequest"]["grantedRole"] == "VIEWER"
    # Olga leads another business: her first change is a request to it.
    olga_org = (await api("{ myBusinesses { edges { node { id } } } }", as_="olga"))["data"][
        "myBusinesses"]["edges"][0]["node"]["id"]
    await api(ASK, as_="rita", o=olga_org)
    [first] = changes(await olga.first(1), "accessRequestChanged")
    assert first["accessRequest"]["organization"] == {"id": olga_org}

    # Rita, now a VIEWER of Ann's business, watches its facilities until she is removed.
    facilities = await watch(url, "rita", FACILITY)
    await watching(hub, 4)
    removed = await api(REMOVE, as_="ann", o=org["id"], u="rita")
    assert removed["data"]["removePerson"]["userErrors"] == [], removed
    last = await facilities.ended()
    assert last["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for w in (ann, rita, olga, facilities):
        await w.connection.close()


async def test_refusals_are_coded(api: Any, app: Any, live: tuple[str, LiveFacilities]) -> None:
    url, _ = live
    mine = (await business(api, "ann", "1 Main St"))["facility"]
    anonymous = await watch_at(url, None, FACILITY)
    assert (await anonymous.ended())["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    stranger = await watch(url, "olga", FACILITY, f=mine["id"])
    assert (await stranger.ended())["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    nobody = await watch(url, "nobody", FACILITY)
    assert (await nobody.ended())["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for w in (anonymous, stranger, nobody):
        await w.connection.close()


async def test_a_request_to_a_business_without_a_lead_user_reaches_its_regulator(
        api: Any, app: Any, live: tuple[str, LiveFacilities]) -> None:
    from common.events.envelope import Envelope
    from services.facility.service_layer import consumers

    from .helpers import activate

    url, hub = live
    created = await business(api, "ann", "1 Main St")
    await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    await agency(app, "Sierra County EH", "Sierra", "sid")
    await activate(app, "ann", "ann@example.com")
    await activate(app, "vic", "vic@example.com")
    org = created["organization"]["id"]
    # The business's only lead user becomes vic, whose account then closes: no lead user.
    await api("""mutation($org: ID!) { addPerson(input: {organizationId: $org,
      email: "vic@example.com", role: LEAD_USER}) { membership { role } } }""", as_="ann",
              org=org)
    await api(REMOVE, as_="ann", o=org, u="ann")
    async with app.db.transaction() as session:
        await consumers.user_deactivated(app, session, Envelope(
            type="identity.user.deactivated", aggregate_id="vic", sequence=2,
            data={"user_id": "vic", "deactivated_at": "2026-06-02T00:00:00Z"}))
    pat = await watch(url, "pat", REQUESTS, portal="regulator")
    sid = await watch(url, "sid", REQUESTS, portal="regulator")
    await watching(hub, 2)
    asked = await api("""mutation($c: Int) { requestAccess(input: {cersId: $c,
      requestedRole: LEAD_USER}) { accessRequest { id } } }""", as_="bob",
                      c=created["facility"]["cersId"])
    request_id = asked["data"]["requestAccess"]["accessRequest"]["id"]
    [created_change] = changes(await pat.first(1), "accessRequestChanged")
    assert created_change["kind"] == "CREATED"
    assert created_change["accessRequest"]["id"] == request_id
    # Another county's agency decides nothing here: the subscription stays open and empty
    # (the subgraph decides each watcher in the same pass that reached pat).
    assert sid.results == [] and not sid.done
    for w in (pat, sid):
        await w.connection.close()
