"""GraphQL operations and complete element data the integration tests share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.submittal.adapters.tables import EVENTS
from tests.submittal.conftest import Harness

ERRORS = "userErrors { field message code severity }"
FINDINGS = "findings { field message code severity }"
START = f"""mutation($f: ID!, $e: ElementType!, $b: BasedOn!) {{
  startSubmittal(input: {{facilityId: $f, element: $e, basedOn: $b}}) {{
    element {{ id status element basedOn basedOnElementId }} {ERRORS} }} }}"""
SAVE = f"""mutation($id: ID!, $data: JSON) {{ saveDraft(input: {{id: $id, data: $data}}) {{
    element {{ id status }} {ERRORS} {FINDINGS} }} }}"""
DISCARD = f"""mutation($id: ID!) {{ discardDraft(input: {{id: $id}}) {{ id {ERRORS} }} }}"""
SUBMIT = f"""mutation($f: ID!) {{ submitDrafts(input: {{facilityId: $f}}) {{
    elements {{ id element status changeFromPrevious noChangeCertification submittedAt
      submittedBy {{ id }} }} {ERRORS} }} }}"""
CERTIFY = f"""mutation($f: ID!, $s: String!) {{
  certifyNoChange(input: {{facilityId: $f, statement: $s}}) {{
    elements {{ id element status changeFromPrevious noChangeCertification
      certificationStatement basedOnElementId }} {ERRORS} }} }}"""
REVIEW = f"""mutation($id: ID!, $a: ReviewAction!, $c: String) {{
  reviewSubmittalElement(input: {{id: $id, action: $a, comments: $c}}) {{
    element {{ id status review {{ action comments reviewer {{ id }} reviewedAt }} }}
    {ERRORS} }} }}"""
NOT_APPLICABLE = f"""mutation($f: ID!, $e: ElementType!) {{
  markNotApplicable(input: {{facilityId: $f, element: $e}}) {{
    element {{ id element status }} {ERRORS} }} }}"""
ELEMENT = """query($id: ID!) { submittalElement(id: $id) { id element status data
  hazardousMaterials(first: 100) { totalCount edges { node { commonName casNumber location
    withheld } } } } }"""

DIESEL = {"commonName": "Diesel fuel", "casNumber": "68476-34-6", "ehs": False,
          "physicalState": "LIQUID", "maximumDailyAmount": 1000, "averageDailyAmount": 800,
          "units": "GALLONS", "daysOnSite": 365, "location": "Tank farm"}
SECRET = {"commonName": "Proprietary blend X", "chemicalName": "Secret solvent",
          "casNumber": "67-64-1", "tradeSecret": True, "ehs": False, "physicalState": "LIQUID",
          "maximumDailyAmount": 100, "units": "GALLONS", "location": "Vault B",
          "locationConfidential": True}
CONTACT = {"name": "Pat Lee", "title": "Manager", "phone": "530-555-0100",
           "phone24Hour": "530-555-0199",
           "address": {"street": "1 Main St", "city": "Quincy", "state": "CA"}}
FACILITY_INFORMATION: dict[str, Any] = {
    "businessActivities": {
        "businessName": "Acme Fuel #1", "hazardousMaterialsOnSite": True,
        "calArpRegulatedSubstances": False, "ownOrOperateUst": False, "ownOrOperateApst": False,
        "hazardousWasteGenerator": False, "recyclesMaterials": False,
        "onsiteHazardousWasteTreatment": False, "financialAssurance": False,
        "remoteWasteConsolidation": False, "hazardousWasteTankClosure": False,
        "rcraLargeQuantityGenerator": False, "householdHazardousWasteCollection": False,
    },
    "ownerOperator": {
        "phone": "530-555-0100", "ownerName": "Acme LLC", "ownerPhone": "530-555-0110",
        "operatorName": "Acme Ops", "operatorPhone": "530-555-0120",
        "mailingAddress": {"street": "PO Box 1", "city": "Quincy", "state": "CA"},
        "ownerAddress": {"street": "9 Oak Ave", "city": "Quincy"},
        "environmentalContact": CONTACT, "primaryEmergencyContact": CONTACT,
        "billingContact": CONTACT, "signer": {"name": "Pat Lee", "title": "Manager"},
        "naicsCode": "457110", "numberOfEmployees": 12,
    },
}
INVENTORY = {"materials": [DIESEL, SECRET],
             "siteMap": {"option": "STORED_AT_FACILITY", "comment": "In the office"}}
PLANS = {"emergencyResponsePlan": {"option": "STORED_AT_FACILITY"},
         "employeeTrainingPlan": {"option": "EXEMPT", "comment": "Fewer than 5 staff on site."}}
HMBP_DATA = {"FACILITY_INFORMATION": FACILITY_INFORMATION,
             "HAZARDOUS_MATERIALS_INVENTORY": INVENTORY,
             "EMERGENCY_RESPONSE_TRAINING_PLANS": PLANS}


def ok(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][name]
    return result


def code(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return str(body["errors"][0]["extensions"]["code"])


async def start(h: Harness, token: str, facility: str, element: str,
                based_on: str = "BLANK") -> str:
    result = ok(await h.gql(START, token, f=facility, e=element, b=based_on), "startSubmittal")
    return str(result["element"]["id"])


async def save(h: Harness, token: str, element_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return ok(await h.gql(SAVE, token, id=element_id, data=data), "saveDraft")


async def draft_hmbp(h: Harness, token: str, facility: str) -> dict[str, str]:
    ids = {}
    for element, data in HMBP_DATA.items():
        ids[element] = await start(h, token, facility, element)
        result = await save(h, token, ids[element], data)
        assert result["userErrors"] == [], result
        assert [e for e in result["findings"] if e["severity"] == "ERROR"] == [], result
    return ids


async def outbox(h: Harness) -> list[dict[str, Any]]:
    import json

    async with h.deps.db.read() as session:
        rows = await session.execute(select(EVENTS.outbox.c.payload)
                                     .order_by(EVENTS.outbox.c.position))
        return [json.loads(r[0]) for r in rows]
