from __future__ import annotations

from tests.submittal.conftest import World
from tests.submittal.flows import ELEMENT, INVENTORY, code, ok, save, start

IMPORT = """mutation($id: ID!, $csv: String!, $mode: ImportMode!) {
  importHazardousMaterials(input: {id: $id, csv: $csv, mode: $mode}) {
    importedCount element { hazardousMaterials { totalCount } }
    userErrors { field message code severity } } }"""
HEADER = "commonName,casNumber,ehs,physicalState,maximumDailyAmount,averageDailyAmount,units," \
         "daysOnSite,containerTypes,component1Name,component1Percent\n"


async def test_the_template_downloads_and_imports_cleanly(world: World):
    response = await world.h.client.get("/documents/templates/hmi.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    template = response.text
    assert template.splitlines()[0].startswith("commonName,chemicalName,casNumber")
    body = await world.h.gql("{ hazardousMaterialsCsvTemplate }")
    assert body["data"]["hazardousMaterialsCsvTemplate"] == template
    h, editor = world.h, world.t("editor")
    draft = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    result = ok(await h.gql(IMPORT, editor, id=draft, csv=template, mode="REPLACE"),
                "importHazardousMaterials")
    assert result["importedCount"] == 1 and result["userErrors"] == []


async def test_a_failing_row_is_reported_by_row_and_column_and_nothing_is_written(
    world: World,
):
    h, editor = world.h, world.t("editor")
    draft = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    await save(h, editor, draft, INVENTORY)
    csv = HEADER + (
        "Diesel,68476-34-6,N,LIQUID,1000,500,GALLONS,365,ABOVE_GROUND_TANK,,\n"
        "Acid,7664-93-8,N,LIQUID,10,20,GALLONS,0,CAN,,\n"
        "Oil,,maybe,PLASMA,lots,,LITERS,30,,water,5\n"
    )
    result = ok(await h.gql(IMPORT, editor, id=draft, csv=csv, mode="REPLACE"),
                "importHazardousMaterials")
    assert result["element"] is None and result["importedCount"] == 0
    found = {tuple(e["field"]) for e in result["userErrors"]}
    assert {("rows", "3", "casNumber"), ("rows", "3", "averageDailyAmount"),
            ("rows", "3", "daysOnSite"), ("rows", "4", "ehs"),
            ("rows", "4", "maximumDailyAmount")} <= found
    element = ok(await h.gql(ELEMENT, editor, id=draft), "submittalElement")
    assert element["hazardousMaterials"]["totalCount"] == 2  # unchanged


async def test_replace_and_append_modes(world: World):
    h, editor = world.h, world.t("editor")
    draft = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    await save(h, editor, draft, INVENTORY)
    csv = HEADER + "Propane,74-98-6,N,GAS,500,200,CUBIC_FEET,365,CYLINDER,Propane,95\n"
    appended = ok(await h.gql(IMPORT, editor, id=draft, csv=csv, mode="APPEND"),
                  "importHazardousMaterials")
    assert appended["element"]["hazardousMaterials"]["totalCount"] == 3
    replaced = ok(await h.gql(IMPORT, editor, id=draft, csv=csv * 1 + csv.split("\n", 1)[1],
                              mode="REPLACE"), "importHazardousMaterials")
    assert replaced["importedCount"] == 2
    assert replaced["element"]["hazardousMaterials"]["totalCount"] == 2


async def test_a_wrong_header_is_refused_and_a_viewer_cannot_import(world: World):
    h, editor = world.h, world.t("editor")
    draft = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    bad = ok(await h.gql(IMPORT, editor, id=draft, csv="name,qty\nx,1\n", mode="APPEND"),
             "importHazardousMaterials")
    assert bad["userErrors"][0]["code"] == "BAD_HEADER"
    csv = HEADER + "Propane,74-98-6,N,GAS,500,200,CUBIC_FEET,365,CYLINDER,,\n"
    assert code(await h.gql(IMPORT, world.t("viewer"), id=draft, csv=csv, mode="APPEND")) == (
        "FORBIDDEN")


async def test_the_caller_is_checked_before_a_byte_of_the_csv_is_read(world: World):
    h, editor = world.h, world.t("editor")
    draft = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    malformed = 'commonName\n"unterminated\x00' + "x" * 200_000
    anonymous = await h.gql(IMPORT, None, id=draft, csv=malformed, mode="APPEND")
    assert code(anonymous) == "UNAUTHENTICATED"
    # Another business's lead user learns nothing, not even that the draft exists.
    outsider = await h.gql(IMPORT, world.t("outsider"), id=draft, csv=malformed, mode="APPEND")
    assert code(outsider) == "NOT_FOUND"


async def test_an_unreadable_or_oversized_csv_is_a_coded_user_error(world: World):
    h, editor = world.h, world.t("editor")
    draft = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    for csv, expected in [
        (HEADER + '"' + "x" * 200_000 + '"\n', "BAD_CSV"),
        (HEADER + "x" * (4 * 1024 * 1024), "TOO_LARGE"),
    ]:
        result = ok(await h.gql(IMPORT, editor, id=draft, csv=csv, mode="APPEND"),
                    "importHazardousMaterials")
        assert result["importedCount"] == 0
        assert [e["code"] for e in result["userErrors"]] == [expected]


async def test_findings_are_bounded_however_many_rows_fail(world: World):
    h, editor = world.h, world.t("editor")
    draft = await start(h, editor, world.facility, "HAZARDOUS_MATERIALS_INVENTORY")
    csv = HEADER + "Oil,,maybe,PLASMA,lots,,LITERS,30,,water,5\n" * 1000
    result = ok(await h.gql(IMPORT, editor, id=draft, csv=csv, mode="APPEND"),
                "importHazardousMaterials")
    errors = result["userErrors"]
    assert len(errors) == 201 and "more findings are not shown" in errors[-1]["message"]
