"""Journeys 1, 4 and 5: create an account, sign in, add and edit people."""

from __future__ import annotations

from typing import Any

from tests.e2e import client
from tests.e2e.conftest import (
    DEMO_BUSINESS,
    DEMO_REGULATOR,
    PASSWORD,
    REGISTER,
    Actors,
    activate,
)
from tests.e2e.system import RunningSystem, eventually

DEMO_ORG = """{ myBusinesses { edges { node { id name
  facilities(first: 10) { edges { node { id cersId name } } } } } } }"""
REQUEST_ACCESS = """mutation RequestAccess($input: RequestAccessInput!) {
  requestAccess(input: $input) {
    accessRequest { id status requestedRole organization { name } }
    userErrors { field code message }
  }
}"""
ACCESS_REQUESTS = """query AccessRequests($id: ID!) { organization(id: $id) {
  accessRequests { id status requestedRole requester { id } } } }"""
DECIDE = """mutation Decide($input: DecideAccessRequestInput!) {
  decideAccessRequest(input: $input) {
    accessRequest { id status grantedRole } userErrors { field code message }
  }
}"""
PEOPLE = """query People($id: ID!) { organization(id: $id) {
  people { user { id } role firstName lastName title email } } }"""
ADD_PERSON = """mutation AddPerson($input: AddPersonInput!) {
  addPerson(input: $input) {
    membership { user { id } role email } invitation { id email role status }
    userErrors { field code message }
  }
}"""
CHANGE_ROLE = """mutation ChangeRole($input: PersonInput!) {
  changePersonRole(input: $input) { membership { role } userErrors { field code message } }
}"""


def demo_org(actors: Actors) -> dict[str, Any]:
    body = actors.gql(DEMO_BUSINESS[0], DEMO_ORG)
    node: dict[str, Any] = client.data(body)["myBusinesses"]["edges"][0]["node"]
    return node


def business_names(actors: Actors, username: str) -> list[str]:
    body = actors.gql(username, "{ myBusinesses { edges { node { name } } } }")
    return [e["node"]["name"] for e in client.data(body)["myBusinesses"]["edges"]]


def test_a_new_account_is_activated_by_email_signs_in_and_is_granted_access_by_the_lead_user(
    system: RunningSystem, actors: Actors, outsider: str, other_county_regulator: str
) -> None:
    org = demo_org(actors)
    casey, casey_email = f"casey.{actors.suffix}", actors.email("casey")
    body = system.graphql(REGISTER, {"input": {
        "portal": "BUSINESS", "username": casey, "email": casey_email,
        "password": PASSWORD, "firstName": "Casey", "lastName": "Newhire", "title": "Clerk",
        "phone": "(530) 555-0177",
    }})
    assert client.payload(body, "registerAccount")["userErrors"] == []
    with client.browser(system) as http:
        early = client.fill_sign_in(system, http, casey, PASSWORD, "business",
                                    client.pkce()[1], "s")
    assert early.status_code == 403 and "not activated" in early.text

    activate(system, casey_email)
    actors.names["casey.newhire"] = casey
    actors.passwords["casey.newhire"] = PASSWORD
    actors.portals["casey.newhire"] = "business"
    me = client.data(actors.gql("casey.newhire", "{ me { username portal status } }"))["me"]
    assert me == {"username": casey, "portal": "BUSINESS", "status": "ACTIVE"}
    assert business_names(actors, "casey.newhire") == []

    quincy = org["facilities"]["edges"][0]["node"]
    asked = eventually(lambda: _request_access(actors, quincy["cersId"]))
    request = asked["accessRequest"]
    assert request["status"] == "PENDING"
    assert request["requestedRole"] == "EDITOR"

    # Only the business's lead users see and decide it.
    assert client.data(actors.gql(outsider, ACCESS_REQUESTS, {"id": org["id"]}))[
        "organization"] is None
    for caller in (outsider, other_county_regulator):
        refused = actors.gql(caller, DECIDE, {"input": {"id": request["id"],
                                                        "decision": "APPROVE"}})
        assert client.denied(refused), refused
    anonymous = system.graphql(DECIDE, {"input": {"id": request["id"], "decision": "APPROVE"}})
    assert client.errors(anonymous) == ["UNAUTHENTICATED"], anonymous
    assert business_names(actors, "casey.newhire") == []

    pending = client.data(actors.gql(DEMO_BUSINESS[0], ACCESS_REQUESTS, {"id": org["id"]}))
    assert request["id"] in [r["id"] for r in pending["organization"]["accessRequests"]]
    decided = client.payload(actors.gql(DEMO_BUSINESS[0], DECIDE, {"input": {
        "id": request["id"], "decision": "APPROVE", "role": "EDITOR",
    }}), "decideAccessRequest")
    assert decided["accessRequest"]["status"] == "APPROVED"
    assert business_names(actors, "casey.newhire") == ["Feather River Fuel & Supply"]


def _request_access(actors: Actors, cers_id: int) -> dict[str, Any] | None:
    body = actors.gql("casey.newhire", REQUEST_ACCESS, {"input": {
        "cersId": cers_id, "requestedRole": "EDITOR", "message": "I keep the HMBP binder.",
    }})
    if client.errors(body) == ["UNAVAILABLE"]:
        return None  # facility has not heard of the new account yet
    return client.payload(body, "requestAccess")


def test_business_and_regulator_portals_are_separate_and_sign_in_is_identifier_first(
    system: RunningSystem,
) -> None:
    verifier, challenge = client.pkce()
    with client.browser(system) as http:
        first = http.get("/authorize", params={
            "response_type": "code", "client_id": "business-web", "scope": client.SCOPES,
            "redirect_uri": client.callback(system), "state": "s", "code_challenge": challenge,
            "code_challenge_method": "S256",
        })
        assert 'name="username"' in first.text and 'type="password"' not in first.text
        wrong_portal = client.fill_sign_in(system, http, *DEMO_REGULATOR, "business",
                                           challenge, "s")
    assert wrong_portal.status_code == 403 and "Regulator Portal" in wrong_portal.text
    with client.browser(system) as http:
        other = client.fill_sign_in(system, http, *DEMO_BUSINESS, "regulator", challenge, "s")
    assert other.status_code == 403 and "Business Portal" in other.text
    with client.browser(system) as http:
        wrong = client.fill_sign_in(system, http, DEMO_BUSINESS[0], "Not-The-Password-1",
                                    "business", challenge, "s")
    assert wrong.status_code == 401 and "code=" not in wrong.headers.get("location", "")
    regulator = client.sign_in(system, *DEMO_REGULATOR, "regulator")
    me = system.graphql("{ me { username portal } }", token=regulator.access_token)
    assert client.data(me)["me"] == {"username": "demo.plumas", "portal": "REGULATOR"}


def test_forgot_user_name_and_password_work_on_both_portals(
    system: RunningSystem, actors: Actors
) -> None:
    actors.register("rita.reset", "regulator", "Rita", "Reset")
    actors.register("bo.reset", "business", "Bo", "Reset")
    for name, portal in (("rita.reset", "regulator"), ("bo.reset", "business")):
        username, email = actors.username(name), actors.email(name)
        before = len(client.mails_to(system, email))
        with client.browser(system) as http:
            page = http.get(f"/account/forgot?portal={portal}")
            assert page.status_code == 200 and "Forgot your user name?" in page.text
            sent = client.submit_form(http, page, "/account/forgot/username", email=email)
            assert "Check your email" in sent.text
            nobody = client.submit_form(http, page, "/account/forgot/username",
                                        email="nobody-at-all@example.com")
            assert nobody.text.replace("nobody-at-all@example.com", email) == sent.text
            client.mail_with(system, email, f"  - {username}", after=before)

            page = http.get(f"/account/forgot?portal={portal}")
            asked = client.submit_form(http, page, "/account/forgot/password",
                                       username_or_email=username)
            assert "Check your email" in asked.text
        secret = client.mailed_link(system, email, "/account/reset", after=before)
        new_password = f"New-{PASSWORD}"
        with client.browser(system) as http:
            form = http.get(f"/account/reset?token={secret}&portal={portal}")
            done = client.submit_form(http, form, "/account/reset", new_password=new_password)
            assert done.status_code == 200 and "Your password is changed" in done.text
            again = client.submit_form(http, form, "/account/reset",
                                       new_password=f"Other-{PASSWORD}")
            assert again.status_code == 400, "a reset link works once"
        with client.browser(system) as http:
            old = client.fill_sign_in(system, http, username, PASSWORD, portal,
                                      client.pkce()[1], "s")
        assert old.status_code == 401
        assert client.sign_in(system, username, new_password, portal).access_token


def test_a_lead_user_adds_people_and_edits_their_permission_level(
    system: RunningSystem, actors: Actors, outsider: str, other_county_regulator: str
) -> None:
    org = demo_org(actors)
    lee_id = actors.register("lee.existing", first="Lee", last="Existing")
    added = client.payload(actors.gql(DEMO_BUSINESS[0], ADD_PERSON, {"input": {
        "organizationId": org["id"], "email": actors.email("lee.existing"), "firstName": "Lee",
        "lastName": "Existing", "title": "Driver", "role": "VIEWER",
    }}), "addPerson")
    # A verified account is granted at once; one facility has not heard of yet is invited,
    # and the invitation is redeemed as soon as the activation arrives.
    if added["membership"]:
        assert added["membership"]["user"]["id"] == lee_id
    eventually(lambda: business_names(actors, "lee.existing") == ["Feather River Fuel & Supply"])

    invited = client.payload(actors.gql(DEMO_BUSINESS[0], ADD_PERSON, {"input": {
        "organizationId": org["id"], "email": actors.email("nia.new"), "firstName": "Nia",
        "lastName": "New", "title": "Yard lead", "role": "EDITOR",
    }}), "addPerson")
    assert invited["membership"] is None and invited["invitation"]["status"] == "PENDING"
    client.mail_with(system, actors.email("nia.new"), "/invitations/accept?token=")
    nia_id = actors.register("nia.new", first="Nia", last="New")
    eventually(lambda: business_names(actors, "nia.new") == ["Feather River Fuel & Supply"])

    people = client.data(actors.gql(DEMO_BUSINESS[0], PEOPLE, {"id": org["id"]}))
    listed = {p["user"]["id"]: p for p in people["organization"]["people"]}
    assert listed[nia_id]["role"] == "EDITOR" and listed[nia_id]["title"] == "Yard lead"

    change = {"input": {"organizationId": org["id"], "userId": lee_id, "role": "APPROVER"}}
    for caller in (outsider, other_county_regulator, "nia.new"):
        refused = actors.gql(caller, CHANGE_ROLE, change)
        assert client.denied(refused), (caller, refused)
        no_add = actors.gql(caller, ADD_PERSON, {"input": {
            "organizationId": org["id"], "email": "x@example.com", "role": "LEAD_USER"}})
        assert client.denied(no_add), (caller, no_add)
    # A member who is not a lead user sees the business, so is told it is forbidden.
    assert client.errors(actors.gql("nia.new", CHANGE_ROLE, change)) == ["FORBIDDEN"]
    assert client.errors(system.graphql(CHANGE_ROLE, change)) == ["UNAUTHENTICATED"]

    changed = client.payload(actors.gql(DEMO_BUSINESS[0], CHANGE_ROLE, change),
                             "changePersonRole")
    assert changed["membership"]["role"] == "APPROVER"
    people = client.data(actors.gql("lee.existing", PEOPLE, {"id": org["id"]}))
    roles = {p["user"]["id"]: p["role"] for p in people["organization"]["people"]}
    assert roles[lee_id] == "APPROVER"
    assert client.data(actors.gql(outsider, PEOPLE, {"id": org["id"]}))["organization"] is None



def test_a_fresh_browser_is_never_signed_in_as_whoever_signed_in_before(
    system: RunningSystem,
) -> None:
    client.sign_in(system, *DEMO_BUSINESS)
    with client.browser(system) as http:
        page = http.get("/authorize", params={
            "response_type": "code", "client_id": "business-web", "scope": client.SCOPES,
            "redirect_uri": client.callback(system), "state": "s",
            "code_challenge": client.pkce()[1], "code_challenge_method": "S256",
        })
    # The gateway once kept identity's session cookie and handed it to every browser.
    assert page.status_code == 200 and 'name="username"' in page.text
    assert "location" not in page.headers
    assert len(page.headers.get_list("date")) == 1, "the proxy passed identity's Date along too"


AGENCY_REQUESTS = """{ myAgencies {
  accessRequests(first: 50) { id status requestedRole organization { name } } } }"""
DEACTIVATE = """mutation Leave($input: DeactivateAccountInput!) {
  deactivateAccount(input: $input) { ok userErrors { code message } } }"""


def test_the_regulator_decides_access_to_a_business_that_has_no_lead_user(
    system: RunningSystem, actors: Actors, outsider: str, other_county_regulator: str
) -> None:
    actors.register("lou.leaving", first="Lou", last="Leaving")
    created = actors.business("lou.leaving", f"Leaving Lumber {actors.suffix}", city="Quincy")
    cers_id = created["facility"]["cersId"]
    left = actors.gql("lou.leaving", DEACTIVATE, {"input": {"password": PASSWORD}})
    assert client.payload(left, "deactivateAccount")["ok"] is True

    actors.register("hal.heir", first="Hal", last="Heir")
    asked = eventually(lambda: _ask(actors, "hal.heir", cers_id, "LEAD_USER"), timeout=30)
    request_id = asked["accessRequest"]["id"]

    def listed() -> bool:
        body = client.data(actors.gql(DEMO_REGULATOR[0], AGENCY_REQUESTS))
        requests = body["myAgencies"][0]["accessRequests"] or []
        return request_id in [r["id"] for r in requests]

    # With Lou gone the business has no lead user, so the request goes to its regulator.
    eventually(listed, timeout=30)
    decide = {"input": {"id": request_id, "decision": "APPROVE", "role": "LEAD_USER"}}
    for caller in (outsider, other_county_regulator, DEMO_BUSINESS[0]):
        assert client.denied(actors.gql(caller, DECIDE, decide)), caller
    decided = client.payload(actors.gql(DEMO_REGULATOR[0], DECIDE, decide),
                             "decideAccessRequest")
    assert decided["accessRequest"]["status"] == "APPROVED"
    assert business_names(actors, "hal.heir") == [f"Leaving Lumber {actors.suffix}"]


def _ask(actors: Actors, who: str, cers_id: int, role: str) -> dict[str, Any] | None:
    body = actors.gql(who, REQUEST_ACCESS, {"input": {"cersId": cers_id, "requestedRole": role}})
    if client.errors(body) == ["UNAVAILABLE"]:
        return None  # facility has not heard of the new account yet
    answer = client.data(body)["requestAccess"]
    if answer["userErrors"]:
        return None  # the lead user's departure has not reached facility yet
    result: dict[str, Any] = answer
    return result
