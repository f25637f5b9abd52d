"""The names the portal pages show (submitters, reviewers, history actors, permit issuers,
staff), through the gateway: identity gives them to the people who work with that person and
to no one else, and a name it refuses leaves the rest of the page intact."""

from __future__ import annotations

from typing import Any

from tests.e2e import client
from tests.e2e.conftest import DEMO_BUSINESS, DEMO_REGULATOR, Actors
from tests.e2e.journeys import demo_facility, start, submit
from tests.e2e.system import RunningSystem, eventually
from tests.e2e.test_accounts import ADD_PERSON, demo_org

# The selections of web/src/pages/Facility.tsx, Element.tsx and Agency.tsx.
FACILITY_PAGE = """query FacilityPage($id: ID!) { facility(id: $id) {
  permits { id issuedBy { firstName lastName } }
  history { id action actor { firstName lastName } }
  submittalElements { id element submittedBy { firstName lastName }
                      review { action reviewer { firstName lastName } } }
} }"""
ELEMENT_PAGE = """query ElementPage($id: ID!) { submittalElement(id: $id) {
  id status createdBy { firstName lastName } submittedBy { firstName lastName }
  review { action reviewer { firstName lastName } }
} }"""
AGENCY_PAGE = """{ myAgencies { name staff { role user { id firstName lastName } } } }"""
REVIEW = """mutation Review($input: ReviewSubmittalElementInput!) {
  reviewSubmittalElement(input: $input) { element { id status } userErrors { code } } }"""
REMOVE = """mutation Remove($input: PersonInput!) {
  removePerson(input: $input) { userErrors { code message } } }"""

DANA = {"firstName": "Dana", "lastName": "Business"}
PAT = {"firstName": "Pat", "lastName": "Plumas"}


def element_page(actors: Actors, caller: str, element_id: str) -> dict[str, Any] | None:
    body = actors.gql(caller, ELEMENT_PAGE, {"id": element_id})
    page: dict[str, Any] | None = client.data(body)["submittalElement"]
    return page


def test_the_business_its_regulator_and_statewide_readers_get_the_names_the_pages_show(
    system: RunningSystem, actors: Actors, outsider: str
) -> None:
    quincy = demo_facility(actors, "Quincy")
    draft = start(actors, DEMO_BUSINESS[0], quincy["id"], "EMERGENCY_RESPONSE_TRAINING_PLANS")
    submit(actors, DEMO_BUSINESS[0], quincy["id"])

    def reviewed() -> dict[str, Any] | None:
        body = actors.gql(DEMO_REGULATOR[0], REVIEW, {"input": {
            "id": draft["id"], "action": "UNDER_REVIEW"}})
        return None if client.errors(body) else client.payload(body, "reviewSubmittalElement")

    eventually(reviewed, timeout=30)
    for reader in (DEMO_BUSINESS[0], DEMO_REGULATOR[0], "state-demo"):
        page = eventually(lambda r=reader: element_page(actors, r, draft["id"]), timeout=30)
        assert page["submittedBy"] == DANA and page["createdBy"] == DANA, reader
        assert page["review"]["reviewer"] == PAT, reader

    for reader in (DEMO_BUSINESS[0], DEMO_REGULATOR[0]):
        page = actors.gql(reader, FACILITY_PAGE, {"id": quincy["id"]})
        facility = client.data(page)["facility"]
        mine = [e for e in facility["submittalElements"] if e["id"] == draft["id"]]
        assert mine and mine[0]["submittedBy"] == DANA and mine[0]["review"]["reviewer"] == PAT
        # No errors above: every actor is readable (the demo seed is no one's account).
        assert DANA in [h["actor"] for h in facility["history"]], facility["history"]

    agencies = client.data(actors.gql(DEMO_REGULATOR[0], AGENCY_PAGE))["myAgencies"]
    staff = [s["user"] for a in agencies for s in a["staff"] or [] if s["user"]]
    assert PAT in [{"firstName": u["firstName"], "lastName": u["lastName"]} for u in staff]

    # Someone who works with neither side reads nothing of the facility to begin with.
    assert client.data(actors.gql(outsider, ELEMENT_PAGE, {"id": draft["id"]})) == {
        "submittalElement": None}


def test_a_former_members_name_reads_as_absent_and_the_rest_of_the_page_stays(
    system: RunningSystem, actors: Actors
) -> None:
    org = demo_org(actors)
    quincy = demo_facility(actors, "Quincy")
    fay = actors.register("fay.former", first="Fay", last="Former")
    client.payload(actors.gql(DEMO_BUSINESS[0], ADD_PERSON, {"input": {
        "organizationId": org["id"], "email": actors.email("fay.former"), "firstName": "Fay",
        "lastName": "Former", "role": "APPROVER",
    }}), "addPerson")
    draft = start(actors, "fay.former", quincy["id"], "HAZARDOUS_MATERIALS_INVENTORY")

    def submitted() -> list[dict[str, Any]] | None:
        body = actors.gql("fay.former", """mutation($i: FacilityIdInput!) {
            submitDrafts(input: $i) { elements { id } userErrors { code } } }""",
                          {"i": {"facilityId": quincy["id"]}})
        return None if client.errors(body) else client.payload(body, "submitDrafts")["elements"]

    eventually(submitted, timeout=30)
    fay_name = {"firstName": "Fay", "lastName": "Former"}

    def named_page() -> dict[str, Any] | None:
        # Identity learns of Fay's membership from facility's event; until then it refuses.
        body = actors.gql(DEMO_BUSINESS[0], ELEMENT_PAGE, {"id": draft["id"]})
        page: dict[str, Any] | None = None if client.errors(body) else client.data(body)[
            "submittalElement"]
        return page

    seen = eventually(named_page, timeout=30)
    assert seen["submittedBy"] == fay_name

    client.payload(actors.gql(DEMO_BUSINESS[0], REMOVE, {"input": {
        "organizationId": org["id"], "userId": fay}}), "removePerson")

    def refused() -> dict[str, Any] | None:
        body = actors.gql(DEMO_BUSINESS[0], ELEMENT_PAGE, {"id": draft["id"]})
        return body if client.errors(body) else None

    body = eventually(refused, timeout=30)
    # One account refused once (the gateway asks identity for each person once per request).
    assert client.errors(body) == ["FORBIDDEN"]
    assert tuple(body["errors"][0]["path"]) in {
        ("submittalElement", "createdBy"), ("submittalElement", "submittedBy")}
    page = body["data"]["submittalElement"]
    assert page["id"] == draft["id"] and page["status"] == "SUBMITTED"
    assert page["submittedBy"] == page["createdBy"] == {"firstName": None, "lastName": None}
