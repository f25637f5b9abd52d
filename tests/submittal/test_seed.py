from __future__ import annotations

from services.submittal.seed import DEMO_BUSINESS
from tests.submittal.conftest import Harness
from tests.submittal.flows import ok, outbox

HMBP = """query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Facility {
  currentHmbp { facilityInformation { validation { field code severity } }
    hazardousMaterialsInventory { hazardousMaterials(first: 100) { totalCount }
      validation { code severity } }
    emergencyResponseTrainingPlans { validation { code } } } } } }"""


async def test_demo_facilities_get_a_complete_submitted_hmbp(harness: Harness):
    from services.submittal.adapters.read_model import ReadModelConsumer
    from services.submittal.seed import seed_facility

    h = harness
    # The harness app runs without DEMO; give its consumer the seed hook as DEMO=1 does.
    consumer = h.app.state.bus.consumers["submittal-facility"].subscription.handler
    assert isinstance(consumer, ReadModelConsumer)
    consumer.on_facility_created = seed_facility
    demo = await h.business(DEMO_BUSINESS)
    other = await h.business("Somebody Else")
    demo_facility = await h.facility(demo, None, name="Feather River Fuel - Quincy")
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
    other_body = await h.gql(HMBP, h.token("other-lead"), reps=[
        {"__typename": "Facility", "id": other_facility}])
    assert ok(other_body, "_entities")[0]["currentHmbp"] is None
    assert [e["type"] for e in await outbox(h)][-1] == "submittal.hmbp.certified"
