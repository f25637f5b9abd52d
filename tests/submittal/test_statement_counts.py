"""The SQL a hot read of the submittal service sends, counted around real requests: one
element, and the facility's elements as the portal's Facility page reads them."""

from __future__ import annotations

from tests.statements import counting
from tests.submittal.conftest import World
from tests.submittal.flows import START

ELEMENT = """query($id: ID!) { submittalElement(id: $id) { id element status updatedAt } }"""
FACILITY_ELEMENTS = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Facility {
  submittalElements { id element status submittedAt changeFromPrevious noChangeCertification
    submittedBy { id } review { action comments reviewedAt reviewer { id } } }
  drafts { id element status updatedAt basedOn validation { severity } } } } }"""


async def test_one_element_and_a_facilitys_elements_read_a_fixed_number_of_statements(
    world: World,
) -> None:
    h, token = world.h, world.t("editor")
    started = await h.gql(START, token, f=world.facility, e="FACILITY_INFORMATION", b="BLANK")
    element = started["data"]["startSubmittal"]["element"]["id"]
    db = h.app.state.deps.db
    reps = [{"__typename": "Facility", "id": world.facility}]
    await h.gql(ELEMENT, token, id=element)
    await h.gql(FACILITY_ELEMENTS, token, r=reps)

    with counting(db) as counted:
        answer = await h.gql(ELEMENT, token, id=element)
    assert answer["data"]["submittalElement"]["id"] == element, answer
    assert counted.checkouts == 1, counted.sql
    # closed account? with the caller's memberships and staff roles (one statement), the
    # element with its facility
    assert len(counted.queries) == 2, counted.sql

    with counting(db) as counted:
        answer = await h.gql(FACILITY_ELEMENTS, token, r=reps)
    assert answer["data"]["_entities"][0]["drafts"][0]["id"] == element, answer
    assert counted.checkouts == 1, counted.sql
    # closed account? with memberships and staff roles, the facility, its current elements,
    # its drafts
    assert len(counted.queries) == 4, counted.sql

    # Another business's editor reads nothing of it.
    outsider = await h.gql(ELEMENT, world.t("outsider"), id=element)
    assert outsider["data"]["submittalElement"] is None or outsider.get("errors")
