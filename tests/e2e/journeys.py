"""Operations the journeys share, as a client sends them through the gateway."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.e2e import client
from tests.e2e.conftest import DEMO_BUSINESS, Actors
from tests.e2e.system import eventually

FACILITIES = """{ myBusinesses { edges { node { id
  facilities(first: 10) { edges { node { id cersId name } } } } } } }"""
COMPLIANCE = """query Compliance($id: ID!) { facility(id: $id) {
  id cersId name complianceStatus annualDueDate lastAnnualUpdateAt
  updateRequiredReasons { reason dueBy element }
  permits { number expiresAt }
} }"""
START = """mutation Start($input: StartSubmittalInput!) {
  startSubmittal(input: $input) {
    element { id element status basedOn data } userErrors { field code message }
  }
}"""
SAVE = """mutation Save($input: SaveDraftInput!) {
  saveDraft(input: $input) {
    element { id status data validation { code severity message } }
    userErrors { field code message }
  }
}"""
SUBMIT = """mutation Submit($input: FacilityIdInput!) {
  submitDrafts(input: $input) {
    elements { id element status changeFromPrevious submittedAt }
    userErrors { field code message }
  }
}"""
ISSUE_PERMIT = """mutation Issue($input: IssuePermitInput!) {
  issuePermit(input: $input) { permit { number expiresAt } userErrors { field code message } }
}"""


def demo_facility(actors: Actors, name_ends: str) -> dict[str, Any]:
    body = client.data(actors.gql(DEMO_BUSINESS[0], FACILITIES))
    for edge in body["myBusinesses"]["edges"][0]["node"]["facilities"]["edges"]:
        if edge["node"]["name"].endswith(name_ends):
            return dict(edge["node"])
    raise AssertionError(f"the demo business has no facility ending {name_ends!r}")


def compliance(actors: Actors, username: str, facility_id: str) -> dict[str, Any]:
    facility: dict[str, Any] | None = client.data(
        actors.gql(username, COMPLIANCE, {"id": facility_id})
    )["facility"]
    assert facility is not None, f"{username} cannot see facility {facility_id}"
    return facility


def await_status(actors: Actors, facility_id: str, status: str,
                 username: str = DEMO_BUSINESS[0]) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        facility = compliance(actors, username, facility_id)
        return facility if facility["complianceStatus"] == status else None

    return eventually(probe, timeout=30)


def start(actors: Actors, username: str, facility_id: str, element: str,
          based_on: str = "LAST_SUBMITTAL") -> dict[str, Any]:
    """Start a draft, waiting out submittal's read model of a facility it may not know yet."""
    def probe() -> dict[str, Any] | None:
        body = actors.gql(username, START, {"input": {
            "facilityId": facility_id, "element": element, "basedOn": based_on}})
        if set(client.errors(body)) & {"NOT_FOUND", "UNAVAILABLE"}:
            return None
        started: dict[str, Any] = client.payload(body, "startSubmittal")["element"]
        return started

    return eventually(probe, timeout=30)


def start_draft(actors: Actors, username: str, facility_id: str, element: str,
                based_on: str = "BLANK") -> dict[str, Any]:
    """Start a draft as ``start`` does, taking the validation findings of a blank draft (which
    may come back with it) as what they are: findings, not a refusal."""
    def probe() -> dict[str, Any] | None:
        body = actors.gql(username, START, {"input": {
            "facilityId": facility_id, "element": element, "basedOn": based_on}})
        if set(client.errors(body)) & {"NOT_FOUND", "UNAVAILABLE"}:
            return None
        started: dict[str, Any] | None = client.data(body)["startSubmittal"]["element"]
        assert started is not None, body
        return started

    return eventually(probe, timeout=30)


def save(actors: Actors, username: str, element_id: str, data: dict[str, Any]) -> dict[str, Any]:
    body = actors.gql(username, SAVE, {"input": {"id": element_id, "data": data}})
    element: dict[str, Any] = client.payload(body, "saveDraft")["element"]
    return element


def submit(actors: Actors, username: str, facility_id: str) -> list[dict[str, Any]]:
    body = actors.gql(username, SUBMIT, {"input": {"facilityId": facility_id}})
    elements: list[dict[str, Any]] = client.payload(body, "submitDrafts")["elements"]
    return elements


def in_a_year() -> str:
    today = date.today()
    return today.replace(year=today.year + 1).isoformat()
