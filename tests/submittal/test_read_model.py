from __future__ import annotations

import uuid

from sqlalchemy import func, select

from common.events import Envelope
from services.submittal.adapters.tables import Element, MembershipView
from services.submittal.worker import FACILITY_DURABLE
from tests.submittal.conftest import Harness, World, eventually, snapshot
from tests.submittal.flows import ELEMENT, START, SUBMIT, code, draft_hmbp, ok, start

PREFILL = """mutation($f: ID!) { startSubmittal(input: {facilityId: $f,
  element: FACILITY_INFORMATION, basedOn: BLANK}) { element { facilityInformation {
  businessActivities { businessName } ownerOperator { ownerName } } } } }"""


async def memberships(h: Harness, org: str) -> dict[str, str]:
    async with h.deps.db.read() as session:
        rows = await session.execute(select(MembershipView.user_id, MembershipView.role).where(
            MembershipView.organization_id == org))
        return {r[0]: r[1] for r in rows}


async def test_redelivered_and_out_of_order_facility_events_are_applied_once(world: World):
    h = world.h
    aggregate = f"{world.org}:newbie"
    granted = await h.publish("facility.membership.granted", aggregate,
                              {"organization_id": world.org, "user_id": "newbie",
                               "role": "EDITOR"})
    revoked = await h.publish("facility.membership.revoked", aggregate,
                              {"organization_id": world.org, "user_id": "newbie"})
    # The same events again, as a redelivery past JetStream's duplicate window would bring.
    await h.publish("", "", {}, envelope=granted, msg_id=str(uuid.uuid4()))
    await h.publish("", "", {}, envelope=revoked, msg_id=str(uuid.uuid4()))
    # An older event of the aggregate that was never applied arrives late: still ignored.
    stale = Envelope(type="facility.membership.granted", aggregate_id=aggregate,
                     sequence=revoked.sequence - 1,
                     data={"organization_id": world.org, "user_id": "newbie", "role": "LEAD_USER"})
    await h.publish("", "", {}, envelope=stale)
    await h.member(world.org, "marker", "VIEWER")
    await h.settle()
    assert "newbie" not in await memberships(h, world.org)
    started = await h.gql(START, h.token("newbie"), f=world.facility, e="UST", b="BLANK")
    assert code(started) == "NOT_FOUND"


async def test_an_unknown_facility_reads_as_not_found(world: World):
    body = await world.h.gql(START, world.t("editor"), f=str(uuid.uuid4()), e="UST", b="BLANK")
    assert code(body) == "NOT_FOUND"


async def test_facility_updates_refresh_the_prefill_record(world: World):
    h = world.h
    updated = snapshot(world.facility, world.org, world.agency, name="Acme Fuel North",
                       owner_operator={"owner_name": "Acme Holdings"})
    await h.publish("facility.facility.updated", world.facility, {
        "facility": updated.model_dump(mode="json"), "changes": ["NAME", "OWNERSHIP"]})
    await h.settle()
    body = await h.gql(PREFILL, world.t("editor"), f=world.facility)
    info = ok(body, "startSubmittal")["element"]["facilityInformation"]
    assert info["businessActivities"]["businessName"] == "Acme Fuel North"
    assert info["ownerOperator"]["ownerName"] == "Acme Holdings"


async def test_a_transfer_discards_open_drafts_and_the_new_owner_sees_the_history(
    world: World,
):
    h = world.h
    await draft_hmbp(h, world.t("editor"), world.facility)
    submitted = ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    history = submitted["elements"][0]["id"]
    draft = await start(h, world.t("editor"), world.facility, "UST")
    moved = snapshot(world.facility, world.other_org, world.agency)
    await h.publish("facility.facility.transferred", world.facility, {
        "facility": moved.model_dump(mode="json"), "from_organization_id": world.org,
        "to_organization_id": world.other_org})
    await h.settle()
    async with h.deps.db.read() as session:
        drafts = await session.execute(select(func.count()).select_from(Element).where(
            Element.facility_id == world.facility, Element.status == "DRAFT"))
        assert drafts.scalar_one() == 0
    assert ok(await h.gql(ELEMENT, world.t("outsider"), id=history), "submittalElement")
    assert ok(await h.gql(ELEMENT, world.t("outsider"), id=draft), "submittalElement") is None
    assert ok(await h.gql(ELEMENT, world.t("editor"), id=history), "submittalElement") is None


async def test_revoked_staff_lose_review_rights(world: World):
    h = world.h
    await h.publish("facility.staff.revoked", f"{world.agency}:inspector",
                    {"agency_id": world.agency, "user_id": "inspector"})
    await h.settle()
    ids = await draft_hmbp(h, world.t("editor"), world.facility)
    ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    element = ids["FACILITY_INFORMATION"]
    assert ok(await h.gql(ELEMENT, world.t("inspector"), id=element), "submittalElement") is None


async def test_a_stale_read_model_answers_unavailable(harness: Harness, tmp_path):
    h = harness
    org = await h.business()
    facility = await h.facility(org, None)
    await h.member(org, "editor", "EDITOR")
    await h.settle()
    bus = h.app.state.bus
    bus.max_lag_seconds = 0.0
    await bus.connection.close()  # NATS unreachable: the consumer cannot be caught up
    body = await h.gql(START, h.token("editor"), f=facility, e="UST", b="BLANK")
    assert code(body) == "UNAVAILABLE"


async def test_resync_rebuilds_the_read_model_from_the_first_facility_event(harness: Harness):
    from dataclasses import replace

    from sqlalchemy import delete

    from services.submittal.__main__ import resync
    from services.submittal.adapters.tables import FacilityView

    h = harness
    org = await h.business()
    facility = await h.facility(org, None)
    await h.member(org, "editor", "EDITOR")
    await h.settle()
    await h.app.state.bus.stop()  # the service is down while an operator resyncs
    async with h.deps.db.transaction() as session:
        await session.execute(delete(FacilityView))  # e.g. a restored, older database
    settings = replace(h.settings, outbox_poll_seconds=0.05)
    await resync(settings)
    async with h.deps.db.read() as session:
        assert await session.get(FacilityView, facility) is not None
    assert await memberships(h, org) == {"editor": "EDITOR"}


async def test_a_facility_whose_transfer_is_missing_is_unavailable_until_it_arrives(world: World):
    # The transfer was held by a crashed consumer; the new owner's rename arrived first. The
    # old owner must not act on the facility meanwhile, and the transfer must not be lost.
    h = world.h
    draft = await start(h, world.t("editor"), world.facility, "UST")
    transfer_sequence = h.sequences[world.facility] + 1
    h.sequences[world.facility] = transfer_sequence
    moved = snapshot(world.facility, world.other_org, world.agency)
    renamed = snapshot(world.facility, world.other_org, world.agency, name="Other Site #2")
    await h.publish("facility.facility.updated", world.facility, {
        "facility": renamed.model_dump(mode="json"), "changes": ["NAME"]})
    await eventually(lambda: held(h, world.facility), what="the rename held behind the gap")

    for user in ("editor", "outsider"):
        body = await h.gql(START, world.t(user), f=world.facility, e="APSA", b="BLANK")
        assert code(body) == "UNAVAILABLE", (user, body)
    body = await h.gql(ELEMENT, world.t("editor"), id=draft)
    assert code(body) == "UNAVAILABLE", body

    transferred = Envelope(type="facility.facility.transferred", aggregate_id=world.facility,
                           sequence=transfer_sequence, data={
                               "facility": moved.model_dump(mode="json"),
                               "from_organization_id": world.org,
                               "to_organization_id": world.other_org})
    await h.publish("", "", {}, envelope=transferred)
    await eventually(lambda: not h.app.state.bus.consumers[FACILITY_DURABLE].held,
                     what="nothing held once the transfer arrived")
    # Both applied, in order: the old owner's draft is gone, the new owner has the new name.
    for user in ("editor", "outsider"):
        assert (await h.gql(ELEMENT, world.t(user), id=draft))["data"] == {
            "submittalElement": None}
    async with h.deps.db.read() as session:
        assert await session.get(Element, draft) is None
    started = ok(await h.gql(PREFILL, world.t("outsider"), f=world.facility), "startSubmittal")
    assert started["element"]["facilityInformation"]["businessActivities"]["businessName"] == (
        "Other Site #2")


async def held(h: Harness, aggregate: str) -> bool:
    return not h.deps.fresh(aggregate)
