"""Live updates through the gateway, on the whole system as `make run` starts it: the
regulator's review queue receives a business's submission (with the facility's fields
resolved from the facility service), the business receives its review result, and another
business and another county's regulator receive nothing of it.

"Nothing" is proven by order, never by waiting: each subscription delivers events in stream
order, so a watcher whose first change is one made later saw none before it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
from typing import Any

import httpx

from tests.e2e import client
from tests.e2e.conftest import DEMO_BUSINESS, DEMO_REGULATOR, Actors
from tests.e2e.journeys import demo_facility, save, start_draft, submit
from tests.e2e.system import RunningSystem, eventually
from tests.livewatch import watch

QUEUE = """subscription Queue { reviewQueueChanged {
  kind occurredAt element { id element status facility { id name cersId } } } }"""
MINE = """subscription Mine($f: ID) { submittalElementChanged(facilityId: $f) {
  kind occurredAt element { id status review { action comments } facility { name } } } }"""
REVIEW = """mutation Review($input: ReviewSubmittalElementInput!) {
  reviewSubmittalElement(input: $input) { element { status } userErrors { code } } }"""
NOT_APPLICABLE = """mutation Na($input: MarkNotApplicableInput!) {
  markNotApplicable(input: $input) { element { id } userErrors { code message } } }"""


HMBP = "query($id: ID!) { facility(id: $id) { currentHmbp { facilityInformation { data } } } }"
UTC_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00$")


def live_subscriptions(system: RunningSystem, service: str) -> float:
    metrics = httpx.get(system.ops_url(service) + "/metrics", timeout=10).text
    for line in metrics.splitlines():
        if line.startswith(f"{service}_live_subscriptions "):
            return float(line.split()[1])
    return 0.0


def no_subscriptions(system: RunningSystem, service: str = "submittal") -> float:
    """Waits until the subscriptions of earlier tests are gone from the service, so that
    counting up from zero says when this test's are in place."""
    eventually(lambda: live_subscriptions(system, service) == 0, 30)
    return 0.0


def changes(results: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    for result in results:
        assert "errors" not in result, result
    found = [r["data"][field] for r in results]
    for change in found:
        # Like every DateTime of the schema (tests/e2e/test_datetimes.py): UTC, with offset.
        assert "occurredAt" not in change or UTC_INSTANT.match(change["occurredAt"]), change
    return found


def test_the_live_queue_and_review_results_reach_only_those_entitled(
    system: RunningSystem, actors: Actors, outsider: str, other_county_regulator: str,
    live_business: dict[str, Any],
) -> None:
    quincy = demo_facility(actors, "Quincy")
    facility = live_business
    outsiders = client.data(actors.gql(outsider, "{ myBusinesses { edges { node { facilities "
                                                 "{ edges { node { id } } } } } } }"))
    outsider_facility = outsiders["myBusinesses"]["edges"][0]["node"]["facilities"]["edges"][0][
        "node"]["id"]
    # A valid Facility Information: the demo's own, copied.
    demo_info = client.data(actors.gql(DEMO_BUSINESS[0], HMBP, {"id": quincy["id"]}))[
        "facility"]["currentHmbp"]["facilityInformation"]["data"]
    tokens = {name: actors.token(name) for name in (
        DEMO_REGULATOR[0], "liv.live", outsider, other_county_regulator)}
    url = system.base_url + "/graphql"
    before = no_subscriptions(system)

    async def journey() -> None:
        regulator = await watch(url, tokens[DEMO_REGULATOR[0]], QUEUE)
        business = await watch(url, tokens["liv.live"], MINE, f=facility["id"])
        other_business = await watch(url, tokens[outsider], MINE)
        other_county = await watch(url, tokens[other_county_regulator], QUEUE)
        watchers = (regulator, business, other_business, other_county)
        await asyncio.to_thread(eventually, lambda: live_subscriptions(
            system, "submittal") >= before + 4, 30)

        info = await asyncio.to_thread(start_draft, actors, "liv.live", facility["id"],
                                       "FACILITY_INFORMATION")
        await asyncio.to_thread(save, actors, "liv.live", info["id"], demo_info)
        await asyncio.to_thread(submit, actors, "liv.live", facility["id"])
        [queued] = changes(await regulator.first(1), "reviewQueueChanged")
        assert queued["kind"] == "SUBMITTED"
        assert queued["element"]["id"] == info["id"]
        assert queued["element"]["status"] == "SUBMITTED"
        # The facility's name comes from the facility service: the gateway resolved it.
        assert queued["element"]["facility"] == {
            "id": facility["id"], "name": facility["name"], "cersId": facility["cersId"]}
        [mine] = changes(await business.first(1), "submittalElementChanged")
        assert mine["element"]["id"] == info["id"] and mine["kind"] == "SUBMITTED"

        comments = "Live: the owner's phone number is missing."
        reviewed = await asyncio.to_thread(actors.gql, DEMO_REGULATOR[0], REVIEW, {"input": {
            "id": info["id"], "action": "NOT_ACCEPT", "comments": comments}})
        assert client.payload(reviewed, "reviewSubmittalElement")["userErrors"] == []
        result = changes(await business.first(2), "submittalElementChanged")[1]
        assert result["kind"] == "REVIEWED"
        assert result["element"]["status"] == "NOT_ACCEPTED"
        assert result["element"]["review"] == {"action": "NOT_ACCEPT", "comments": comments}
        assert result["element"]["facility"] == {"name": facility["name"]}

        # The other business: its first change is its own.
        marked = await asyncio.to_thread(actors.gql, outsider, NOT_APPLICABLE, {"input": {
            "facilityId": outsider_facility, "element": "UST"}})
        element = client.payload(marked, "markNotApplicable")["element"]
        [first] = changes(await other_business.first(1), "submittalElementChanged")
        assert first["kind"] == "NOT_APPLICABLE", json.dumps(first)
        assert first["element"]["id"] == element["id"]
        # The other county's regulator: its subscription saw none of the above, and still
        # runs (the Plumas regulator's queue has had three changes meanwhile).
        assert len(changes(await regulator.first(3), "reviewQueueChanged")) == 3
        assert other_county.results == [] and not other_county.done
        for w in watchers:
            await w.connection.close()

    asyncio.run(journey())


def test_over_sse_the_regulator_receives_the_submission(
    system: RunningSystem, actors: Actors, live_business: dict[str, Any],
) -> None:
    """graphql-sse's distinct-connections mode, by hand: POST with Accept: text/event-stream."""
    facility = live_business
    token = actors.token(DEMO_REGULATOR[0])
    before = no_subscriptions(system)
    body = {"query": QUEUE.replace("subscription Queue {", "subscription {"), "variables": {}}
    with httpx.stream("POST", system.base_url + "/graphql", json=body, timeout=60, headers={
            "accept": "text/event-stream", "authorization": f"Bearer {token}"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-accel-buffering"] == "no"
        eventually(lambda: live_subscriptions(system, "submittal") > before, 30)
        marked = actors.gql("liv.live", NOT_APPLICABLE, {"input": {
            "facilityId": facility["id"], "element": "CALARP"}})
        element = client.payload(marked, "markNotApplicable")["element"]
        event = None
        for line in response.iter_lines():
            if line.startswith("data: {"):
                event = json.loads(line[len("data: "):])
                break
    assert event is not None
    assert event["data"]["reviewQueueChanged"]["element"]["id"] == element["id"]
    assert event["data"]["reviewQueueChanged"]["element"]["facility"]["name"] == facility["name"]


def test_refusals_over_sse_and_post_are_coded(system: RunningSystem, actors: Actors) -> None:
    body = {"query": "subscription { reviewQueueChanged { kind } }"}
    plain = httpx.post(system.base_url + "/graphql", json=body, timeout=30)
    assert plain.status_code == 400
    assert plain.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    bad = httpx.post(system.base_url + "/graphql", json=body, timeout=30, headers={
        "accept": "text/event-stream", "authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    assert bad.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    invalid = httpx.post(system.base_url + "/graphql", timeout=30, json={
        "query": "subscription { nope }"}, headers={"accept": "text/event-stream"})
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"



FACILITY = """subscription Facility($f: ID) { facilityChanged(facilityId: $f) {
  kind occurredAt facility { id annualDueDate currentHmbp { facilityInformation { id } } } } }"""
SET_DUE = """mutation SetDue($input: SetAnnualDueDateInput!) {
  setAnnualDueDate(input: $input) { userErrors { code message } } }"""


def test_the_business_sees_its_due_date_change_live_with_fields_of_both_subgraphs(
    system: RunningSystem, actors: Actors, outsider: str, live_business: dict[str, Any],
) -> None:
    facility = live_business
    moved, again = "2031-03-01", "2031-04-01"
    url = system.base_url + "/graphql"
    before = no_subscriptions(system, "facility")

    async def journey() -> None:
        business = await watch(url, actors.token("liv.live"), FACILITY, f=facility["id"])
        stranger = await watch(url, actors.token(outsider), FACILITY, f=facility["id"])
        # The stranger may not read the facility: refused at once, with the code.
        assert (await stranger.ended())["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        await asyncio.to_thread(eventually, lambda: live_subscriptions(
            system, "facility") >= before + 1, 30)
        for date in (moved, again):
            body = await asyncio.to_thread(actors.gql, DEMO_REGULATOR[0], SET_DUE, {
                "input": {"facilityId": facility["id"], "annualDueDate": date}})
            assert client.payload(body, "setAnnualDueDate")["userErrors"] == []
        changed = changes(await business.first(2), "facilityChanged")
        assert [c["kind"] for c in changed] == ["DUE_DATE_CHANGED"] * 2
        assert [c["facility"]["annualDueDate"] for c in changed] == [moved, again]
        # currentHmbp is the submittal service's: resolved for the event by the gateway (the
        # journey above submitted this facility's Facility Information).
        assert changed[0]["facility"]["currentHmbp"]["facilityInformation"]["id"]
        await business.connection.close()
        await stranger.connection.close()

    asyncio.run(journey())


def test_the_submittal_service_killed_under_the_gateway_loses_and_repeats_nothing(
    system: RunningSystem, actors: Actors,
) -> None:
    """The submittal process is killed (SIGKILL) right after a change is made, and the
    supervisor starts it again: whether that change had reached the regulator, was published
    but not delivered, or still sat in the outbox, the regulator's open subscription gets it
    once, and every later change (made as soon as the new process accepts it) once, in order.
    Here the gateway has usually resubscribed before the new process accepts changes; changes
    made while the subgraph is away, replayed from the stream position the gateway kept, are
    tested in tests/submittal/test_live_faults.py."""
    actors.register("kai.killed", first="Kai", last="Killed")
    business = actors.business("kai.killed", "Killed Supply", city="Quincy")
    facility = business["facility"]["id"]
    token = actors.token(DEMO_REGULATOR[0])
    before = no_subscriptions(system)

    def mark(element: str) -> str:
        """Marks ``element`` not applicable, once submittal (again) knows the facility."""
        found: list[str] = []

        def marked() -> bool:
            try:
                body = actors.gql("kai.killed", NOT_APPLICABLE, {"input": {
                    "facilityId": facility, "element": element}})
            except httpx.HTTPError:
                return False
            payload = (body.get("data") or {}).get("markNotApplicable")
            if payload and payload["element"]:
                found.append(payload["element"]["id"])
            return bool(found)

        eventually(marked, 60)
        return found[0]

    async def journey() -> None:
        regulator = await watch(system.base_url + "/graphql", token, QUEUE)
        await asyncio.to_thread(eventually, lambda: live_subscriptions(
            system, "submittal") >= before + 1, 30)
        ours = [await asyncio.to_thread(mark, "UST")]
        await regulator.first(1)
        ours.append(await asyncio.to_thread(mark, "APSA"))
        os.kill(system.child_pid("submittal"), signal.SIGKILL)
        # The supervisor starts it again. Changes made as soon as it accepts them (the
        # gateway may not have resubscribed yet) reach the regulator too.
        ours.append(await asyncio.to_thread(mark, "CALARP"))
        ours.append(await asyncio.to_thread(mark, "TIERED_PERMITTING"))
        mine: list[str] = []
        seen = 0
        while len(mine) < len(ours):
            results = await regulator.first(seen + 1)
            seen = len(results)
            [change] = changes(results[-1:], "reviewQueueChanged")
            if change["element"]["facility"]["id"] == facility:
                mine.append(change["element"]["id"])
        assert mine == ours and not regulator.done
        await regulator.connection.close()

    asyncio.run(journey())
