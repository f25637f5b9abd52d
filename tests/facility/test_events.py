from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime

import nats
from sqlalchemy import func, select

from common.contracts.facility import EVENT_MODELS
from common.events.consumer import Outcome, apply_once
from common.events.envelope import Envelope
from services.facility.adapters.tables import (
    EVENTS,
    Facility,
    KnownUser,
    Membership,
    OutgoingMail,
)
from services.facility.service_layer import compliance
from services.facility.worker import (
    IDENTITY_HANDLERS,
    SUBMITTAL_HANDLERS,
    Worker,
    clear_read_model,
    dispatcher,
)

from .helpers import activate, agency, business

STATUS = "query($id: ID!) { facility(id: $id) { annualDueDate lastAnnualUpdateAt complianceStatus updateRequiredReasons { reason dueBy } } }"  # noqa: E501


HISTORY = """query($id: ID!) { facility(id: $id) {
  history { action changes actor { id } systemActor { kind name } } } }"""


def submittal(type_: str, facility_id: str, sequence: int, **data) -> Envelope:
    """A submittal event as common.contracts.submittal describes it."""
    base = {"facility_id": facility_id, "organization_id": "org", "element_id": f"e{sequence}"}
    if type_ == "submittal.hmbp.certified":
        base |= {"kind": "SUBMISSION", "certified_by": "dana", "element_ids": []}
    elif type_ == "submittal.element.submitted":
        base |= {
            "change_from_previous": "HAS_CHANGES",
            "submitted_by": "dana",
            "submitted_at": "2026-06-01T12:00:00Z",
        }
    else:
        base |= {
            "reviewed_by": "pat",
            "reviewed_at": "2026-06-01T12:00:00Z",
            "agency_id": None,
            "comments": None,
        }
    return Envelope(
        type=type_,
        aggregate_id=facility_id,
        sequence=sequence,
        actor="dana",
        data={**base, **data},
    )


async def apply(app, envelope: Envelope, consumer: str = "facility-submittal") -> Outcome:
    handlers = {**IDENTITY_HANDLERS, **SUBMITTAL_HANDLERS}
    async with app.db.transaction() as session:
        return await apply_once(session, EVENTS, consumer, envelope, dispatcher(app, handlers))


async def status(api, fid):
    return (await api(STATUS, as_="ann", id=fid))["data"]["facility"]


async def test_compliance_moves_through_due_soon_and_overdue_and_certification_restores_it(
    api, app, clock
):
    fid = (await business(api, "ann", "1 Main St"))["facility"]["id"]
    assert (await status(api, fid))["complianceStatus"] == "CURRENT"
    clock.now = datetime(2027, 2, 10, tzinfo=UTC)
    assert (await status(api, fid))["complianceStatus"] == "DUE_SOON"
    clock.now = datetime(2027, 3, 2, tzinfo=UTC)
    assert (await status(api, fid))["complianceStatus"] == "OVERDUE"
    certified = submittal(
        "submittal.hmbp.certified", fid, 1, certified_at="2027-03-05T10:00:00+00:00"
    )
    assert await apply(app, certified) is Outcome.APPLIED
    after = await status(api, fid)
    assert after["complianceStatus"] == "CURRENT"
    assert after["annualDueDate"] == "2028-03-01"
    assert after["lastAnnualUpdateAt"].startswith("2027-03-05")


async def test_a_second_certification_and_one_before_the_next_cycle_opens_move_nothing(
    api, app, clock
):
    fid = (await business(api, "ann", "1 Main St"))["facility"]["id"]
    clock.now = datetime(2027, 2, 1, tzinfo=UTC)
    await apply(
        app, submittal("submittal.hmbp.certified", fid, 1, certified_at="2027-02-01T00:00:00+00:00")
    )
    await apply(
        app, submittal("submittal.hmbp.certified", fid, 2, certified_at="2027-02-20T00:00:00+00:00")
    )
    assert (await status(api, fid))["annualDueDate"] == "2028-03-01"
    # The 2028 cycle opens 90 days before 2028-03-01, on 2027-12-02.
    await apply(
        app, submittal("submittal.hmbp.certified", fid, 3, certified_at="2027-08-15T00:00:00+00:00")
    )
    assert (await status(api, fid))["annualDueDate"] == "2028-03-01"
    await apply(
        app, submittal("submittal.hmbp.certified", fid, 4, certified_at="2027-12-02T08:00:00+00:00")
    )
    assert (await status(api, fid))["annualDueDate"] == "2029-03-01"
    history = await api(HISTORY, as_="ann", id=fid)
    certified = [
        e for e in history["data"]["facility"]["history"] if e["action"] == "HMBP_CERTIFIED"
    ]
    assert [e["changes"]["moved"] for e in certified] == [True, False, False, True]
    assert all(e["changes"]["cycle_opens_on"] for e in certified)


async def test_a_late_certification_and_another_seconds_later_do_not_skip_a_year(api, app, clock):
    # Issue 15: an overdue facility due 2026-11-28, certified twice on 2026-12-01.
    await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    fid = (await business(api, "ann", "1 Main St"))["facility"]["id"]
    set_due = """mutation($id: ID!) { setAnnualDueDate(input: {facilityId: $id,
      annualDueDate: "2026-11-28"}) { userErrors { code } } }"""
    assert "errors" not in await api(set_due, as_="pat", portal="regulator", id=fid)
    clock.now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert (await status(api, fid))["complianceStatus"] == "OVERDUE"
    for sequence, at in ((1, "2026-12-01T09:00:00+00:00"), (2, "2026-12-01T09:00:05+00:00")):
        certified = submittal("submittal.hmbp.certified", fid, sequence, certified_at=at)
        assert await apply(app, certified) is Outcome.APPLIED
    after = await status(api, fid)
    assert (after["annualDueDate"], after["complianceStatus"]) == ("2027-11-28", "CURRENT")


async def test_an_agency_sets_how_early_a_cycle_opens(api, app, clock):
    await agency(app, "Plumas County Environmental Health", "Plumas", "pat")
    fid = (await business(api, "ann", "1 Main St"))["facility"]["id"]
    agency_id = (await api('{ regulatorAgencies(county: "Plumas") { id } }'))["data"][
        "regulatorAgencies"
    ][0]["id"]
    window = """mutation($id: ID!, $days: Int) { updateAgency(input: {agencyId: $id,
      certificationWindowDays: $days}) { agency { certificationWindowDays }
      userErrors { field code } } }"""
    answer = await api(window, as_="pat", portal="regulator", id=agency_id, days=180)
    assert answer["data"]["updateAgency"]["agency"] == {"certificationWindowDays": 180}
    opens = "query($id: ID!) { facility(id: $id) { annualDueDate certificationOpensOn } }"
    seen = (await api(opens, as_="ann", id=fid))["data"]["facility"]
    assert seen == {"annualDueDate": "2027-03-01", "certificationOpensOn": "2026-09-02"}
    # On 2026-09-10 the cycle is open with the agency's 180 days (it would not be with 90).
    certified = submittal("submittal.hmbp.certified", fid, 1, certified_at="2026-09-10T00:00:00Z")
    assert await apply(app, certified) is Outcome.APPLIED
    assert (await status(api, fid))["annualDueDate"] == "2028-03-01"
    for days in (0, 181):
        refused = await api(window, as_="pat", portal="regulator", id=agency_id, days=days)
        assert refused["data"]["updateAgency"]["userErrors"] == [
            {"field": ["certificationWindowDays"], "code": "BAD_USER_INPUT"}
        ]


async def test_events_delivered_twice_or_out_of_order_apply_once_in_order(api, app):
    fid = (await business(api, "ann", "1 Main St"))["facility"]["id"]
    second = submittal("submittal.hmbp.certified", fid, 2, certified_at="2026-12-15T00:00:00Z")
    assert await apply(app, second) is Outcome.HELD
    assert await apply(app, second) is Outcome.HELD
    first = submittal("submittal.hmbp.certified", fid, 1, certified_at="2026-12-10T00:00:00Z")
    assert await apply(app, first) is Outcome.APPLIED  # and the held second one right after
    assert await apply(app, second) is Outcome.DUPLICATE
    assert await apply(app, first) is Outcome.DUPLICATE
    # Certified once, for the cycle due 2027-03-01: moved one year, not two.
    assert (await status(api, fid))["annualDueDate"] == "2028-03-01"


async def test_a_deactivation_is_not_undone_by_a_redelivered_activation(api, app):
    activated = Envelope(
        type="identity.user.activated",
        aggregate_id="vic",
        sequence=1,
        data={
            "user_id": "vic",
            "username": "vic",
            "portal": "business",
            "email": "vic@example.com",
            "first_name": "V",
            "last_name": "C",
            "activated_at": "2026-06-01T00:00:00Z",
        },
    )
    assert await apply(app, activated, "facility-identity") is Outcome.APPLIED
    created = await business(api, "vic", "1 Main St")
    gone = Envelope(
        type="identity.user.deactivated",
        aggregate_id="vic",
        sequence=2,
        data={"user_id": "vic", "deactivated_at": "2026-06-02T00:00:00Z"},
    )
    assert await apply(app, gone, "facility-identity") is Outcome.APPLIED
    assert await apply(app, activated, "facility-identity") is Outcome.DUPLICATE
    async with app.db.read() as session:
        assert (await session.get(KnownUser, "vic")).active is False
        membership = select(Membership).where(Membership.user_id == "vic")
        assert (await session.execute(membership)).first() is None
    # Its tokens are refused outright.
    query = "query($id: ID!) { organization(id: $id) { name } }"
    refused = await api(query, as_="vic", id=created["organization"]["id"])
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_rejected_element_requires_a_correction_until_it_is_submitted_again(api, app):
    fid = (await business(api, "ann", "1 Main St"))["facility"]["id"]
    await activate(app, "ann", "ann@example.com")
    reviewed = submittal(
        "submittal.element.reviewed",
        fid,
        1,
        element="HAZARDOUS_MATERIALS_INVENTORY",
        action="NOT_ACCEPT",
        comments="Diesel maximum is missing.",
    )
    await apply(app, reviewed)
    now = await status(api, fid)
    assert now["complianceStatus"] == "UPDATE_REQUIRED"
    assert now["updateRequiredReasons"] == [{"reason": "CORRECTION", "dueBy": "2026-07-01"}]
    await apply(
        app,
        submittal(
            "submittal.element.submitted",
            fid,
            2,
            element="FACILITY_INFORMATION",
            change_class="NO_CHANGES",
        ),
    )
    assert (await status(api, fid))["complianceStatus"] == "UPDATE_REQUIRED"
    await apply(
        app,
        submittal(
            "submittal.element.submitted",
            fid,
            3,
            element="HAZARDOUS_MATERIALS_INVENTORY",
            change_class="SIGNIFICANT",
        ),
    )
    assert (await status(api, fid))["complianceStatus"] == "CURRENT"


async def test_facility_information_clears_the_edit_reasons_and_updates_the_record(api, app):
    fid = (await business(api, "ann", "1 Main St"))["facility"]["id"]
    rename = (
        'mutation($id: ID!) { updateFacility(input: {facilityId: $id, name: "N"}) { changes } }'
    )
    await api(rename, as_="ann", id=fid)
    await apply(
        app,
        submittal(
            "submittal.element.submitted",
            fid,
            1,
            element="FACILITY_INFORMATION",
            facility_information={
                "owner_operator": {"owner_name": "Ann Lee"},
                "contacts": {"environmental": {"name": "Ann", "phone_24_hour": "530-555-0101"}},
            },
        ),
    )
    assert (await status(api, fid))["complianceStatus"] == "CURRENT"
    query = """query($id: ID!) { facility(id: $id) { ownerOperator { ownerName }
      contacts { environmental { name phone24h } } } }"""
    facility = (await api(query, as_="ann", id=fid))["data"]["facility"]
    assert facility["ownerOperator"]["ownerName"] == "Ann Lee"
    assert facility["contacts"]["environmental"] == {"name": "Ann", "phone24h": "530-555-0101"}


async def test_reminders_go_to_lead_users_once_per_cycle(api, app, clock):
    await activate(app, "ann", "ann@example.com")
    await business(api, "ann", "1 Main St")
    assert await compliance.send_reminders(app) == 0
    clock.now = datetime(2027, 2, 10, tzinfo=UTC)
    assert await compliance.send_reminders(app) == 1
    assert await compliance.send_reminders(app) == 0
    clock.now = datetime(2027, 3, 3, tzinfo=UTC)
    assert await compliance.send_reminders(app) == 1
    assert await compliance.send_reminders(app) == 0
    async with app.db.read() as session:
        mails = list((await session.execute(select(OutgoingMail))).scalars())
    reminders = [m for m in mails if m.subject.startswith("Annual update")]
    assert [m.recipients for m in reminders] == [["ann@example.com"]] * 2


async def test_every_outbox_event_matches_its_published_contract(api, app):
    await activate(app, "ann", "ann@example.com")
    created = await business(api, "ann", "1 Main St")
    rename = (
        'mutation($id: ID!) { updateFacility(input: {facilityId: $id, name: "N"}) { changes } }'
    )
    await api(rename, as_="ann", id=created["facility"]["id"])
    async with app.db.read() as session:
        rows = (
            await session.execute(select(EVENTS.outbox).order_by(EVENTS.outbox.c.position))
        ).all()
    types = []
    for row in rows:
        envelope = Envelope.from_json(row.payload)
        EVENT_MODELS[envelope.type].model_validate(envelope.data)
        types.append(envelope.type)
    assert types == [
        "facility.organization.created",
        "facility.membership.granted",
        "facility.facility.created",
        "facility.facility.updated",
    ]
    updated = json.loads(rows[-1].payload)["data"]
    assert updated["changes"] == ["NAME"] and updated["facility"]["record"]["name"] == "N"


async def test_the_worker_consumes_identity_events_and_publishes_facility_events_over_nats(
    api, app, settings, nats_server
):
    settings = dataclasses.replace(settings, nats_url=nats_server.url, outbox_poll_seconds=0.05)
    worker = Worker(app, settings)
    await worker.start()
    try:
        await business(api, "ann", "1 Main St")
        client = await nats.connect(nats_server.url)
        js = client.jetstream()
        for _ in range(200):
            try:
                await js.stream_info("IDENTITY")
                break
            except Exception:  # noqa: BLE001 - the worker creates the streams once connected
                await asyncio.sleep(0.05)
        activated = Envelope(
            type="identity.user.activated",
            aggregate_id="zed",
            sequence=1,
            data={
                "user_id": "zed",
                "username": "zed",
                "portal": "business",
                "email": "zed@example.com",
                "first_name": "Z",
                "last_name": "D",
                "activated_at": "2026-06-01T00:00:00Z",
            },
        )
        await js.publish(
            activated.subject, activated.to_json(), headers={"Nats-Msg-Id": activated.id},
            timeout=30,
        )
        known = None
        for _ in range(200):
            async with app.db.read() as session:
                known = await session.get(KnownUser, "zed")
            if known is not None:
                break
            await asyncio.sleep(0.05)
        assert known is not None and known.email == "zed@example.com"
        await clear_read_model(app)
        await worker.bus.replay("facility-identity")
        for _ in range(200):
            async with app.db.read() as session:
                known = await session.get(KnownUser, "zed")
            if known is not None:
                break
            await asyncio.sleep(0.05)
        assert known is not None, "resync did not rebuild the account read model"
        sub = await js.pull_subscribe("facility.facility.created", durable=None)
        message = (await sub.fetch(1, timeout=10))[0]
        assert Envelope.from_json(message.data).data["facility"]["cers_id"] == 10000001
        await client.close()
    finally:
        await worker.stop()
    async with app.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Facility)) == 1


async def test_every_review_outcome_is_mailed_to_the_lead_users_and_the_submitter(api, app):
    created = await business(api, "ann", "1 Main St")
    fid, org = created["facility"]["id"], created["organization"]["id"]
    await activate(app, "ann", "ann@example.com")
    await activate(app, "ed", "ed@example.com")
    add = """mutation($org: ID!) { addPerson(input: {organizationId: $org,
      email: "ed@example.com", role: APPROVER}) { userErrors { code } } }"""
    assert "errors" not in await api(add, as_="ann", org=org)
    outcomes = (
        ("UNDER_REVIEW", None, "Under review: Hazardous Materials Inventory of Feather River"),
        ("ACCEPT", "Thank you.", "Accepted: Hazardous Materials Inventory of Feather River"),
        ("NOT_ACCEPT", "Diesel maximum is missing.", "Correction needed: Hazardous Materials"),
    )
    for sequence, (action, comments, _) in enumerate(outcomes, start=1):
        reviewed = submittal(
            "submittal.element.reviewed",
            fid,
            sequence,
            element="HAZARDOUS_MATERIALS_INVENTORY",
            element_id="element-7",
            action=action,
            comments=comments,
            submitted_by="ed",
        )
        assert await apply(app, reviewed) is Outcome.APPLIED
    async with app.db.read() as session:
        mails = list((await session.execute(select(OutgoingMail))).scalars())
    reviews = [m for m in mails if "Hazardous Materials Inventory of" in m.subject]
    assert len(reviews) == 3
    for _action, comments, subject in outcomes:
        [mail] = [m for m in reviews if m.subject.startswith(subject)]
        assert mail.recipients == ["ann@example.com", "ed@example.com"]
        assert (comments or "(no comments)") in mail.body
        assert "http://127.0.0.1:8000/elements/element-7" in mail.body
    [correction] = [m for m in reviews if m.subject.startswith("Correction needed")]
    assert "Submit a corrected Hazardous Materials Inventory by 2026-07-01" in correction.body
    history = (await api(HISTORY, as_="ann", id=fid))["data"]["facility"]["history"]
    assert [(e["action"], e["changes"]["action"], e["actor"]) for e in history[1:]] == [
        ("ELEMENT_REVIEWED", "UNDER_REVIEW", {"id": "pat"}),
        ("ELEMENT_REVIEWED", "ACCEPT", {"id": "pat"}),
        ("CORRECTION_REQUIRED", "NOT_ACCEPT", {"id": "pat"}),
    ]
