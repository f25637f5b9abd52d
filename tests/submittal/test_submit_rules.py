from __future__ import annotations

from tests.submittal.conftest import World
from tests.submittal.flows import (
    DIESEL,
    DISCARD,
    ELEMENT,
    INVENTORY,
    PLANS,
    SAVE,
    SUBMIT,
    code,
    ok,
    outbox,
    save,
    start,
)

TYPED_SAVE = """mutation($id: ID!, $m: [HazardousMaterialInput!]!) {
  saveDraft(input: {id: $id, hazardousMaterials: {materials: $m,
    siteMap: {option: STORED_AT_FACILITY}}}) {
    element { id hazardousMaterials { totalCount } validation { field code severity } }
    userErrors { field message code severity } findings { field message code severity } } }"""


async def test_submit_is_all_or_nothing_when_one_draft_is_incomplete(world: World):
    h, editor = world.h, world.t("editor")
    plans = await start(h, editor, world.facility, "EMERGENCY_RESPONSE_TRAINING_PLANS")
    await save(h, editor, plans, PLANS)
    inventory = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    broken = {**INVENTORY, "materials": [{**DIESEL, "averageDailyAmount": 5000}]}
    saved = await save(h, editor, inventory, broken)
    assert saved["userErrors"] == []  # saved: findings are not refusals
    assert saved["findings"] == [{
        "field": ["materials", "0", "averageDailyAmount"], "code": "AVERAGE_EXCEEDS_MAXIMUM",
        "severity": "ERROR", "message": saved["findings"][0]["message"]}]

    result = ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    assert result["elements"] == []
    assert result["userErrors"][0]["field"] == [
        "HAZARDOUS_MATERIALS_INVENTORY", "materials", "0", "averageDailyAmount"]
    for draft in (plans, inventory):
        element = ok(await h.gql(ELEMENT, editor, id=draft), "submittalElement")
        assert element["status"] == "DRAFT"
    assert await outbox(h) == []


async def test_a_warning_does_not_block_submission(world: World):
    h, editor = world.h, world.t("editor")
    inventory = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    ehs = {**INVENTORY, "materials": [{**DIESEL, "ehs": True}]}
    saved = await save(h, editor, inventory, ehs)
    assert [(e["code"], e["severity"]) for e in saved["findings"]] == [
        ("EHS_NOT_IN_POUNDS", "WARNING")]
    result = ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    assert result["userErrors"] == []
    assert result["elements"][0]["status"] == "SUBMITTED"


async def test_submitted_elements_are_immutable(world: World):
    h, editor = world.h, world.t("editor")
    inventory = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    await save(h, editor, inventory, INVENTORY)
    ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    assert code(await h.gql(SAVE, editor, id=inventory, data={"materials": []})) == (
        "BAD_USER_INPUT")
    assert code(await h.gql(DISCARD, editor, id=inventory)) == "BAD_USER_INPUT"
    element = ok(await h.gql(ELEMENT, editor, id=inventory), "submittalElement")
    assert element["hazardousMaterials"]["totalCount"] == 2


async def test_submitting_without_drafts_says_so(world: World):
    result = ok(await world.h.gql(SUBMIT, world.t("approver"), f=world.facility),
                "submitDrafts")
    assert result["userErrors"][0]["code"] == "NO_DRAFTS"


async def test_typed_input_saves_and_reports_findings_with_field_paths(world: World):
    h, editor = world.h, world.t("editor")
    inventory = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    materials = [
        {"commonName": "Diesel", "ehs": False, "physicalState": "LIQUID",
         "maximumDailyAmount": 10, "units": "GALLONS", "casNumber": "68476-34-7",
         "daysOnSite": 400},
        {"commonName": "Chlorine", "ehs": True, "physicalState": "GAS",
         "maximumDailyAmount": 10, "units": "CUBIC_FEET",
         "components": [{"name": "a", "percent": 70}, {"name": "b", "percent": 40}]},
    ]
    result = ok(await h.gql(TYPED_SAVE, editor, id=inventory, m=materials), "saveDraft")
    assert result["userErrors"] == []
    found = {(".".join(e["field"]), e["code"], e["severity"]) for e in result["findings"]}
    assert found == {
        ("materials.0.casNumber", "INVALID_CAS", "ERROR"),
        ("materials.0.daysOnSite", "OUT_OF_RANGE", "ERROR"),
        ("materials.1.units", "EHS_NOT_IN_POUNDS", "WARNING"),
        ("materials.1.components", "COMPONENTS_OVER_100", "ERROR"),
    }
    assert result["element"]["hazardousMaterials"]["totalCount"] == 2
    assert len(result["element"]["validation"]) == 4


async def test_an_unknown_enum_value_in_json_data_is_refused_and_nothing_is_saved(world: World):
    h, editor = world.h, world.t("editor")
    inventory = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    await save(h, editor, inventory, INVENTORY)
    result = await save(h, editor, inventory, {"materials": [{**DIESEL, "units": "LITERS"}]})
    assert result["element"] is None
    assert result["findings"] == []
    assert result["userErrors"][0]["field"][:3] == ["materials", "0", "units"]
    element = ok(await h.gql(ELEMENT, editor, id=inventory), "submittalElement")
    assert element["hazardousMaterials"]["totalCount"] == 2


async def test_discarding_a_draft_removes_it(world: World):
    h, editor = world.h, world.t("editor")
    draft = await start(h, editor, world.facility, "UST")
    assert ok(await h.gql(DISCARD, editor, id=draft), "discardDraft")["id"] == draft
    assert ok(await h.gql(ELEMENT, editor, id=draft), "submittalElement") is None
