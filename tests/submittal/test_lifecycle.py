from __future__ import annotations

from tests.submittal.conftest import World
from tests.submittal.flows import (
    CERTIFY,
    DIESEL,
    INVENTORY,
    NOT_APPLICABLE,
    REVIEW,
    SUBMIT,
    code,
    draft_hmbp,
    ok,
    outbox,
    save,
    start,
)

PREFILL = """mutation($f: ID!) {
  startSubmittal(input: {facilityId: $f, element: FACILITY_INFORMATION, basedOn: BLANK}) {
    element { facilityInformation { businessActivities { businessName }
      ownerOperator { ownerName mailingAddress { city } environmentalContact { name } } } } } }"""
FACILITY = """query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Facility {
  id drafts { id element }
  submittalElements { id element status }
  currentHmbp { facilityInformation { id noChangeCertification }
    hazardousMaterialsInventory { id } emergencyResponseTrainingPlans { id } } } } }"""


async def test_a_blank_facility_information_draft_is_prefilled_from_the_facility_record(
    world: World,
):
    body = await world.h.gql(PREFILL, world.t("editor"), f=world.facility)
    info = ok(body, "startSubmittal")["element"]["facilityInformation"]
    assert info["businessActivities"]["businessName"] == "Acme Fuel #1"
    assert info["ownerOperator"]["ownerName"] == "Acme LLC"
    assert info["ownerOperator"]["mailingAddress"]["city"] == "Quincy"
    assert info["ownerOperator"]["environmentalContact"]["name"] == "Erin Env"


async def test_the_whole_lifecycle_from_drafts_to_review_and_no_change_certification(
    world: World,
):
    h, editor, approver = world.h, world.t("editor"), world.t("approver")
    ids = await draft_hmbp(h, editor, world.facility)

    submitted = ok(await h.gql(SUBMIT, approver, f=world.facility), "submitDrafts")
    assert submitted["userErrors"] == []
    assert {e["element"]: e["status"] for e in submitted["elements"]} == {
        "FACILITY_INFORMATION": "SUBMITTED", "HAZARDOUS_MATERIALS_INVENTORY": "SUBMITTED",
        "EMERGENCY_RESPONSE_TRAINING_PLANS": "SUBMITTED"}
    assert all(e["submittedBy"]["id"] == "approver" and e["submittedAt"]
               for e in submitted["elements"])
    changes = {e["element"]: e["changeFromPrevious"] for e in submitted["elements"]}
    assert changes["HAZARDOUS_MATERIALS_INVENTORY"] == "SIGNIFICANT"

    events = await outbox(h)
    kinds = [e["type"] for e in events]
    assert kinds.count("submittal.element.submitted") == 3
    assert kinds[-1] == "submittal.hmbp.certified"
    fi_event = next(e for e in events if e["data"]["element"] == "FACILITY_INFORMATION")
    values = fi_event["data"]["facility_information"]
    assert values["owner_operator"]["owner_name"] == "Acme LLC"
    assert values["contacts"]["primary_emergency"]["phone_24_hour"] == "530-555-0199"
    assert values["mailing_address"] == {"street": "PO Box 1", "city": "Quincy", "state": "CA"}
    assert events[-1]["data"]["kind"] == "SUBMISSION"

    # A correction starts from the last submittal; doubling a quantity is SIGNIFICANT.
    copy = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY",
                       "LAST_SUBMITTAL")
    bigger = {**INVENTORY, "materials": [{**DIESEL, "maximumDailyAmount": 2000},
                                         *INVENTORY["materials"][1:]]}
    await save(h, editor, copy, bigger)
    second = ok(await h.gql(SUBMIT, approver, f=world.facility), "submitDrafts")
    assert [e["changeFromPrevious"] for e in second["elements"]] == ["SIGNIFICANT"]
    assert (await outbox(h))[-1]["type"] == "submittal.element.submitted"  # not all three

    # The regulator reviews: NOT_ACCEPT with comments.
    reviewed = ok(await h.gql(REVIEW, world.t("inspector"), id=copy, a="NOT_ACCEPT",
                              c="Site map lacks the north tank."), "reviewSubmittalElement")
    assert reviewed["element"]["status"] == "NOT_ACCEPTED"
    assert reviewed["element"]["review"]["comments"] == "Site map lacks the north tank."
    assert reviewed["element"]["review"]["reviewer"]["id"] == "inspector"
    event = (await outbox(h))[-1]
    assert event["type"] == "submittal.element.reviewed"
    assert event["data"]["action"] == "NOT_ACCEPT"
    assert event["data"]["comments"] == "Site map lacks the north tank."
    # Who submitted it, so facility mails the review to them as well as to the lead users.
    assert event["data"]["submitted_by"] == "approver"

    certified = ok(await h.gql(CERTIFY, world.t("lead"), f=world.facility,
                               s="I certify nothing changed."), "certifyNoChange")
    assert certified["userErrors"] == []
    assert {e["element"] for e in certified["elements"]} == set(ids)
    assert all(e["noChangeCertification"] and e["changeFromPrevious"] == "NO_CHANGES"
               and e["certificationStatement"] == "I certify nothing changed."
               for e in certified["elements"])
    hmi_copy = next(e for e in certified["elements"]
                    if e["element"] == "HAZARDOUS_MATERIALS_INVENTORY")
    assert hmi_copy["basedOnElementId"] == copy
    last = (await outbox(h))[-1]
    assert last["type"] == "submittal.hmbp.certified"
    assert last["data"]["kind"] == "NO_CHANGE"
    assert last["data"]["statement"] == "I certify nothing changed."

    # UST is not required by the answers, so the business may mark it not applicable.
    marked = ok(await h.gql(NOT_APPLICABLE, editor, f=world.facility, e="UST"),
                "markNotApplicable")
    assert marked["element"]["status"] == "NOT_APPLICABLE"
    assert (await outbox(h))[-1]["type"] == "submittal.element.not_applicable"
    required = await h.gql(NOT_APPLICABLE, editor, f=world.facility,
                           e="HAZARDOUS_MATERIALS_INVENTORY")
    assert ok(required, "markNotApplicable")["userErrors"][0]["code"] == "ELEMENT_REQUIRED"

    facility = ok(await h.gql(FACILITY, editor, reps=[
        {"__typename": "Facility", "id": world.facility}]), "_entities")[0]
    assert facility["drafts"] == []
    assert facility["currentHmbp"]["facilityInformation"]["noChangeCertification"] is True
    assert len(facility["submittalElements"]) == 8


async def test_certify_no_change_needs_all_three_hmbp_elements_submitted_before(world: World):
    body = await world.h.gql(CERTIFY, world.t("approver"), f=world.facility, s="No change.")
    errors = ok(body, "certifyNoChange")["userErrors"]
    assert errors[0]["code"] == "HMBP_NOT_SUBMITTED"
    assert await outbox(world.h) == []


async def test_only_one_open_draft_per_facility_and_element(world: World):
    h = world.h
    await start(h, world.t("editor"), world.facility, "APSA")
    again = await h.gql("""mutation($f: ID!) { startSubmittal(input: {facilityId: $f,
        element: APSA, basedOn: BLANK}) { element { id } } }""", world.t("editor"),
                        f=world.facility)
    assert code(again) == "BAD_USER_INPUT"
    copy = await h.gql("""mutation($f: ID!) { startSubmittal(input: {facilityId: $f,
        element: UST, basedOn: LAST_SUBMITTAL}) { element { id } } }""", world.t("editor"),
                       f=world.facility)
    assert code(copy) == "BAD_USER_INPUT"


async def test_required_elements_follow_the_submitted_business_activities(world: World):
    query = """query($reps: [_Any!]!) { _entities(representations: $reps) {
      ... on Facility { requiredElements { element requirement } } } }"""
    reps = [{"__typename": "Facility", "id": world.facility}]

    async def required() -> dict[str, str]:
        body = await world.h.gql(query, world.t("inspector"), reps=reps)
        return {r["element"]: r["requirement"]
                for r in ok(body, "_entities")[0]["requiredElements"]}

    before = await required()
    assert before["FACILITY_INFORMATION"] == "ALWAYS_APPLICABLE"
    assert before["HAZARDOUS_MATERIALS_INVENTORY"] == "NOT_APPLICABLE"
    await draft_hmbp(world.h, world.t("editor"), world.facility)
    ok(await world.h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    after = await required()
    assert after["HAZARDOUS_MATERIALS_INVENTORY"] == "APPLICABLE"
    assert after["EMERGENCY_RESPONSE_TRAINING_PLANS"] == "APPLICABLE"
    assert after["UST"] == "NOT_APPLICABLE"


async def test_submissions_are_published_on_the_submittal_stream(world: World):
    from tests.submittal.conftest import eventually

    h = world.h
    await draft_hmbp(h, world.t("editor"), world.facility)
    ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")

    async def all_four_published() -> bool:
        return int((await h.js.stream_info("SUBMITTAL")).state.messages) >= 4

    await eventually(all_four_published, what="4 events on SUBMITTAL")
    subscription = await h.js.pull_subscribe("submittal.>", stream="SUBMITTAL")
    messages = await subscription.fetch(4, timeout=5)
    assert [m.subject for m in messages] == ["submittal.element.submitted"] * 3 + [
        "submittal.hmbp.certified"]
    assert all(m.header and m.header.get("Nats-Msg-Id") for m in messages)
