"""Journeys 6 and 7: view a facility's submittal, update it, and the regulator's review."""

from __future__ import annotations

from tests.e2e import client
from tests.e2e.conftest import DEMO_BUSINESS, DEMO_REGULATOR, Actors
from tests.e2e.journeys import await_status, demo_facility, save, start, submit
from tests.e2e.system import RunningSystem, eventually

ELEMENTS = """query Elements($id: ID!) { facility(id: $id) {
  name submittalElements { id element status }
  currentHmbp {
    facilityInformation { id }
    hazardousMaterialsInventory { id }
    emergencyResponseTrainingPlans { id }
  }
} }"""
ELEMENT = """query Element($id: ID!) { submittalElement(id: $id) {
  id element status submittedAt facility { id name }
  facilityInformation { businessActivities { businessName hazardousMaterialsOnSite }
                        ownerOperator { ownerName } }
  hazardousMaterials(first: 5) { totalCount pageInfo { hasNextPage }
                                 edges { node { commonName casNumber units } } }
  siteMap { option }
  emergencyPlans { emergencyResponsePlan { option } employeeTrainingPlan { option } }
} }"""
REVIEW = """mutation Review($input: ReviewSubmittalElementInput!) {
  reviewSubmittalElement(input: $input) {
    element { id status review { action comments } } userErrors { field code message }
  }
}"""
QUEUE = """query Queue($facilityId: ID!) { reviewQueue(filter: {facilityId: $facilityId}) {
  edges { node { id element status } } } }"""


def test_each_element_of_the_current_hmbp_has_a_page_for_the_business_and_its_regulator(
    system: RunningSystem, actors: Actors, outsider: str, other_county_regulator: str
) -> None:
    quincy = demo_facility(actors, "Quincy")
    for reader in (DEMO_BUSINESS[0], DEMO_REGULATOR[0]):
        facility = client.data(actors.gql(reader, ELEMENTS, {"id": quincy["id"]}))["facility"]
        hmbp = facility["currentHmbp"]
        pages = {}
        for key in ("facilityInformation", "hazardousMaterialsInventory",
                    "emergencyResponseTrainingPlans"):
            body = actors.gql(reader, ELEMENT, {"id": hmbp[key]["id"]})
            pages[key] = client.data(body)["submittalElement"]
            assert pages[key]["facility"]["name"] == "Feather River Fuel - Quincy"
            assert pages[key]["status"] in ("SUBMITTED", "UNDER_REVIEW", "ACCEPTED")
        info = pages["facilityInformation"]["facilityInformation"]
        assert info["businessActivities"]["hazardousMaterialsOnSite"] is True
        assert info["ownerOperator"]["ownerName"] == "Feather River Fuel & Supply"
        inventory = pages["hazardousMaterialsInventory"]
        assert inventory["hazardousMaterials"]["totalCount"] >= 24
        assert inventory["hazardousMaterials"]["pageInfo"]["hasNextPage"] is True
        assert inventory["hazardousMaterials"]["edges"][0]["node"]["commonName"] == "Diesel fuel"
        plans = pages["emergencyResponseTrainingPlans"]["emergencyPlans"]
        assert plans["emergencyResponsePlan"]["option"] == "STORED_AT_FACILITY"
        listed = {e["id"] for e in facility["submittalElements"]}
        assert {hmbp[k]["id"] for k in hmbp} <= listed

    element_id = hmbp["hazardousMaterialsInventory"]["id"]
    for stranger in (outsider, other_county_regulator):
        assert client.data(actors.gql(stranger, ELEMENT, {"id": element_id})) == {
            "submittalElement": None}
        assert client.data(actors.gql(stranger, ELEMENTS, {"id": quincy["id"]})) == {
            "facility": None}
    anonymous = system.graphql(ELEMENT, {"id": element_id})
    assert client.errors(anonymous) == ["UNAUTHENTICATED"] or anonymous["data"] == {
        "submittalElement": None}


def test_a_copy_of_the_last_submittal_is_changed_submitted_together_and_reviewed(
    system: RunningSystem, actors: Actors, outsider: str, other_county_regulator: str
) -> None:
    quincy = demo_facility(actors, "Quincy")
    info = start(actors, DEMO_BUSINESS[0], quincy["id"], "FACILITY_INFORMATION")
    inventory = start(actors, DEMO_BUSINESS[0], quincy["id"], "HAZARDOUS_MATERIALS_INVENTORY")
    assert info["basedOn"] == inventory["basedOn"] == "LAST_SUBMITTAL"
    assert info["status"] == inventory["status"] == "DRAFT"

    info_data = info["data"]
    info_data["ownerOperator"]["numberOfEmployees"] = 17
    saved = save(actors, DEMO_BUSINESS[0], info["id"], info_data)
    assert saved["data"]["ownerOperator"]["numberOfEmployees"] == 17
    inventory_data = inventory["data"]
    inventory_data["materials"][0]["maximumDailyAmount"] = 12500
    save(actors, DEMO_BUSINESS[0], inventory["id"], inventory_data)
    drafts = "query($id: ID!) { facility(id: $id) { drafts { id } } }"
    # Drafts are the business's own until submitted.
    for reader in (DEMO_REGULATOR[0], outsider):
        seen = client.data(actors.gql(reader, drafts, {"id": quincy["id"]}))["facility"]
        assert seen is None or seen["drafts"] == []
    assert client.denied(actors.gql(outsider, """mutation($i: FacilityIdInput!) {
        submitDrafts(input: $i) { userErrors { code } } }""", {"i": {"facilityId": quincy["id"]}}))

    submitted = submit(actors, DEMO_BUSINESS[0], quincy["id"])
    assert {e["id"] for e in submitted} == {info["id"], inventory["id"]}
    assert all(e["status"] == "SUBMITTED" for e in submitted)

    def queued() -> set[str] | None:
        body = client.data(actors.gql(DEMO_REGULATOR[0], QUEUE, {"facilityId": quincy["id"]}))
        ids = {e["node"]["id"] for e in body["reviewQueue"]["edges"]}
        return ids if {info["id"], inventory["id"]} <= ids else None

    eventually(queued, timeout=30)
    review = {"input": {"id": inventory["id"], "action": "UNDER_REVIEW"}}
    assert client.errors(actors.gql(DEMO_BUSINESS[0], REVIEW, review)) == ["FORBIDDEN"]
    for caller in (outsider, other_county_regulator):
        assert client.denied(actors.gql(caller, REVIEW, review)), caller
    assert client.errors(system.graphql(REVIEW, review)) == ["UNAUTHENTICATED"]

    for element_id in (info["id"], inventory["id"]):
        marked = client.payload(actors.gql(DEMO_REGULATOR[0], REVIEW, {"input": {
            "id": element_id, "action": "UNDER_REVIEW"}}), "reviewSubmittalElement")
        assert marked["element"]["status"] == "UNDER_REVIEW"
    accepted = client.payload(actors.gql(DEMO_REGULATOR[0], REVIEW, {"input": {
        "id": info["id"], "action": "ACCEPT"}}), "reviewSubmittalElement")
    assert accepted["element"]["status"] == "ACCEPTED"

    comments = "The diesel maximum exceeds the tank's capacity; check the AST size."
    before = len(client.mails_to(system, "demo.business@example.com"))
    rejected = client.payload(actors.gql(DEMO_REGULATOR[0], REVIEW, {"input": {
        "id": inventory["id"], "action": "NOT_ACCEPT", "comments": comments}}),
        "reviewSubmittalElement")
    assert rejected["element"]["status"] == "NOT_ACCEPTED"
    assert rejected["element"]["review"] == {"action": "NOT_ACCEPT", "comments": comments}
    client.mail_with(system, "demo.business@example.com", comments, after=before)
    flagged = await_status(actors, quincy["id"], "UPDATE_REQUIRED")
    [reason] = flagged["updateRequiredReasons"]
    assert reason["reason"] == "CORRECTION"
    assert reason["element"] == "HAZARDOUS_MATERIALS_INVENTORY"

    corrected = start(actors, DEMO_BUSINESS[0], quincy["id"], "HAZARDOUS_MATERIALS_INVENTORY")
    corrected_data = corrected["data"]
    corrected_data["materials"][0]["maximumDailyAmount"] = 11000
    save(actors, DEMO_BUSINESS[0], corrected["id"], corrected_data)
    submit(actors, DEMO_BUSINESS[0], quincy["id"])
    assert await_status(actors, quincy["id"], "CURRENT")["updateRequiredReasons"] == []
