from __future__ import annotations

from sqlalchemy import select

from services.facility.adapters.tables import EVENTS, OutgoingMail
from services.facility.domain.actors import Actor
from services.facility.seed import seed_demo
from services.facility.service_layer import agencies

from .helpers import activate, agency, business

DEMO_HISTORY = """{ facilities(first: 10) { edges { node {
  history { action actor { id } systemActor { kind name } } } } } }"""
LIST = "{ facilities(first: 50) { totalCount edges { node { county regulator { name } } } } }"


async def test_the_demo_business_and_regulator_find_their_data_when_their_accounts_activate(
    api, app
):
    app.demo = True
    assert await seed_demo(app) is True
    assert await seed_demo(app) is False
    await activate(app, "dana", "demo.business@example.com")
    await activate(app, "pat", "demo.plumas@example.com")
    # A replay of the activation (a resync) makes no second business.
    await activate(app, "dana", "demo.business@example.com", sequence=2)
    mine = await api("{ myBusinesses { edges { node { name people { role } } } } }", as_="dana")
    [edge] = mine["data"]["myBusinesses"]["edges"]
    assert edge["node"] == {
        "name": "Feather River Fuel & Supply",
        "people": [{"role": "LEAD_USER"}],
    }
    seen = (await api(LIST, as_="pat", portal="regulator"))["data"]["facilities"]
    assert seen["totalCount"] == 4
    assert {e["node"]["regulator"]["name"] for e in seen["edges"]} == {
        "Plumas County Environmental Health"
    }
    # Every change is by a real account: the demo business account made its facilities.
    history = await api(DEMO_HISTORY, as_="dana")
    for edge in history["data"]["facilities"]["edges"]:
        [created] = edge["node"]["history"]
        assert (created["action"], created["actor"], created["systemActor"]) == (
            "CREATED",
            {"id": "dana"},
            None,
        )
    async with app.db.read() as session:
        created = [
            e
            for e in (
                await session.execute(select(EVENTS.outbox.c.subject, EVENTS.outbox.c.payload))
            ).all()
            if e[0] == "facility.facility.created"
        ]
    assert len(created) == 4
    assert all(
        '"demo":true' in p.replace(" ", "") and '"actor":"dana"' in p.replace(" ", "")
        for _, p in created
    )


async def test_outside_a_demo_run_an_account_with_the_demo_email_gets_no_business(api, app):
    assert await seed_demo(app) is True
    await activate(app, "dana", "demo.business@example.com")
    mine = await api("{ myBusinesses { totalCount } }", as_="dana")
    assert mine["data"]["myBusinesses"]["totalCount"] == 0
    agencies_in_alameda = await api('{ regulatorAgencies(county: "Alameda") { name cities } }')
    assert {a["name"] for a in agencies_in_alameda["data"]["regulatorAgencies"]} == {
        "Alameda County Department of Environmental Health",
        "City of Berkeley Toxics Management Division",
    }


async def test_a_city_agency_wins_over_the_county_and_a_jurisdiction_change_reassigns(api, app):
    await agency(app, "Alameda County Department of Environmental Health", "Alameda", "ala")
    city = await agency(app, "City of Berkeley Toxics", "Alameda", "ber", city="Berkeley")
    query = """mutation($s: String!, $c: String!) { createBusiness(input: {name: "B", facility:
      {name: $s, county: "Alameda", city: $c, siteAddress: {street: $s}}}) {
      facility { id regulator { name } } } }"""
    berkeley = await api(query, as_="ann", s="1 University Ave", c="Berkeley")
    oakland = await api(query, as_="ann", s="1 Broadway", c="Oakland")
    assert berkeley["data"]["createBusiness"]["facility"]["regulator"]["name"] == (
        "City of Berkeley Toxics"
    )
    assert oakland["data"]["createBusiness"]["facility"]["regulator"]["name"].startswith("Alameda")
    moved = await agencies.change_jurisdiction(
        app, city.id, [agencies.Place("Alameda", "Albany")], Actor.operator("set-jurisdiction")
    )
    assert moved == [berkeley["data"]["createBusiness"]["facility"]["id"]]
    seen = await api(LIST, as_="ber", portal="regulator")
    assert seen["data"]["facilities"]["totalCount"] == 0
    assert (await api(LIST, as_="ala", portal="regulator"))["data"]["facilities"]["totalCount"] == 2


async def test_with_no_lead_user_the_regulator_decides_access_requests(api, app):
    created = await business(api, "ann", "1 Main St")
    await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    plumas_id = (await api('{ regulatorAgencies(county: "Plumas") { id } }'))["data"][
        "regulatorAgencies"
    ][0]["id"]
    await activate(app, "ann", "ann@example.com")
    await activate(app, "vic", "vic@example.com")
    add = """mutation($org: ID!) { addPerson(input: {organizationId: $org,
      email: "vic@example.com", role: LEAD_USER}) { membership { role } } }"""
    org = created["organization"]["id"]
    await api(add, as_="ann", org=org)
    leave = """mutation($org: ID!, $u: ID!) { removePerson(input: {organizationId: $org,
      userId: $u}) { userErrors { message } } }"""
    assert (await api(leave, as_="ann", org=org, u="ann"))["data"]["removePerson"][
        "userErrors"
    ] == []
    deactivated = {"user_id": "vic", "deactivated_at": "2026-06-02T00:00:00Z"}
    from common.events.envelope import Envelope
    from services.facility.service_layer import consumers

    async with app.db.transaction() as session:
        await consumers.user_deactivated(
            app,
            session,
            Envelope(
                type="identity.user.deactivated", aggregate_id="vic", sequence=2, data=deactivated
            ),
        )
    ask = """mutation($c: Int) { requestAccess(input: {cersId: $c, requestedRole: LEAD_USER})
      { accessRequest { id } } }"""
    request = (await api(ask, as_="bob", c=created["facility"]["cersId"]))["data"]["requestAccess"][
        "accessRequest"
    ]
    async with app.db.read() as session:
        mails = (await session.execute(select(OutgoingMail))).scalars()
        asked = [m.recipients for m in mails if m.subject.startswith("Access request")]
    assert asked == [["pat@example.gov"]]
    queue = """query($a: ID!) { _entities(representations: [{__typename: "RegulatorAgency",
      id: $a}]) { ... on RegulatorAgency { accessRequests { id status } } } }"""
    assert (await api(queue, as_="pat", portal="regulator", a=plumas_id))["data"]["_entities"][0][
        "accessRequests"
    ] == [{"id": request["id"], "status": "PENDING"}]
    assert (await api(queue, as_="bob", a=plumas_id))["data"]["_entities"][0][
        "accessRequests"
    ] is None
    decide = """mutation($id: ID!) { decideAccessRequest(input: {id: $id, decision: APPROVE})
      { accessRequest { status } } }"""
    decided = await api(decide, as_="pat", portal="regulator", id=request["id"])
    assert decided["data"]["decideAccessRequest"]["accessRequest"]["status"] == "APPROVED"
