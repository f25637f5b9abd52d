"""A closed account's unexpired token is refused as soon as facility has seen the closing."""

from __future__ import annotations

from sqlalchemy import func, select

from common.events.consumer import Outcome, apply_once
from common.events.envelope import Envelope
from services.facility.adapters.tables import EVENTS, Organization
from services.facility.worker import IDENTITY_HANDLERS, dispatcher

from .helpers import CREATE, activate, agency, business

MUTATIONS = {
    "createBusiness": CREATE,
    "addFacility": """mutation($org: ID!) { addFacility(input: {organizationId: $org, facility:
        {name: "Second", county: "Plumas", siteAddress: {street: "9 Elm St"}}}) {
        facility { id } } }""",
    "updateBusiness": """mutation($org: ID!) { updateBusiness(input: {organizationId: $org,
        name: "Renamed"}) { organization { name } } }""",
    "addPerson": """mutation($org: ID!) { addPerson(input: {organizationId: $org,
        email: "x@example.com", role: VIEWER}) { invitation { id } } }""",
    "requestAccess": """mutation { requestAccess(input: {cersId: 10000001, role: VIEWER}) {
        accessRequest { id } } }""",
    "updateAgency": """mutation($agency: ID!) { updateAgency(input: {agencyId: $agency,
        phone: "1"}) { agency { phone } } }""",
    "setAnnualDueDate": """mutation($facility: ID!) { setAnnualDueDate(input: {facilityId:
        $facility, annualDueDate: "2027-01-01"}) { facility { annualDueDate } } }""",
}


async def close(app, user_id: str, sequence: int = 1) -> None:
    # helpers.activate calls the handler directly, so this is the first event of the
    # account that the inbox sees.
    gone = Envelope(
        type="identity.user.deactivated",
        aggregate_id=user_id,
        sequence=sequence,
        data={"user_id": user_id, "deactivated_at": "2026-06-01T13:00:00Z"},
    )
    async with app.db.transaction() as session:
        handle = dispatcher(app, IDENTITY_HANDLERS)
        assert await apply_once(session, EVENTS, "facility-identity", gone, handle) == (
            Outcome.APPLIED
        )


async def organizations(app) -> int:
    async with app.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Organization)) or 0)


async def test_every_mutation_family_refuses_a_closed_accounts_live_token(api, app):
    await activate(app, "vic", "vic@example.com")
    await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    created = await business(api, "vic", "1 Main St")
    ids = {
        "org": created["organization"]["id"],
        "facility": created["facility"]["id"],
        "agency": (await api('{ regulatorAgencies(county: "Plumas") { id } }'))["data"][
            "regulatorAgencies"
        ][0]["id"],
    }
    await close(app, "vic")
    await close(app, "pat")
    before = await organizations(app)
    for name, mutation in MUTATIONS.items():
        variables = {k: v for k, v in ids.items() if f"${k}" in mutation}
        if name == "createBusiness":
            variables = {"name": "After", "street": "5 Oak St", "county": "Plumas"}
        for caller, portal in (("vic", "business"), ("pat", "regulator")):
            answer = await api(mutation, as_=caller, portal=portal, **variables)
            assert [e["extensions"]["code"] for e in answer["errors"]] == ["UNAUTHENTICATED"], (
                name,
                caller,
                answer,
            )
            assert "closed" in answer["errors"][0]["message"]
    # Reading is refused too, and nothing was written.
    mine = await api("{ myBusinesses { totalCount } }", as_="vic")
    assert mine["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await organizations(app) == before
    # Everyone else carries on.
    assert "errors" not in await api("{ myBusinesses { totalCount } }", as_="ann")
    assert (await business(api, "ann", "2 Main St"))["userErrors"] == []
