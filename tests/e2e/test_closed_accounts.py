"""A closed account's unexpired token no longer acts, through the gateway, in every service."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e import client
from tests.e2e.conftest import DEMO_REGULATOR, PASSWORD, Actors
from tests.e2e.journeys import demo_facility, start_draft
from tests.e2e.system import RunningSystem, eventually

DEACTIVATE = """mutation Close($input: DeactivateAccountInput!) {
  deactivateAccount(input: $input) { ok userErrors { code message } } }"""
ADD_STAFF = """mutation AddStaff($input: AgencyStaffInput!) {
  addAgencyStaff(input: $input) { staffMember { email role } userErrors { code message } } }"""
AGENCY = '{ regulatorAgencies(county: "Plumas") { id staff { role } } }'
HMBP = "query($id: ID!) { facility(id: $id) { currentHmbp { facilityInformation { id } } } }"
FOUND = """query($name: String!) { facilities(filter: {nameContains: $name}) { totalCount } }"""
# A harmless read in each service, polled until that service has seen the closing.
PROBES = {
    "identity": "{ me { id } }",
    "facility": "{ myBusinesses { totalCount } }",
    "submittal": "{ reviewQueue(first: 1) { edges { cursor } } }",
}


def mutations(ids: dict[str, str], suffix: str) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Every mutation family, as each closed account would send it."""
    site = {"name": f"After Closing {suffix}", "county": "Plumas",
            "siteAddress": {"street": f"{len(suffix)} Closing Lane", "city": "Quincy"}}
    business = [
        ("mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { user { id } } }",
         {"i": {"title": "Still here"}}),
        ("mutation($i: ChangePasswordInput!) { changePassword(input: $i) { ok } }",
         {"i": {"currentPassword": PASSWORD, "newPassword": "Another-Long-Passphrase-77"}}),
        ("mutation($i: CreateBusinessInput!) { createBusiness(input: $i) { organization { id } } }",
         {"i": {"name": f"After Closing {suffix}", "facility": site}}),
        ("mutation($i: AddFacilityInput!) { addFacility(input: $i) { facility { id } } }",
         {"i": {"organizationId": ids["org"], "facility": site}}),
        ("mutation($i: UpdateFacilityInput!) { updateFacility(input: $i) { facility { id } } }",
         {"i": {"facilityId": ids["facility"], "name": f"After Closing {suffix}"}}),
        ("mutation($i: UpdateBusinessInput!) { updateBusiness(input: $i) { organization { id } } }",
         {"i": {"organizationId": ids["org"], "name": f"After Closing {suffix}"}}),
        ("mutation($i: TransferFacilityInput!) { transferFacility(input: $i) "
         "{ facility { id } } }", {"i": {"facilityId": ids["facility"],
                                         "toOrganizationId": ids["org"]}}),
        ("mutation($i: AddPersonInput!) { addPerson(input: $i) { invitation { id } } }",
         {"i": {"organizationId": ids["org"], "email": f"x.{suffix}@example.com",
                "role": "VIEWER"}}),
        ("mutation($i: RequestAccessInput!) { requestAccess(input: $i) { accessRequest { id } } }",
         {"i": {"cersId": int(ids["demo_cers_id"]), "requestedRole": "VIEWER"}}),
        ("mutation($i: StartSubmittalInput!) { startSubmittal(input: $i) { element { id } } }",
         {"i": {"facilityId": ids["facility"], "element": "HAZARDOUS_MATERIALS_INVENTORY",
                "basedOn": "BLANK"}}),
        ("mutation($i: SaveDraftInput!) { saveDraft(input: $i) { element { id } } }",
         {"i": {"id": ids["draft"], "data": {}}}),
        ("mutation($i: ElementIdInput!) { discardDraft(input: $i) { id } }",
         {"i": {"id": ids["draft"]}}),
        ("mutation($i: FacilityIdInput!) { submitDrafts(input: $i) { elements { id } } }",
         {"i": {"facilityId": ids["facility"]}}),
        ("mutation($i: CertifyNoChangeInput!) { certifyNoChange(input: $i) { elements { id } } }",
         {"i": {"facilityId": ids["facility"], "statement": "Nothing changed."}}),
        ("mutation($i: MarkNotApplicableInput!) { markNotApplicable(input: $i) "
         "{ element { id } } }", {"i": {"facilityId": ids["facility"], "element": "UST"}}),
    ]
    regulator = [
        ("mutation($i: ReviewSubmittalElementInput!) { reviewSubmittalElement(input: $i) "
         "{ element { id } } }", {"i": {"id": ids["demo_element"], "action": "UNDER_REVIEW"}}),
        ("mutation($i: IssuePermitInput!) { issuePermit(input: $i) { permit { id } } }",
         {"i": {"facilityId": ids["facility"], "expiresAt": "2030-01-01"}}),
        ("mutation($i: SetAnnualDueDateInput!) { setAnnualDueDate(input: $i) "
         "{ facility { id } } }", {"i": {"facilityId": ids["facility"],
                                         "annualDueDate": "2027-06-01"}}),
        ("mutation($i: AgencyStaffInput!) { addAgencyStaff(input: $i) { staffMember { email } } }",
         {"i": {"agencyId": ids["agency"], "email": f"y.{suffix}@example.gov",
                "role": "ADMIN"}}),
        ("mutation($i: UpdateAgencyInput!) { updateAgency(input: $i) { agency { id } } }",
         {"i": {"agencyId": ids["agency"], "phone": "(530) 555-0000"}}),
    ]
    state = [
        ("mutation($i: SetAgencyJurisdictionInput!) { setAgencyJurisdiction(input: $i) "
         "{ agency { id } } }", {"i": {"agencyId": ids["agency"],
                                       "places": [{"county": "Plumas"}]}}),
    ]
    return {"cleo.closing": business, "rex.closing": regulator, "stan.closing": state}


def test_every_mutation_family_refuses_a_closed_accounts_unexpired_token(
    system: RunningSystem, actors: Actors
) -> None:
    suffix = actors.suffix
    actors.register("cleo.closing", first="Cleo", last="Closing")
    created = actors.business("cleo.closing", f"Closing Cafe {suffix}", city="Quincy")
    ids = {"org": created["organization"]["id"], "facility": created["facility"]["id"]}
    ids["draft"] = start_draft(actors, "cleo.closing", ids["facility"], "FACILITY_INFORMATION",
                         "BLANK")["id"]
    quincy = demo_facility(actors, "Quincy")
    ids["demo_cers_id"] = str(quincy["cersId"])
    hmbp = client.data(actors.gql(DEMO_REGULATOR[0], HMBP, {"id": quincy["id"]}))
    ids["demo_element"] = hmbp["facility"]["currentHmbp"]["facilityInformation"]["id"]
    ids["agency"] = client.data(actors.gql(DEMO_REGULATOR[0], AGENCY))[
        "regulatorAgencies"][0]["id"]

    actors.register("rex.closing", "regulator", "Rex", "Closing")
    added = actors.gql(DEMO_REGULATOR[0], ADD_STAFF, {"input": {
        "agencyId": ids["agency"], "email": actors.email("rex.closing"), "role": "ADMIN"}})
    client.payload(added, "addAgencyStaff")
    eventually(lambda: client.data(actors.gql("rex.closing", AGENCY))["regulatorAgencies"][0][
        "staff"], timeout=30)
    actors.state_account("stan.closing")
    tokens = {name: actors.token(name) for name in ("cleo.closing", "rex.closing",
                                                    "stan.closing")}

    for name, token in tokens.items():
        closed = system.graphql(DEACTIVATE, {"input": {"password": PASSWORD}}, token)
        assert client.payload(closed, "deactivateAccount")["ok"] is True, name
    for token in tokens.values():
        for probe in PROBES.values():
            eventually(lambda p=probe, t=token: client.errors(system.graphql(p, token=t))
                       == ["UNAUTHENTICATED"], timeout=30)

    for name, attempts in mutations(ids, suffix).items():
        for operation, variables in attempts:
            answer = system.graphql(operation, variables, tokens[name])
            assert client.errors(answer) == ["UNAUTHENTICATED"], (name, operation, answer)
            assert not any((answer.get("data") or {}).values()), answer
            assert "closed" in answer["errors"][0]["message"], answer
    upload = httpx.post(f"{system.base_url}/documents", params={
        "facilityId": ids["facility"], "filename": "plan.pdf"}, content=b"%PDF-1.7\n%%EOF\n",
        headers={"authorization": f"Bearer {tokens['cleo.closing']}",
                 "content-type": "application/pdf"}, timeout=30)
    assert upload.status_code == 401, upload.text

    # Nothing any of them sent was done.
    found = client.data(actors.gql(DEMO_REGULATOR[0], FOUND, {"name": f"After Closing {suffix}"}))
    assert found["facilities"]["totalCount"] == 0
    staff = client.data(actors.gql(DEMO_REGULATOR[0], """{ regulatorAgencies(county: "Plumas")
      { phone counties staff { email } } }"""))["regulatorAgencies"][0]
    assert staff["phone"] != "(530) 555-0000" and staff["counties"] == ["Plumas"]
    assert actors.email("rex.closing") not in [s["email"] for s in staff["staff"]]
    assert f"y.{suffix}@example.gov" not in [s["email"] for s in staff["staff"]]
