"""Journeys 2 and 3: the annual update, and updating early when something changed."""

from __future__ import annotations

from datetime import date, timedelta

from tests.e2e import client
from tests.e2e.conftest import DEMO_BUSINESS, DEMO_REGULATOR, Actors
from tests.e2e.journeys import (
    ISSUE_PERMIT,
    START,
    await_status,
    compliance,
    demo_facility,
    in_a_year,
    save,
    start,
    submit,
)
from tests.e2e.system import RunningSystem

SET_DUE = """mutation SetDue($input: SetAnnualDueDateInput!) {
  setAnnualDueDate(input: $input) {
    facility { annualDueDate complianceStatus } userErrors { field code message }
  }
}"""
CERTIFY = """mutation Certify($input: CertifyNoChangeInput!) {
  certifyNoChange(input: $input) {
    elements { element status noChangeCertification changeFromPrevious }
    userErrors { field code message }
  }
}"""
UPDATE = """mutation Update($input: UpdateFacilityInput!) {
  updateFacility(input: $input) {
    facility { complianceStatus updateRequiredReasons { reason dueBy } }
    changes userErrors { field code message }
  }
}"""
STATEMENT = "I certify that the HMBP on file is complete, accurate and unchanged."


def test_no_new_permit_while_overdue_and_one_no_change_certification_makes_it_current(
    system: RunningSystem, actors: Actors, outsider: str, other_county_regulator: str
) -> None:
    portola = demo_facility(actors, "Portola")
    yesterday = date.today() - timedelta(days=1)
    set_due = {"input": {"facilityId": portola["id"], "annualDueDate": yesterday.isoformat()}}
    assert client.errors(actors.gql(DEMO_BUSINESS[0], SET_DUE, set_due)) == ["FORBIDDEN"]
    for caller in (outsider, other_county_regulator):
        assert client.denied(actors.gql(caller, SET_DUE, set_due)), caller
    client.payload(actors.gql(DEMO_REGULATOR[0], SET_DUE, set_due), "setAnnualDueDate")
    overdue = await_status(actors, portola["id"], "OVERDUE")
    assert overdue["annualDueDate"] == yesterday.isoformat()

    permit = {"input": {"facilityId": portola["id"], "expiresAt": in_a_year()}}
    refused = actors.gql(DEMO_REGULATOR[0], ISSUE_PERMIT, permit)
    assert client.errors(refused) == ["COMPLIANCE_NOT_CURRENT"], refused
    assert "OVERDUE" in refused["errors"][0]["message"]
    assert client.errors(actors.gql(DEMO_BUSINESS[0], ISSUE_PERMIT, permit)) == ["FORBIDDEN"]
    for caller in (outsider, other_county_regulator):
        assert client.denied(actors.gql(caller, ISSUE_PERMIT, permit)), caller
    assert client.errors(system.graphql(ISSUE_PERMIT, permit)) == ["UNAUTHENTICATED"]

    certify = {"input": {"facilityId": portola["id"], "statement": STATEMENT}}
    for caller in (outsider, other_county_regulator):
        assert client.denied(actors.gql(caller, CERTIFY, certify)), caller
    assert client.errors(system.graphql(CERTIFY, certify)) == ["UNAUTHENTICATED"]
    assert compliance(actors, DEMO_BUSINESS[0], portola["id"])["complianceStatus"] == "OVERDUE"

    certified = client.payload(actors.gql(DEMO_BUSINESS[0], CERTIFY, certify), "certifyNoChange")
    assert {e["element"] for e in certified["elements"]} == {
        "FACILITY_INFORMATION", "HAZARDOUS_MATERIALS_INVENTORY",
        "EMERGENCY_RESPONSE_TRAINING_PLANS",
    }
    assert all(e["noChangeCertification"] for e in certified["elements"])
    current = await_status(actors, portola["id"], "CURRENT")
    # Anchored to the anniversary, never to the day of certification.
    assert current["annualDueDate"] == yesterday.replace(year=yesterday.year + 1).isoformat()

    issued = client.payload(actors.gql(DEMO_REGULATOR[0], ISSUE_PERMIT, permit), "issuePermit")
    assert issued["permit"]["expiresAt"] == in_a_year()
    permits = compliance(actors, DEMO_BUSINESS[0], portola["id"])["permits"]
    assert [p["number"] for p in permits] == [issued["permit"]["number"]]


def test_a_changed_mailing_address_requires_an_update_in_30_days_which_facility_information_clears(
    system: RunningSystem, actors: Actors, outsider: str, other_county_regulator: str
) -> None:
    chester = demo_facility(actors, "Chester")
    new_address = {"street": "PO Box 42", "city": "Chester", "state": "CA", "zip": "96020"}
    update = {"input": {"facilityId": chester["id"], "mailingAddress": new_address}}
    for caller in (outsider, other_county_regulator):
        assert client.denied(actors.gql(caller, UPDATE, update)), caller
    assert client.errors(system.graphql(UPDATE, update)) == ["UNAUTHENTICATED"]

    updated = client.payload(actors.gql(DEMO_BUSINESS[0], UPDATE, update), "updateFacility")
    due_by = (date.today() + timedelta(days=30)).isoformat()
    assert updated["changes"] == ["MAILING_ADDRESS"]
    assert updated["facility"]["complianceStatus"] == "UPDATE_REQUIRED"
    assert updated["facility"]["updateRequiredReasons"] == [
        {"reason": "MAILING_ADDRESS", "dueBy": due_by}
    ]
    seen_by_regulator = compliance(actors, DEMO_REGULATOR[0], chester["id"])
    assert seen_by_regulator["complianceStatus"] == "UPDATE_REQUIRED"

    # The business reports the new address in its Facility Information, and submits it.
    draft = start(actors, DEMO_BUSINESS[0], chester["id"], "FACILITY_INFORMATION")
    data = draft["data"]
    data["ownerOperator"]["mailingAddress"] = {
        "street": "PO Box 42", "city": "Chester", "state": "CA", "zipCode": "96020"}
    save(actors, DEMO_BUSINESS[0], draft["id"], data)
    [submitted] = submit(actors, DEMO_BUSINESS[0], chester["id"])
    assert submitted["id"] == draft["id"] and submitted["status"] == "SUBMITTED"
    cleared = await_status(actors, chester["id"], "CURRENT")
    assert cleared["updateRequiredReasons"] == []


def test_a_new_hazardous_material_is_reported_by_submitting_the_inventory_as_significant(
    system: RunningSystem, actors: Actors, outsider: str, other_county_regulator: str
) -> None:
    chester = demo_facility(actors, "Chester")
    start_input = {"facilityId": chester["id"], "element": "HAZARDOUS_MATERIALS_INVENTORY",
                   "basedOn": "LAST_SUBMITTAL"}
    for caller in (outsider, other_county_regulator):
        refused = actors.gql(caller, START, {"input": start_input})
        assert client.denied(refused), (caller, refused)
    assert client.errors(system.graphql(START, {"input": start_input})) == ["UNAUTHENTICATED"]

    draft = start(actors, DEMO_BUSINESS[0], chester["id"], "HAZARDOUS_MATERIALS_INVENTORY")
    data = draft["data"]
    before = len(data["materials"])
    # A new type of hazardous waste: spent lead-acid batteries awaiting recycling.
    data["materials"].append({
        "commonName": "Spent lead-acid batteries", "ehs": False, "hmType": "WASTE",
        "physicalState": "SOLID", "maximumDailyAmount": 2000, "averageDailyAmount": 800,
        "largestContainer": 60, "units": "POUNDS", "daysOnSite": 180,
        "location": "Battery room, pallet 2", "containerTypes": ["OTHER"],
        "storagePressure": "AMBIENT", "storageTemperature": "AMBIENT",
        "annualWasteAmount": 9000, "stateWasteCode": "792", "fireCodeHazardClasses": [5],
        "mapNumber": "1",
    })
    saved = save(actors, DEMO_BUSINESS[0], draft["id"], data)
    assert saved["status"] == "DRAFT"
    assert [f for f in saved["validation"] if f["severity"] == "ERROR"] == []
    [submitted] = submit(actors, DEMO_BUSINESS[0], chester["id"])
    assert submitted["changeFromPrevious"] == "SIGNIFICANT"
    body = actors.gql(DEMO_REGULATOR[0], """query($id: ID!) { submittalElement(id: $id) {
        status changeFromPrevious hazardousMaterials { totalCount } } }""",
                      {"id": submitted["id"]})
    element = client.data(body)["submittalElement"]
    assert element == {"status": "SUBMITTED", "changeFromPrevious": "SIGNIFICANT",
                       "hazardousMaterials": {"totalCount": before + 1}}
