from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from services.facility.adapters.tables import OutgoingMail

from .helpers import activate, agency, business

ADD = """mutation($org: ID!, $email: String!, $role: BusinessRole!) {
  addPerson(input: {organizationId: $org, email: $email, firstName: "Vi", role: $role}) {
    membership { role user { id } } invitation { id email status }
    userErrors { message code } } }"""
PEOPLE = "query($id: ID!) { organization(id: $id) { people { role user { id } } } }"
ROLE = """mutation($org: ID!, $user: ID!, $role: BusinessRole) {
  changePersonRole(input: {organizationId: $org, userId: $user, role: $role}) {
    membership { role } userErrors { message code } } }"""
PERMIT = """mutation($f: ID!) { issuePermit(input: {facilityId: $f, expiresAt: "2027-12-31"}) {
  permit { number } userErrors { message code } } }"""


async def test_a_person_with_an_account_is_granted_at_once_and_others_are_invited(api, app):
    created = await business(api, "ann", "1 Main St")
    org = created["organization"]["id"]
    await activate(app, "vic", "vic@example.com")
    granted = await api(ADD, as_="ann", org=org, email="VIC@example.com", role="VIEWER")
    assert granted["data"]["addPerson"]["membership"] == {"role": "VIEWER", "user": {"id": "vic"}}
    invited = await api(ADD, as_="ann", org=org, email="new@example.com", role="EDITOR")
    assert invited["data"]["addPerson"]["invitation"]["status"] == "PENDING"
    await activate(app, "neo", "new@example.com")
    people = await api(PEOPLE, as_="ann", id=org)
    assert {p["user"]["id"]: p["role"] for p in people["data"]["organization"]["people"]} == {
        "ann": "LEAD_USER",
        "vic": "VIEWER",
        "neo": "EDITOR",
    }
    async with app.db.read() as session:
        subjects = [m.subject for m in (await session.execute(select(OutgoingMail))).scalars()]
    assert "You are invited to Feather River Fuel" in subjects


async def test_only_lead_users_manage_people_and_the_last_one_stays(api, app):
    created = await business(api, "ann", "1 Main St")
    org = created["organization"]["id"]
    await activate(app, "vic", "vic@example.com")
    await api(ADD, as_="ann", org=org, email="vic@example.com", role="VIEWER")
    for caller in ("vic", "bob"):
        denied = await api(ADD, as_=caller, org=org, email="x@example.com", role="LEAD_USER")
        assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await api(ADD, org=org, email="x@example.com", role="VIEWER"))["errors"][0][
        "extensions"
    ]["code"] == "UNAUTHENTICATED"
    demote = await api(ROLE, as_="ann", org=org, user="ann", role="EDITOR")
    assert demote["data"]["changePersonRole"]["userErrors"][0]["code"] == "BAD_USER_INPUT"
    leave = """mutation($org: ID!) { removePerson(input: {organizationId: $org, userId: "ann"})
      { userErrors { code } } }"""
    assert (await api(leave, as_="ann", org=org))["data"]["removePerson"]["userErrors"]
    assert (await api(PEOPLE, as_="vic", id=org))["data"]["organization"]["people"]
    assert (await api(PEOPLE, as_="bob", id=org))["data"]["organization"] is None


async def test_access_requests_go_to_lead_users_who_approve_at_another_level(api, app):
    created = await business(api, "ann", "1 Main St")
    cers = created["facility"]["cersId"]
    ask = """mutation($c: Int, $o: ID) { requestAccess(input: {cersId: $c, organizationId: $o,
      requestedRole: EDITOR, message: "I run the yard"}) { accessRequest { id status }
      userErrors { code field } } }"""
    both = await api(ask, as_="bob", c=cers, o=created["organization"]["id"])
    assert both["data"]["requestAccess"]["userErrors"][0]["field"] == ["cersId"]
    request = (await api(ask, as_="bob", c=cers))["data"]["requestAccess"]["accessRequest"]
    decide = """mutation($id: ID!) { decideAccessRequest(input: {id: $id, decision: APPROVE,
      role: VIEWER}) { accessRequest { status grantedRole } } }"""
    denied = await api(decide, as_="bob", id=request["id"])
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    decided = await api(decide, as_="ann", id=request["id"])
    assert decided["data"]["decideAccessRequest"]["accessRequest"] == {
        "status": "APPROVED",
        "grantedRole": "VIEWER",
    }
    mine = await api("{ myBusinesses { totalCount } }", as_="bob")
    assert mine["data"]["myBusinesses"]["totalCount"] == 1


async def test_access_granted_before_the_account_event_arrived_gets_its_contact_later(api, app):
    created = await business(api, "ann", "1 Main St")
    org = created["organization"]["id"]
    ask = """mutation($o: ID) { requestAccess(input: {organizationId: $o, requestedRole: EDITOR,
      message: "hi"}) { accessRequest { id } } }"""
    request = (await api(ask, as_="bob", o=org))["data"]["requestAccess"]["accessRequest"]
    decide = """mutation($id: ID!) { decideAccessRequest(input: {id: $id, decision: APPROVE}) {
      accessRequest { status } } }"""
    await api(decide, as_="ann", id=request["id"])
    people = """query($id: ID!) { organization(id: $id) { people {
      user { id } firstName lastName email } } }"""

    await activate(app, "bob", "bob@example.com")

    listed = (await api(people, as_="ann", id=org))["data"]["organization"]["people"]
    bob = next(p for p in listed if p["user"]["id"] == "bob")
    assert (bob["firstName"], bob["lastName"], bob["email"]) == ("Bob", "Tester", "bob@example.com")
    await activate(app, "bob", "bob.new@example.com", sequence=2)
    listed = (await api(people, as_="ann", id=org))["data"]["organization"]["people"]
    bob = next(p for p in listed if p["user"]["id"] == "bob")
    assert bob["email"] == "bob@example.com", "what the business has recorded stays"


async def test_permits_are_for_the_agency_s_approvers_while_compliance_is_current(api, app):
    created = await business(api, "ann", "1 Main St")
    fid = created["facility"]["id"]
    await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    await agency(app, "Yuba County Environmental Health", "Yuba", "yul")
    for caller, portal in (("ann", "business"), ("yul", "regulator"), ("sam", "state")):
        denied = await api(PERMIT, as_=caller, portal=portal, f=fid)
        assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN", caller
    issued = await api(PERMIT, as_="pat", portal="regulator", f=fid)
    assert (
        issued["data"]["issuePermit"]["permit"]["number"] == f"{created['facility']['cersId']}-001"
    )
    rename = """mutation($id: ID!) { updateFacility(input: {facilityId: $id, name: "New"}) {
      changes } }"""
    await api(rename, as_="ann", id=fid)
    refused = await api(PERMIT, as_="pat", portal="regulator", f=fid)
    error = refused["errors"][0]
    assert error["extensions"]["code"] == "COMPLIANCE_NOT_CURRENT"
    assert "NAME due by 2026-07-01" in error["message"]


async def test_agency_admins_manage_staff_and_due_dates_in_their_agency_only(api, app):
    plumas = await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    await agency(app, "Yuba County Environmental Health", "Yuba", "yul")
    add = """mutation($a: ID!) { addAgencyStaff(input: {agencyId: $a, email: "ivy@example.gov",
      role: INSPECTOR}) { staffMember { email role pending } } }"""
    denied = await api(add, as_="yul", portal="regulator", a=plumas.id)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    added = await api(add, as_="pat", portal="regulator", a=plumas.id)
    assert added["data"]["addAgencyStaff"]["staffMember"]["pending"] is True
    await activate(app, "ivy", "ivy@example.gov")
    staff = await api(
        'query($a: ID!) { _entities(representations: [{__typename: "RegulatorAgency", id: $a}])'
        " { ... on RegulatorAgency { staff { user { id } role } } } }",
        as_="ivy",
        portal="regulator",
        a=plumas.id,
    )
    assert {"user": {"id": "ivy"}, "role": "INSPECTOR"} in staff["data"]["_entities"][0]["staff"]
    created = await business(api, "ann", "1 Main St")
    due = """mutation($f: ID!) { setAnnualDueDate(input: {facilityId: $f,
      annualDueDate: "2027-07-01"}) { facility { annualDueDate } } }"""
    assert (await api(due, as_="ivy", portal="regulator", f=created["facility"]["id"]))["errors"][
        0
    ]["extensions"]["code"] == "FORBIDDEN"
    moved = await api(due, as_="pat", portal="regulator", f=created["facility"]["id"])
    assert moved["data"]["setAnnualDueDate"]["facility"]["annualDueDate"] == "2027-07-01"


async def test_my_agencies_are_the_callers_own_and_nobody_elses(api, app):
    await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    await agency(app, "Yuba County Environmental Health", "Yuba", "yul")
    await business(api, "ann", "1 Main St")
    mine = "{ myAgencies { name staff { role } } }"
    pat = (await api(mine, as_="pat", portal="regulator"))["data"]["myAgencies"]
    assert [a["name"] for a in pat] == ["Plumas County Environmental Health"]
    assert pat[0]["staff"] == [{"role": "ADMIN"}]
    assert (await api(mine, as_="ann"))["data"]["myAgencies"] == []
    assert (await api(mine))["data"]["myAgencies"] == []


async def test_access_requests_come_undecided_first_newest_first_and_in_bounded_pages(
    api, app, clock
):
    created = await business(api, "ann", "1 Main St")
    org = created["organization"]["id"]
    ask = """mutation($o: ID) { requestAccess(input: {organizationId: $o,
      requestedRole: VIEWER}) { accessRequest { id } } }"""
    ids = []
    for who in ("bob", "cid", "dee"):
        clock.now += timedelta(minutes=1)
        ids.append((await api(ask, as_=who, o=org))["data"]["requestAccess"]["accessRequest"]["id"])
    decide = """mutation($id: ID!) { decideAccessRequest(input: {id: $id, decision: DENY}) {
      accessRequest { status } } }"""
    await api(decide, as_="ann", id=ids[2])
    page = """query($o: ID!, $n: Int!) { organization(id: $o) {
      accessRequests(first: $n) { id status } } }"""
    two = (await api(page, as_="ann", o=org, n=2))["data"]["organization"]["accessRequests"]
    assert [r["id"] for r in two] == [ids[1], ids[0]]
    assert {r["status"] for r in two} == {"PENDING"}
    every = (await api(page, as_="ann", o=org, n=200))["data"]["organization"]["accessRequests"]
    assert [r["id"] for r in every] == [ids[1], ids[0], ids[2]]
    too_many = await api(page, as_="ann", o=org, n=201)
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    outsider = (await api(page, as_="bob", o=org, n=2))["data"]["organization"]
    assert outsider is None or outsider["accessRequests"] is None
