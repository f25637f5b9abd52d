"""A facility's element lists read without each element's data (the Facility page shows none
of it); every field computed from the data must still answer exactly what reading the element
on its own answers."""

from __future__ import annotations

from typing import Any

from tests.statements import counting
from tests.submittal.conftest import World
from tests.submittal.flows import DIESEL, INVENTORY, SUBMIT, draft_hmbp, ok, save, start

# Every field of an element that reads its data.
FIELDS = """id element status data
  facilityInformation { businessActivities { businessName } ownerOperator { ownerName } }
  hazardousMaterials(first: 10) { totalCount edges { node { commonName location withheld } } }
  siteMap { option comment } emergencyPlans { emergencyResponsePlan { option } }
  ust { __typename } apsa { __typename }
  validation { field code severity } differences { path kind before after }"""
FACILITY = f"""query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on Facility {{
  submittalElements {{ {FIELDS} }}
  drafts {{ {FIELDS} }}
  currentHmbp {{ facilityInformation {{ {FIELDS} }} hazardousMaterialsInventory {{ {FIELDS} }} }}
  requiredElements {{ element requirement }} }} }} }}"""
ONE = f"""query($id: ID!) {{ submittalElement(id: $id) {{ {FIELDS} }} }}"""
# Only the page's own fields: the data is never read.
PAGE = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Facility {
  submittalElements { id element status } drafts { id validation { severity } } } } }"""


async def _alone(world: World, token: str, element_id: str) -> dict[str, Any]:
    return ok(await world.h.gql(ONE, token, id=element_id), "submittalElement")


async def test_data_fields_of_a_facilitys_elements_answer_as_the_element_read_alone(
    world: World,
) -> None:
    h, editor = world.h, world.t("editor")
    await draft_hmbp(h, editor, world.facility)
    assert ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility),
              "submitDrafts")["userErrors"] == []
    # A draft that differs from the submission it copies, and one with findings.
    changed = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY",
                          "LAST_SUBMITTAL")
    await save(h, editor, changed, {**INVENTORY, "materials": [
        {**DIESEL, "maximumDailyAmount": 2500}, *INVENTORY["materials"][1:]]})
    incomplete = await start(h, editor, world.facility, "EMERGENCY_RESPONSE_TRAINING_PLANS")
    await save(h, editor, incomplete, {})
    reps = [{"__typename": "Facility", "id": world.facility}]

    # The business (trade secrets shown) and a regulator (withheld).
    for token in (editor, world.t("inspector")):
        facility = ok(await h.gql(FACILITY, token, r=reps), "_entities")[0]
        listed = [*facility["submittalElements"], *facility["drafts"],
                  *facility["currentHmbp"].values()]
        assert len(facility["submittalElements"]) >= 3, facility
        for element in listed:
            assert element == await _alone(world, token, element["id"])
        inventories = [e for e in listed if e["element"] == "HAZARDOUS_MATERIALS_INVENTORY"]
        assert all(e["data"]["materials"] and e["hazardousMaterials"]["totalCount"] == 2
                   for e in inventories)
        assert {e["element"]: e["requirement"] for e in facility["requiredElements"]}[
            "HAZARDOUS_MATERIALS_INVENTORY"] == "APPLICABLE"

    drafts = ok(await h.gql(FACILITY, editor, r=reps), "_entities")[0]["drafts"]
    by_id = {d["id"]: d for d in drafts}
    assert by_id[changed]["differences"] and by_id[changed]["data"]["materials"][0][
        "maximumDailyAmount"] == 2500
    assert any(f["severity"] == "ERROR" for f in by_id[incomplete]["validation"])

    # The page's own selection reads the data of its drafts alone (their findings come from
    # it), not of its submitted elements.
    with counting(h.app.state.deps.db) as counted:
        page = ok(await h.gql(PAGE, editor, r=reps), "_entities")[0]
    assert {d["id"] for d in page["drafts"]} == {changed, incomplete}
    assert len(page["submittalElements"]) >= 5, page
    assert len([q for q in counted.queries if "elements.data" in q]) == 1, counted.sql
