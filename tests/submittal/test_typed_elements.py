"""The seven typed elements through GraphQL, each exactly as the HMBP: typed save with findings,
submit-all, copy-from-last, review, not-applicable, and the forbidden cases."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.submittal.conftest import World
from tests.submittal.flows import (
    DISCARD,
    FACILITY_INFORMATION,
    NOT_APPLICABLE,
    PLANS,
    REVIEW,
    START,
    SUBMIT,
    code,
    ok,
    outbox,
    save,
    start,
)
from tests.submittal.samples import SAMPLES, TYPED_FIELD, tank

ELEMENTS = sorted(SAMPLES)
INPUT_TYPE = {
    "UST": "UndergroundStorageTanksInput", "TIERED_PERMITTING": "TieredPermittingInput",
    "RECYCLABLE_MATERIALS_REPORT": "RecyclableMaterialsReportInput",
    "REMOTE_WASTE_CONSOLIDATION": "RemoteWasteConsolidationInput",
    "HAZARDOUS_WASTE_TANK_CLOSURE": "HazardousWasteTankClosureInput",
    "APSA": "AbovegroundPetroleumStorageInput", "CALARP": "CalArpInput",
}
# One field of each element's typed output, to read back what was saved.
PROBE = {
    "UST": "tanks { id tankIdNumber capacityGallons tankUse monitoringPlan { udcMonitoring } }",
    "TIERED_PERMITTING": "units { unitId unitType cesqt { metalsPhAdjustment } }",
    "RECYCLABLE_MATERIALS_REPORT": "materials { commonName quantityUnit }",
    "REMOTE_WASTE_CONSOLIDATION": "sites { address monthlyVolume volumeUnit }",
    "HAZARDOUS_WASTE_TANK_CLOSURE": "closures { tankId certificate { option } }",
    "APSA": "conditionallyExempt totalCapacityGallons",
    "CALARP": "documents { calArpDocument { option } }",
}


def typed_save(element: str) -> str:
    field = TYPED_FIELD[element]
    return f"""mutation($id: ID!, $d: {INPUT_TYPE[element]}!) {{
      saveDraft(input: {{id: $id, {field}: $d}}) {{
        element {{ id status {field} {{ {PROBE[element]} }} validation {{ field code }} }}
        userErrors {{ field message code }} findings {{ field message code severity }} }} }}"""


def read(element: str) -> str:
    field = TYPED_FIELD[element]
    return f"""query($id: ID!) {{ submittalElement(id: $id) {{ id element status
      changeFromPrevious basedOnElementId {field} {{ {PROBE[element]} }}
      previousSubmittal {{ id }} differences {{ path label kind before after significant }}
      review {{ action comments }} }} }}"""


async def saved_typed(world: World, element: str, data: dict[str, Any] | None = None) -> str:
    draft = await start(world.h, world.t("editor"), world.facility, element)
    body = await world.h.gql(typed_save(element), world.t("editor"), id=draft,
                             d=data if data is not None else SAMPLES[element])
    result = ok(body, "saveDraft")
    assert result["userErrors"] == [] and result["findings"] == [], result
    return draft


@pytest.mark.parametrize("element", ELEMENTS)
async def test_typed_data_is_saved_submitted_copied_and_reviewed(world: World, element: str):
    h, field = world.h, TYPED_FIELD[element]
    draft = await saved_typed(world, element)
    # Submit all: the typed element goes with the facility's other drafts, together.
    plans = await start(h, world.t("editor"), world.facility, "EMERGENCY_RESPONSE_TRAINING_PLANS")
    await save(h, world.t("editor"), plans, PLANS)
    submitted = ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    assert submitted["userErrors"] == []
    assert {e["element"]: e["status"] for e in submitted["elements"]} == {
        element: "SUBMITTED", "EMERGENCY_RESPONSE_TRAINING_PLANS": "SUBMITTED"}
    first = ok(await h.gql(read(element), world.t("inspector"), id=draft), "submittalElement")
    assert first[field] is not None and first["previousSubmittal"] is None
    events = [e for e in await outbox(h) if e["type"] == "submittal.element.submitted"]
    assert {e["data"]["element"] for e in events} == {element, "EMERGENCY_RESPONSE_TRAINING_PLANS"}

    # Copy from the last submittal: the same data, records keep their ids; unchanged is
    # NO_CHANGES.
    copy_id = await start(h, world.t("editor"), world.facility, element, "LAST_SUBMITTAL")
    copied = ok(await h.gql(read(element), world.t("editor"), id=copy_id), "submittalElement")
    assert copied[field] == first[field]
    assert copied["basedOnElementId"] == draft
    assert copied["previousSubmittal"] == {"id": draft} and copied["differences"] == []
    again = ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    assert [(e["element"], e["changeFromPrevious"]) for e in again["elements"]] == [
        (element, "NO_CHANGES")]

    # The facility's regulator reviews it; comments reach the business.
    reviewed = ok(await h.gql(REVIEW, world.t("inspector"), id=copy_id, a="NOT_ACCEPT",
                              c="Attach the signed certificate."), "reviewSubmittalElement")
    assert reviewed["element"]["status"] == "NOT_ACCEPTED"
    business_view = ok(await h.gql(read(element), world.t("viewer"), id=copy_id),
                       "submittalElement")
    assert business_view["review"] == {"action": "NOT_ACCEPT",
                                       "comments": "Attach the signed certificate."}


@pytest.mark.parametrize("element", ELEMENTS)
async def test_findings_come_back_apart_from_refusals(world: World, element: str):
    h = world.h
    started = ok(await h.gql(START, world.t("editor"), f=world.facility, e=element,
                             b="BLANK"), "startSubmittal")
    assert started["userErrors"] == []  # started: nothing was refused
    draft = started["element"]["id"]
    body = await h.gql(typed_save(element), world.t("editor"), id=draft, d={})
    result = ok(body, "saveDraft")
    assert result["userErrors"] == [] and result["element"]["status"] == "DRAFT"
    errors = [f for f in result["findings"] if f["severity"] == "ERROR"]
    assert errors, "an empty element is incomplete"
    assert {(tuple(f["field"]), f["code"]) for f in result["findings"]} == {
        (tuple(v["field"]), v["code"]) for v in result["element"]["validation"]}
    # Submitting it is refused with the element's paths, and nothing is submitted.
    refused = ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    assert refused["elements"] == []
    assert refused["userErrors"][0]["field"][0] == element
    assert await outbox(h) == []


async def test_starting_a_draft_returns_its_findings_and_no_user_errors(world: World):
    body = await world.h.gql("""mutation($f: ID!) { startSubmittal(input: {facilityId: $f,
        element: FACILITY_INFORMATION, basedOn: BLANK}) { element { id status }
        userErrors { code } findings { field code severity } } }""", world.t("editor"),
                             f=world.facility)
    started = ok(body, "startSubmittal")
    assert started["element"]["status"] == "DRAFT"
    assert started["userErrors"] == []
    # The prefilled draft is incomplete: what is missing comes back as findings.
    assert ("REQUIRED", "ERROR") in {(f["code"], f["severity"]) for f in started["findings"]}


async def test_data_that_does_not_fit_is_refused_and_nothing_is_saved(world: World):
    h = world.h
    draft = await saved_typed(world, "UST")
    wrong = copy.deepcopy(SAMPLES["UST"])
    wrong["tanks"][0]["tankUse"] = "ROCKET_FUEL"
    refused = await save(h, world.t("editor"), draft, wrong)
    assert refused["element"] is None and refused["findings"] == []
    assert refused["userErrors"][0]["field"][:3] == ["tanks", "0", "tankUse"]
    twice = copy.deepcopy(SAMPLES["UST"])
    twice["tanks"] = [{**tank("T-1"), "id": "same"}, {**tank("T-2"), "id": "same"}]
    duplicate = await save(h, world.t("editor"), draft, twice)
    assert duplicate["userErrors"][0]["code"] == "DUPLICATE_RECORD_ID"
    kept = ok(await h.gql(read("UST"), world.t("editor"), id=draft), "submittalElement")
    assert [t["tankIdNumber"] for t in kept["ust"]["tanks"]] == ["T-1", "T-2"]
    both = await h.gql("""mutation($id: ID!) { saveDraft(input: {id: $id, apsa: {},
        calArp: {}}) { element { id } userErrors { code message } } }""",
                       world.t("editor"), id=draft)
    assert "Give exactly one of" in ok(both, "saveDraft")["userErrors"][0]["message"]


async def test_a_ust_change_is_classified_and_listed_field_by_field(world: World):
    h = world.h
    draft = await saved_typed(world, "UST")
    ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    copy_id = await start(h, world.t("editor"), world.facility, "UST", "LAST_SUBMITTAL")
    data = ok(await h.gql("""query($id: ID!) { submittalElement(id: $id) { data } }""",
                          world.t("editor"), id=copy_id), "submittalElement")["data"]
    data["tanks"][1]["capacityGallons"] = 15_000
    data["tanks"].append(tank("T-3", 6_000, "DIESEL"))
    data["facility"]["tankOperator"]["phone"] = "530-555-0199"
    await save(h, world.t("editor"), copy_id, data)
    result = ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    assert result["elements"][0]["changeFromPrevious"] == "SIGNIFICANT"
    seen = ok(await h.gql(read("UST"), world.t("inspector"), id=copy_id), "submittalElement")
    assert seen["previousSubmittal"] == {"id": draft}
    changes = {(d["label"], d["kind"], d["before"], d["after"], d["significant"])
               for d in seen["differences"]}
    assert changes == {
        ("UST facility › Tank operator › Phone", "CHANGED", "530-555-0100", "530-555-0199",
         False),
        ("Tank T-2 › Capacity (gallons)", "CHANGED", "12,000", "15,000", True),
        ("Tank T-3", "ADDED", None, next(d["after"] for d in seen["differences"]
                                         if d["kind"] == "ADDED"), True),
    }
    capacity = next(d for d in seen["differences"] if d["label"].endswith("(gallons)"))
    assert capacity["path"] == ["tanks", "1", "capacityGallons"]


@pytest.mark.parametrize("element", ELEMENTS)
async def test_not_applicable_is_for_the_business_or_the_regulator_unless_required(
        world: World, element: str):
    h = world.h
    assert code(await h.gql(NOT_APPLICABLE, world.t("viewer"), f=world.facility,
                            e=element)) == "FORBIDDEN"
    assert code(await h.gql(NOT_APPLICABLE, world.t("outsider"), f=world.facility,
                            e=element)) == "NOT_FOUND"
    assert code(await h.gql(NOT_APPLICABLE, world.t("other-inspector"), f=world.facility,
                            e=element)) == "NOT_FOUND"
    assert code(await h.gql(NOT_APPLICABLE, None, f=world.facility, e=element)) == (
        "UNAUTHENTICATED")
    marked = ok(await h.gql(NOT_APPLICABLE, world.t("editor"), f=world.facility, e=element),
                "markNotApplicable")
    assert marked["element"]["status"] == "NOT_APPLICABLE"


ANSWERS = {"UST": "ownOrOperateUst", "TIERED_PERMITTING": "onsiteHazardousWasteTreatment",
           "RECYCLABLE_MATERIALS_REPORT": "recyclesMaterials",
           "REMOTE_WASTE_CONSOLIDATION": "remoteWasteConsolidation",
           "HAZARDOUS_WASTE_TANK_CLOSURE": "hazardousWasteTankClosure",
           "APSA": "ownOrOperateApst", "CALARP": "calArpRegulatedSubstances"}


@pytest.mark.parametrize("element", ELEMENTS)
async def test_an_element_the_answers_require_cannot_be_marked_not_applicable(
        world: World, element: str):
    h = world.h
    info = copy.deepcopy(FACILITY_INFORMATION)
    info["businessActivities"][ANSWERS[element]] = True
    info["businessActivities"]["epaId"] = "CAL000123456"
    fi = await start(h, world.t("editor"), world.facility, "FACILITY_INFORMATION")
    await save(h, world.t("editor"), fi, info)
    ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    refused = ok(await h.gql(NOT_APPLICABLE, world.t("inspector"), f=world.facility,
                             e=element), "markNotApplicable")
    assert refused["userErrors"][0]["code"] == "ELEMENT_REQUIRED"


@pytest.mark.parametrize("element", ELEMENTS)
async def test_nobody_outside_the_business_or_its_agency_touches_the_element(
        world: World, element: str):
    h = world.h
    draft = await saved_typed(world, element)
    outsider, other_inspector = world.t("outsider"), world.t("other-inspector")
    assert code(await h.gql(START, outsider, f=world.facility, e=element, b="BLANK")) == (
        "NOT_FOUND")
    assert code(await h.gql(typed_save(element), outsider, id=draft, d=SAMPLES[element])) == (
        "NOT_FOUND")
    assert code(await h.gql(typed_save(element), None, id=draft, d=SAMPLES[element])) == (
        "UNAUTHENTICATED")
    assert code(await h.gql(typed_save(element), world.t("viewer"), id=draft,
                            d=SAMPLES[element])) == "FORBIDDEN"
    assert code(await h.gql(DISCARD, outsider, id=draft)) == "NOT_FOUND"
    for reader in (outsider, world.t("inspector"), None):
        assert ok(await h.gql(read(element), reader, id=draft), "submittalElement") is None
    ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    for reader in (outsider, other_inspector, None):
        assert ok(await h.gql(read(element), reader, id=draft), "submittalElement") is None
    assert code(await h.gql(REVIEW, other_inspector, id=draft, a="ACCEPT", c=None)) == (
        "NOT_FOUND")
    assert code(await h.gql(REVIEW, world.t("approver"), id=draft, a="ACCEPT", c=None)) == (
        "FORBIDDEN")
    assert code(await h.gql(REVIEW, None, id=draft, a="ACCEPT", c=None)) == "UNAUTHENTICATED"
    state = ok(await h.gql(read(element), h.token("state-reader", "state"), id=draft),
               "submittalElement")
    assert state[TYPED_FIELD[element]] is not None  # statewide readers see submissions


async def test_the_form_description_is_public_and_names_every_field(world: World):
    body = await world.h.gql("""{ elementForm(element: UST) }""")
    form = ok(body, "elementForm")
    assert [f["name"] for f in form["fields"]] == [
        "facility", "tanks", "installationCertificates", "documents"]
    for element in ELEMENTS:
        named = ok(await world.h.gql("""query($e: ElementType!) { elementForm(element: $e) }""",
                                     e=element), "elementForm")
        assert named["fields"], element


async def test_a_capacity_beyond_graphql_int_travels_whole(world: World):
    h = world.h
    big = {**SAMPLES["APSA"], "totalCapacityGallons": 999_999_999_999}
    draft = await saved_typed(world, "APSA", big)
    read_back = ok(await h.gql(read("APSA"), world.t("editor"), id=draft), "submittalElement")
    assert read_back["apsa"]["totalCapacityGallons"] == 999_999_999_999
    half = await h.gql(typed_save("APSA"), world.t("editor"), id=draft,
                       d={**big, "totalCapacityGallons": 1.5})
    refused = ok(half, "saveDraft")
    assert refused["element"] is None
    assert refused["userErrors"][0]["field"] == ["totalCapacityGallons"]
