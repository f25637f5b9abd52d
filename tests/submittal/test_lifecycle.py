from __future__ import annotations

from tests.submittal.conftest import World

START = """mutation($f: ID!, $e: ElementType!, $b: BasedOn!) {
  startSubmittal(input: {facilityId: $f, element: $e, basedOn: $b}) {
    element { id status element basedOn facilityInformation { businessActivities { businessName }
      ownerOperator { ownerName mailingAddress { city } environmentalContact { name } } } }
    userErrors { field message code severity } } }"""
SAVE = """mutation($id: ID!, $data: JSON) {
  saveDraft(input: {id: $id, data: $data}) {
    element { id status } userErrors { field message code severity } } }"""
SUBMIT = """mutation($f: ID!) { submitDrafts(input: {facilityId: $f}) {
    elements { id element status changeFromPrevious submittedAt submittedBy { id } }
    userErrors { field message code severity } } }"""


async def test_a_blank_facility_information_draft_is_prefilled_from_the_facility_record(
    world: World,
):
    body = await world.h.gql(START, world.t("editor"), f=world.facility,
                             e="FACILITY_INFORMATION", b="BLANK")
    element = body["data"]["startSubmittal"]["element"]
    info = element["facilityInformation"]
    assert element["status"] == "DRAFT"
    assert info["businessActivities"]["businessName"] == "Acme Fuel #1"
    assert info["ownerOperator"]["ownerName"] == "Acme LLC"
    assert info["ownerOperator"]["mailingAddress"]["city"] == "Quincy"
    assert info["ownerOperator"]["environmentalContact"]["name"] == "Erin Env"
