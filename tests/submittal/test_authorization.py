from __future__ import annotations

import pytest

from tests.submittal.conftest import World
from tests.submittal.flows import (
    DISCARD,
    ELEMENT,
    INVENTORY,
    NOT_APPLICABLE,
    REVIEW,
    SAVE,
    START,
    SUBMIT,
    code,
    draft_hmbp,
    ok,
    outbox,
    start,
)

DRAFTS = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Facility { drafts { id } submittalElements { id status } } } }"""


async def submitted_inventory(world: World) -> str:
    ids = await draft_hmbp(world.h, world.t("editor"), world.facility)
    ok(await world.h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    return ids["HAZARDOUS_MATERIALS_INVENTORY"]


async def test_a_viewer_cannot_start_or_save_a_draft(world: World):
    h = world.h
    started = await h.gql(START, world.t("viewer"), f=world.facility, e="UST", b="BLANK")
    assert code(started) == "FORBIDDEN"
    draft = await start(h, world.t("editor"), world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    saved = await h.gql(SAVE, world.t("viewer"), id=draft, data=INVENTORY)
    assert code(saved) == "FORBIDDEN"
    assert code(await h.gql(DISCARD, world.t("viewer"), id=draft)) == "FORBIDDEN"
    element = ok(await h.gql(ELEMENT, world.t("viewer"), id=draft), "submittalElement")
    assert element["data"] == {}  # the viewer sees the draft, unchanged


async def test_an_editor_cannot_submit_and_nothing_is_submitted(world: World):
    await draft_hmbp(world.h, world.t("editor"), world.facility)
    assert code(await world.h.gql(SUBMIT, world.t("editor"), f=world.facility)) == "FORBIDDEN"
    assert await outbox(world.h) == []


async def test_another_business_can_neither_see_nor_change_the_facility(world: World):
    h, outsider = world.h, world.t("outsider")
    draft = await start(h, world.t("editor"), world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    assert code(await h.gql(START, outsider, f=world.facility, e="UST", b="BLANK")) == (
        "NOT_FOUND")
    assert code(await h.gql(SAVE, outsider, id=draft, data=INVENTORY)) == "NOT_FOUND"
    assert code(await h.gql(SUBMIT, outsider, f=world.facility)) == "NOT_FOUND"
    assert code(await h.gql(DISCARD, outsider, id=draft)) == "NOT_FOUND"
    assert ok(await h.gql(ELEMENT, outsider, id=draft), "submittalElement") is None
    entities = ok(await h.gql(DRAFTS, outsider, reps=[
        {"__typename": "Facility", "id": world.facility}]), "_entities")
    assert entities == [{"drafts": [], "submittalElements": []}]


async def test_regulators_never_see_drafts(world: World):
    h = world.h
    draft = await start(h, world.t("editor"), world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    for user in ("inspector", "approver-reg"):
        assert ok(await h.gql(ELEMENT, world.t(user), id=draft), "submittalElement") is None
        entities = ok(await h.gql(DRAFTS, world.t(user), reps=[
            {"__typename": "Facility", "id": world.facility}]), "_entities")
        assert entities == [{"drafts": [], "submittalElements": []}]
    state = h.token("state-reader", "state")
    assert ok(await h.gql(ELEMENT, state, id=draft), "submittalElement") is None


@pytest.mark.parametrize(("user", "expected"), [
    ("other-inspector", "NOT_FOUND"),  # another county's regulator does not see it at all
    ("viewer-reg", "FORBIDDEN"),
    ("approver", "FORBIDDEN"),  # the business does not review itself
])
async def test_only_an_inspector_or_approver_of_the_facility_agency_reviews(
    world: World, user: str, expected: str
):
    element = await submitted_inventory(world)
    body = await world.h.gql(REVIEW, world.t(user), id=element, a="ACCEPT", c=None)
    assert code(body) == expected
    after = ok(await world.h.gql(ELEMENT, world.t("editor"), id=element), "submittalElement")
    assert after["status"] == "SUBMITTED"
    assert [e["type"] for e in await outbox(world.h)].count("submittal.element.reviewed") == 0


async def test_an_approver_of_the_agency_may_review_and_comments_are_capped(world: World):
    element = await submitted_inventory(world)
    too_long = await world.h.gql(REVIEW, world.t("approver-reg"), id=element, a="ACCEPT",
                                 c="x" * 1501)
    assert ok(too_long, "reviewSubmittalElement")["userErrors"][0]["code"] == "TOO_LONG"
    accepted = await world.h.gql(REVIEW, world.t("approver-reg"), id=element, a="ACCEPT",
                                 c="x" * 1500)
    assert ok(accepted, "reviewSubmittalElement")["element"]["status"] == "ACCEPTED"


async def test_the_regulator_may_mark_an_element_not_applicable_but_its_viewer_may_not(
    world: World,
):
    h = world.h
    viewer = await h.gql(NOT_APPLICABLE, world.t("viewer-reg"), f=world.facility, e="CALARP")
    assert code(viewer) == "FORBIDDEN"
    marked = await h.gql(NOT_APPLICABLE, world.t("inspector"), f=world.facility, e="CALARP")
    assert ok(marked, "markNotApplicable")["element"]["status"] == "NOT_APPLICABLE"
    event = (await outbox(h))[-1]
    assert event["data"]["marked_by_regulator"] is True


async def test_an_anonymous_caller_is_unauthenticated_everywhere(world: World):
    h = world.h
    draft = await start(h, world.t("editor"), world.facility, "UST")
    assert code(await h.gql(START, None, f=world.facility, e="APSA", b="BLANK")) == (
        "UNAUTHENTICATED")
    assert code(await h.gql(SAVE, None, id=draft, data={})) == "UNAUTHENTICATED"
    assert code(await h.gql(SUBMIT, None, f=world.facility)) == "UNAUTHENTICATED"
    assert code(await h.gql(REVIEW, None, id=draft, a="ACCEPT", c=None)) == "UNAUTHENTICATED"
    assert code(await h.gql("{ reviewQueue { edges { cursor } } }")) == "UNAUTHENTICATED"
    assert ok(await h.gql(ELEMENT, None, id=draft), "submittalElement") is None


async def test_an_invalid_token_is_rejected_with_401(world: World):
    response = await world.h.client.post("/graphql", json={"query": "{ __typename }"},
                                         headers={"authorization": "Bearer not-a-jwt"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
