from __future__ import annotations

from services.submittal.seed import DEMO_BUSINESS
from tests.submittal.conftest import Harness
from tests.submittal.flows import ok, outbox

HMBP = """query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Facility {
  currentHmbp { facilityInformation { submittedBy { id } createdBy { id }
      validation { field code severity } }
    hazardousMaterialsInventory { hazardousMaterials(first: 100) { totalCount }
      validation { code severity } }
    emergencyResponseTrainingPlans { validation { code } } } } } }"""


async def test_only_the_demo_datasets_own_facilities_get_an_hmbp_submitted_by_their_maker(
    harness: Harness,
):
    from services.submittal.adapters.read_model import ReadModelConsumer
    from services.submittal.seed import seed_facility

    h = harness
    # The harness app runs without DEMO; give its consumer the seed hook as DEMO=1 does.
    consumer = h.app.state.bus.consumers["submittal-facility"].subscription.handler
    assert isinstance(consumer, ReadModelConsumer)
    consumer.on_facility_created = seed_facility
    demo = await h.business(DEMO_BUSINESS)
    other = await h.business("Somebody Else")
    demo_facility = await h.facility(demo, None, name="Feather River Fuel - Quincy", demo=True,
                                     created_by="demo-lead")
    # Added to the demo business later by a person: no made-up inventory.
    added = await h.facility(demo, None, name="Feather River Fuel - New Site",
                             created_by="demo-lead")
    other_facility = await h.facility(other, None)
    await h.member(demo, "demo-lead", "LEAD_USER")
    await h.member(other, "other-lead", "LEAD_USER")
    await h.settle()

    body = await h.gql(HMBP, h.token("demo-lead"), reps=[
        {"__typename": "Facility", "id": demo_facility}])
    hmbp = ok(body, "_entities")[0]["currentHmbp"]
    inventory = hmbp["hazardousMaterialsInventory"]
    assert inventory["hazardousMaterials"]["totalCount"] >= 24
    for element in hmbp.values():
        assert [v for v in element["validation"] if v.get("severity") == "ERROR"] == []
    info = hmbp["facilityInformation"]
    assert info["submittedBy"] == info["createdBy"] == {"id": "demo-lead"}
    for facility, caller in ((added, "demo-lead"), (other_facility, "other-lead")):
        body = await h.gql(HMBP, h.token(caller), reps=[
            {"__typename": "Facility", "id": facility}])
        assert ok(body, "_entities")[0]["currentHmbp"] is None
    events = await outbox(h)
    assert [e["type"] for e in events][-1] == "submittal.hmbp.certified"
    assert {e["data"]["facility_id"] for e in events} == {demo_facility}
    assert {e["actor"] for e in events} == {"demo-lead"}
