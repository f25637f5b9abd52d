from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from services.facility.adapters.tables import OutgoingMail
from services.facility.graphql.schema import schema

from .helpers import activate, agency, business

INVITE = """mutation($org: ID!, $email: String!) { addPerson(input: {organizationId: $org,
  email: $email, firstName: "Ivy", role: EDITOR}) { invitation { id status } } }"""
ACCEPT = """mutation($t: String!) { acceptInvitation(input: {token: $t}) {
  membership { role firstName } userErrors { code message } } }"""


async def invitation_tokens(app, email: str) -> list[str]:
    async with app.db.read() as session:
        mails = (await session.execute(select(OutgoingMail))).scalars()
        bodies = [m.body for m in mails if email in m.recipients]
    return [t for b in bodies for t in re.findall(r"token=([\w-]+)", b)]


async def test_an_invitation_link_works_once_and_a_resend_replaces_it(api, app):
    org = (await business(api, "ann", "1 Main St"))["organization"]["id"]
    invitation = (await api(INVITE, as_="ann", org=org, email="ivy@example.com"))["data"][
        "addPerson"
    ]["invitation"]
    [first] = await invitation_tokens(app, "ivy@example.com")
    resend = """mutation($id: ID!) { resendInvitation(input: {invitationId: $id}) {
      invitation { status } } }"""
    assert (await api(resend, as_="bob", id=invitation["id"]))["errors"][0]["extensions"][
        "code"
    ] == "FORBIDDEN"
    await api(resend, as_="ann", id=invitation["id"])
    first_again, second = await invitation_tokens(app, "ivy@example.com")
    assert first_again == first and second != first
    stale = await api(ACCEPT, as_="ivan", t=first)
    assert stale["data"]["acceptInvitation"]["userErrors"][0]["code"] == "BAD_USER_INPUT"
    accepted = await api(ACCEPT, as_="ivan", t=second)
    assert accepted["data"]["acceptInvitation"]["membership"] == {
        "role": "EDITOR",
        "firstName": "Ivy",
    }
    again = await api(ACCEPT, as_="eve", t=second)
    assert again["data"]["acceptInvitation"]["userErrors"]


async def test_a_cancelled_or_expired_invitation_grants_nothing(api, app, clock):
    org = (await business(api, "ann", "1 Main St"))["organization"]["id"]
    cancelled = (await api(INVITE, as_="ann", org=org, email="c@example.com"))["data"]["addPerson"][
        "invitation"
    ]
    cancel = """mutation($id: ID!) { cancelInvitation(input: {invitationId: $id}) {
      invitation { status } } }"""
    assert (await api(cancel, as_="ann", id=cancelled["id"]))["data"]["cancelInvitation"][
        "invitation"
    ]["status"] == "CANCELLED"
    await activate(app, "cat", "c@example.com")
    await api(INVITE, as_="ann", org=org, email="late@example.com")
    clock.advance(days=15)
    [token] = await invitation_tokens(app, "late@example.com")
    expired = await api(ACCEPT, as_="lou", t=token)
    assert "expired" in expired["data"]["acceptInvitation"]["userErrors"][0]["message"]
    people = "query($id: ID!) { organization(id: $id) { people { user { id } } } }"
    ids = [
        p["user"]["id"]
        for p in (await api(people, as_="ann", id=org))["data"]["organization"]["people"]
    ]
    assert ids == ["ann"]
    invitations = "query($id: ID!) { organization(id: $id) { invitations { email status } } }"
    listed = (await api(invitations, as_="ann", id=org))["data"]["organization"]["invitations"]
    assert {"email": "c@example.com", "status": "CANCELLED"} in listed


async def test_adding_people_pauses_while_the_account_read_model_is_stale(api, app):
    org = (await business(api, "ann", "1 Main St"))["organization"]["id"]
    app.read_model_fresh = lambda: False
    result = await api(INVITE, as_="ann", org=org, email="ivy@example.com")
    assert result["errors"][0]["extensions"]["code"] == "UNAVAILABLE"


async def test_memberships_are_shown_to_their_user_only(api):
    await business(api, "ann", "1 Main St")
    query = """query($id: ID!) { _entities(representations: [{__typename: "User", id: $id}]) {
      ... on User { memberships { role organization { name } } } } }"""
    mine = await api(query, as_="ann", id="ann")
    assert mine["data"]["_entities"][0]["memberships"] == [
        {"role": "LEAD_USER", "organization": {"name": "Feather River Fuel"}}
    ]
    assert (await api(query, as_="bob", id="ann"))["data"]["_entities"][0]["memberships"] is None


async def test_history_is_for_lead_users_and_the_facility_s_regulators(api, app):
    created = await business(api, "ann", "1 Main St")
    org, fid = created["organization"]["id"], created["facility"]["id"]
    await activate(app, "vic", "vic@example.com")
    add = """mutation($org: ID!) { addPerson(input: {organizationId: $org,
      email: "vic@example.com", role: APPROVER}) { membership { role } } }"""
    await api(add, as_="ann", org=org)
    await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    await agency(app, "Yuba County Environmental Health", "Yuba", "yul")
    query = "query($id: ID!) { facility(id: $id) { name history { action actor { id } } } }"
    lead = (await api(query, as_="ann", id=fid))["data"]["facility"]
    # The agency was created after the facility, so the facility moved to it.
    assert lead["history"] == [
        {"action": "CREATED", "actor": {"id": "ann"}},
        {"action": "REGULATOR_CHANGED", "actor": None},
    ]
    assert (await api(query, as_="vic", id=fid))["data"]["facility"]["history"] is None
    regulator = await api(query, as_="pat", portal="regulator", id=fid)
    assert regulator["data"]["facility"]["history"] == lead["history"]
    assert (await api(query, as_="yul", portal="regulator", id=fid))["data"]["facility"] is None
    # Statewide readers see the facility but not its audit trail, whoever they are.
    for caller, portal, scope in [("sync-client", None, "statewide:read"),
                                  ("stan", "state", "openid")]:
        state = await api(query, as_=caller, portal=portal, scope=scope, id=fid)
        assert "errors" not in state, state
        assert state["data"]["facility"] == {"name": lead["name"], "history": None}
    newest = await api("query($id: ID!) { facility(id: $id) { history(first: 1) { action } } }",
                       as_="ann", id=fid)
    assert newest["data"]["facility"]["history"] == [{"action": "REGULATOR_CHANGED"}]
    too_many = await api("query($id: ID!) { facility(id: $id) { history(first: 201) { action } } }",
                         as_="ann", id=fid)
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"



async def test_the_newest_history_of_one_facility_and_of_several_read_at_once(api, app):
    ids = [(await business(api, "ann", f"{n} Main St", name=f"Fuel {n}"))["facility"]["id"]
           for n in range(3)]
    rename = 'mutation($id: ID!, $name: String!) { updateFacility(input: {facilityId: $id, ' \
        'name: $name}) { changes } }'
    for n, facility_id in enumerate(ids):
        for k in range(n):
            await api(rename, as_="ann", id=facility_id, name=f"Fuel {n}.{k}")
    one = "query($id: ID!) { facility(id: $id) { all: history { action changes } " \
        "newest: history(first: 2) { action changes } } }"
    several = """{ facilities(first: 10) { edges { node { id all: history { action changes }
      newest: history(first: 2) { action changes } } } } }"""
    listed = (await api(several, as_="ann"))["data"]["facilities"]["edges"]
    assert len(listed) == 3
    for edge in listed:
        alone = (await api(one, as_="ann", id=edge["node"]["id"]))["data"]["facility"]
        # Oldest first, and the newest two are the last two, read alone or with others.
        assert alone["all"][0]["action"] == "CREATED"
        assert alone["newest"] == alone["all"][-2:]
        assert {"all": edge["node"]["all"], "newest": edge["node"]["newest"]} == alone
    assert sorted(len(e["node"]["all"]) for e in listed) == [1, 2, 3]


def test_the_committed_sdl_matches_the_schema():
    committed = Path(__file__).resolve().parents[2] / "services/facility/schema.graphql"
    assert committed.read_text() == schema.as_str() + "\n", (
        "run: python -m services.facility schema"
    )
