"""Subscriptions of the submittal subgraph over graphql-transport-ws, fed by a real
nats-server: who receives which change, and what ends a subscription.

"Receives nothing" is proven by order, never by waiting: the live feed delivers events in
stream order, so a watcher whose first change is one published later saw none before it.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from common.contracts import facility as contract
from common.graphql_live import shared_counts
from gateway.wsclient import ConnectionLost, WSConnection
from tests.livewatch import Watch, watch
from tests.submittal.conftest import Harness, World, eventually
from tests.submittal.flows import REVIEW, SUBMIT, draft_hmbp, ok

QUEUE = """subscription($filter: ReviewQueueFilter) { reviewQueueChanged(filter: $filter) {
  kind eventId element { id element status facility { id }
    hazardousMaterials(first: 5) { edges { node { commonName location withheld } } } } } }"""
MINE = """subscription($f: ID) { submittalElementChanged(facilityId: $f) {
  kind element { id element status review { action comments } } } }"""
WAIT = 30.0  # bounds every wait on an event


@pytest.fixture
async def url(harness: Harness) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(harness.app, lifespan="off", log_level="warning"))
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    live = harness.app.state.live
    await asyncio.wait_for(live.elements.ready.wait(), WAIT)
    await asyncio.wait_for(live.rights.ready.wait(), WAIT)
    yield f"ws://127.0.0.1:{sock.getsockname()[1]}/graphql"
    server.should_exit = True
    await asyncio.wait_for(task, 10)
    sock.close()


async def watching(h: Harness, count: int) -> None:
    """Until the service runs ``count`` subscriptions: events from then on reach them."""
    await eventually(lambda: len(h.app.state.live.watchers) == count, what="subscribed")


def changes(results: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    for result in results:
        assert "errors" not in result, result
    return [r["data"][field] for r in results]


async def test_live_queue_and_business_changes_follow_each_callers_rights(
        world: World, url: str):
    h = world.h
    inspector = await watch(url, world.t("inspector"), QUEUE)
    other_county = await watch(url, world.t("other-inspector"), QUEUE)
    statewide = await watch(url, h.token("state-reader", "state"), QUEUE)
    lead = await watch(url, world.t("lead"), MINE, f=world.facility)
    other_business = await watch(url, world.t("outsider"), MINE)
    await watching(h, 5)

    ids = await draft_hmbp(h, world.t("editor"), world.facility)
    ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")

    queue = changes(await inspector.first(3), "reviewQueueChanged")
    assert {c["element"]["id"] for c in queue} == set(ids.values())
    assert {c["kind"] for c in queue} == {"SUBMITTED"}
    assert {c["element"]["facility"]["id"] for c in queue} == {world.facility}
    secret = [c for c in queue if c["element"]["element"] == "HAZARDOUS_MATERIALS_INVENTORY"]
    assert secret[0]["element"]["hazardousMaterials"]["edges"][1]["node"]["location"] == (
        "Vault B")
    state = changes(await statewide.first(3), "reviewQueueChanged")
    inventory = [c for c in state if c["element"]["element"] == "HAZARDOUS_MATERIALS_INVENTORY"]
    withheld = inventory[0]["element"]["hazardousMaterials"]["edges"][1]["node"]
    assert withheld["location"] != "Vault B" and withheld["withheld"]
    assert len(changes(await lead.first(3), "submittalElementChanged")) == 3

    review = ok(await h.gql(REVIEW, world.t("inspector"),
                            id=ids["FACILITY_INFORMATION"], a="NOT_ACCEPT", c="Fix the phone."),
                "reviewSubmittalElement")
    assert review["userErrors"] == []
    reviewed = changes(await lead.first(4), "submittalElementChanged")[3]
    assert reviewed["kind"] == "REVIEWED"
    assert reviewed["element"]["status"] == "NOT_ACCEPTED"
    assert reviewed["element"]["review"] == {"action": "NOT_ACCEPT",
                                             "comments": "Fix the phone."}
    assert changes(await inspector.first(4), "reviewQueueChanged")[3]["kind"] == "REVIEWED"

    # The other business and the other county's regulator: their first change is their own.
    other_ids = await draft_hmbp(h, world.t("outsider"), world.other_facility)
    ok(await h.gql(SUBMIT, world.t("outsider"), f=world.other_facility), "submitDrafts")
    theirs = changes(await other_county.first(3), "reviewQueueChanged")
    assert {c["element"]["id"] for c in theirs} == set(other_ids.values())
    mine = changes(await other_business.first(3), "submittalElementChanged")
    assert {c["element"]["id"] for c in mine} == set(other_ids.values())
    # ...and the lead of the first business got none of them: its next change is its own.
    await h.gql(REVIEW, world.t("inspector"), id=ids["EMERGENCY_RESPONSE_TRAINING_PLANS"],
                a="ACCEPT")
    fifth = changes(await lead.first(5), "submittalElementChanged")[4]
    assert fifth["element"]["id"] == ids["EMERGENCY_RESPONSE_TRAINING_PLANS"]

    for w in (inspector, other_county, statewide, lead, other_business):
        await w.connection.close()


async def test_a_revoked_role_ends_the_subscription_with_forbidden(world: World, url: str):
    h = world.h
    inspector = await watch(url, world.t("inspector"), QUEUE)
    lead = await watch(url, world.t("lead"), MINE)
    await watching(h, 2)
    await h.publish(contract.STAFF_REVOKED, f"{world.agency}:inspector",
                    contract.StaffRevoked(agency_id=world.agency, user_id="inspector")
                    .model_dump(mode="json"))
    last = await inspector.ended()
    assert last["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await h.publish(contract.MEMBERSHIP_REVOKED, f"{world.org}:lead",
                    contract.MembershipRevoked(organization_id=world.org, user_id="lead")
                    .model_dump(mode="json"))
    last = await lead.ended()
    assert last["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await h.settle()
    # Subscribing again with no staff role left is refused.
    again = await watch(url, world.t("inspector"), QUEUE)
    assert (await again.ended())["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # So is a new subscription on the same connection, whose Context outlived the first.
    same = Watch(lead.connection, MINE, {"f": world.facility})
    assert (await same.ended())["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    for w in (inspector, lead, again):
        await w.connection.close()


async def test_one_audience_shares_each_execution_and_each_caller_is_still_checked(
        world: World, url: str):
    h = world.h
    await h.staff(world.agency, "inspector-2", "INSPECTOR")
    await h.settle()
    shared = shared_counts.executed, shared_counts.shared
    inspector = await watch(url, world.t("inspector"), QUEUE)
    colleague = await watch(url, world.t("inspector-2"), QUEUE)
    statewide = await watch(url, h.token("state-reader", "state"), QUEUE)
    other_county = await watch(url, world.t("other-inspector"), QUEUE)
    await watching(h, 4)

    ids = await draft_hmbp(h, world.t("editor"), world.facility)
    ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    mine = changes(await inspector.first(3), "reviewQueueChanged")
    # The two inspectors (one audience) are sent the same results, trade secrets included;
    # the statewide reader (another audience) gets them withheld.
    assert changes(await colleague.first(3), "reviewQueueChanged") == mine
    inventory = [c for c in mine if c["element"]["element"] == "HAZARDOUS_MATERIALS_INVENTORY"]
    assert inventory[0]["element"]["hazardousMaterials"]["edges"][1]["node"]["location"] == (
        "Vault B")
    state = changes(await statewide.first(3), "reviewQueueChanged")
    withheld = [c for c in state if c["element"]["element"] == "HAZARDOUS_MATERIALS_INVENTORY"]
    assert withheld[0]["element"]["hazardousMaterials"]["edges"][1]["node"]["withheld"]
    # Three events, two audiences: six executions; the colleague's three were handed on.
    assert (shared_counts.executed - shared[0], shared_counts.shared - shared[1]) == (6, 3)

    # The colleague's role is revoked: only that subscription ends; the other goes on.
    await h.publish(contract.STAFF_REVOKED, f"{world.agency}:inspector-2",
                    contract.StaffRevoked(agency_id=world.agency, user_id="inspector-2")
                    .model_dump(mode="json"))
    assert (await colleague.ended())["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await h.settle()
    await h.gql(REVIEW, world.t("inspector"), id=ids["FACILITY_INFORMATION"], a="ACCEPT")
    assert changes(await inspector.first(4), "reviewQueueChanged")[3]["kind"] == "REVIEWED"
    assert len(colleague.results) == 4  # three changes, then the error
    # The other county's regulator got none of it: its first change is its own.
    other_ids = await draft_hmbp(h, world.t("outsider"), world.other_facility)
    ok(await h.gql(SUBMIT, world.t("outsider"), f=world.other_facility), "submitDrafts")
    theirs = changes(await other_county.first(3), "reviewQueueChanged")
    assert {c["element"]["id"] for c in theirs} == set(other_ids.values())
    for w in (inspector, colleague, statewide, other_county):
        await w.connection.close()


async def test_refusals_are_coded(world: World, url: str):
    h = world.h
    anonymous = await watch(url, None, QUEUE)
    assert (await anonymous.ended())["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    business = await watch(url, world.t("lead"), QUEUE)
    assert (await business.ended())["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    outsider = await watch(url, world.t("outsider"), MINE, f=world.facility)
    assert (await outsider.ended())["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    with pytest.raises(ConnectionLost) as refused:
        await watch(url, h.keys.mint("inspector", "regulator", exp=int(time.time()) - 60), QUEUE)
    assert refused.value.code == 4403
    # A token that expires while subscribed ends the subscription.
    short = await watch(url, h.keys.mint("inspector", "regulator", exp=int(time.time()) + 3),
                        QUEUE)
    assert (await short.ended())["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for w in (anonymous, business, outsider, short):
        await w.connection.close()


async def test_a_bad_token_is_refused_at_connection_init(world: World, url: str):
    with pytest.raises(ConnectionLost) as refused:
        await WSConnection.connect(url, {"Authorization": "Bearer not-a-token"})
    assert refused.value.code == 4403


def positions_of(results: list[dict[str, Any]]) -> list[int]:
    return [r["extensions"]["livePosition"] for r in results]


def is_mark(result: dict[str, Any]) -> bool:
    return result["data"] is None and "errors" not in result and result["extensions"] != {}


async def test_a_subscription_resumed_from_a_position_replays_what_followed_once(
        world: World, url: str, monkeypatch: pytest.MonkeyPatch):
    h = world.h
    first = await watch(url, world.t("inspector"), QUEUE)
    # A subscriber that asks for positions gets a mark of where it starts.
    marked = await watch(url, world.t("inspector"), QUEUE, {"livePosition": None})
    [start] = await marked.first(1)
    assert is_mark(start)
    await watching(h, 2)
    ids = await draft_hmbp(h, world.t("editor"), world.facility)
    ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    results = await first.first(3)
    # Each change carries its stream position, in the `next` payload's extensions only.
    at = positions_of(results)
    assert at == sorted(at) and len(set(at)) == 3 and at[0] > positions_of([start])[0]
    assert (await marked.first(4))[1:] == results
    events = [c["eventId"] for c in changes(results, "reviewQueueChanged")]

    # Resumed after the first change: the two after it, in order, and nothing before; then
    # a mark of where the replay ended.
    resumed = await watch(url, world.t("inspector"), QUEUE, {"livePosition": at[0]})
    # Rights apply to replayed changes as to live ones: the other business's lead, resuming
    # from the stream's start, is replayed none of this business's changes.
    outsider = await watch(url, world.t("outsider"), MINE, {"livePosition": 0})
    replayed = await resumed.first(3)
    assert [c["eventId"] for c in changes(replayed[:2], "reviewQueueChanged")] == events[1:]
    assert positions_of(replayed[:2]) == at[1:]
    assert is_mark(replayed[2]) and positions_of(replayed[2:]) == at[2:]
    assert is_mark((await outsider.first(1))[0])
    await watching(h, 4)

    # Then live changes, each once.
    monkeypatch.setattr("services.submittal.live.MARK_EVERY", 1)
    ok(await h.gql(REVIEW, world.t("inspector"), id=ids["FACILITY_INFORMATION"],
                   a="NOT_ACCEPT", c="Fix the phone."), "reviewSubmittalElement")
    live = (await resumed.first(4))[3]
    assert live == (await first.first(4))[3]
    assert live["data"]["reviewQueueChanged"]["kind"] == "REVIEWED"
    other = await draft_hmbp(h, world.t("outsider"), world.other_facility)
    ok(await h.gql(SUBMIT, world.t("outsider"), f=world.other_facility), "submitDrafts")
    # The outsider got a mark for the change that was not for it, then its own changes.
    theirs = await outsider.first(5)
    assert is_mark(theirs[1]) and positions_of(theirs[1:2]) == positions_of([live])
    assert {c["element"]["id"] for c in changes(theirs[2:], "submittalElementChanged")} == \
        set(other.values())

    # Too far back, or a position the stream never reached: ended, to query instead.
    monkeypatch.setattr("services.submittal.live.MAX_REPLAY", 1)
    far = await watch(url, world.t("inspector"), QUEUE, {"livePosition": at[0]})
    ahead = await watch(url, world.t("inspector"), QUEUE, {"livePosition": at[-1] + 10**6})
    for ended in (far, ahead):
        error = (await ended.ended())["errors"][0]
        assert error["extensions"]["code"] == "UNAVAILABLE" and "query" in error["message"]
    for w in (first, marked, resumed, outsider, far, ahead):
        await w.connection.close()


async def test_changes_arriving_during_a_replay_follow_it_once(
        world: World, url: str, monkeypatch: pytest.MonkeyPatch):
    h = world.h
    live = h.app.state.live
    first = await watch(url, world.t("inspector"), QUEUE)
    await watching(h, 1)
    await draft_hmbp(h, world.t("editor"), world.facility)
    ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    at = positions_of(await first.first(3))

    # The replay is held at its start (the real one, behind a gate) while more changes come.
    gate = asyncio.Event()
    replay = type(live.elements).replay

    async def gated(feed: Any, after: int, upto: int) -> Any:
        await gate.wait()
        async for item in replay(feed, after, upto):
            yield item

    monkeypatch.setattr(type(live.elements), "replay", gated)
    resumed = await watch(url, world.t("inspector"), QUEUE, {"livePosition": at[0]})
    await watching(h, 2)
    await draft_hmbp(h, world.t("editor"), world.facility)  # new drafts, submitted again
    ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    later = await first.first(6)
    waiting = next(w for w in live.watchers.values() if w.replaying)
    await eventually(lambda: len(waiting.held) == 3, what="the live changes held")
    gate.set()
    results = await resumed.first(6)
    # The two replayed, the mark where the replay ended, then the three held: once each.
    assert positions_of(results[:2]) == at[1:]
    assert is_mark(results[2]) and positions_of(results[2:3]) == at[2:]
    assert results[3:] == later[3:]
    # (the mark repeats the last replayed position; nothing else repeats)
    assert len({r["extensions"]["livePosition"] for r in results}) == 5
    for w in (first, resumed):
        await w.connection.close()
