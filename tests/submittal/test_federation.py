from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

from services.submittal.graphql.schema import schema
from tests.submittal.conftest import World
from tests.submittal.flows import SUBMIT, draft_hmbp, ok

FACILITIES = """query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Facility {
  id submittalElements(status: SUBMITTED) { id element }
  drafts { id } currentHmbp { hazardousMaterialsInventory { id } } } } }"""
ELEMENTS = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on SubmittalElement { id element facility { id } } } }"""


def test_the_committed_sdl_is_current():
    committed = Path("services/submittal/schema.graphql").read_text()
    assert committed == schema.as_str() + "\n", "run `python -m services.submittal schema`"


def test_the_subgraph_pins_federation_2_9_and_declares_its_entities():
    sdl = schema.as_str()
    assert 'url: "https://specs.apollo.dev/federation/v2.9"' in sdl
    assert 'type SubmittalElement @key(fields: "id")' in sdl
    assert 'type Facility @key(fields: "id")' in sdl


async def test_facility_fields_load_in_batches_without_n_plus_1(world: World):
    h = world.h
    await draft_hmbp(h, world.t("editor"), world.facility)
    ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    await draft_hmbp(h, world.t("outsider"), world.other_facility)
    ok(await h.gql(SUBMIT, world.t("outsider"), f=world.other_facility), "submitDrafts")
    token = h.token("state-reader", "state")
    reps = [{"__typename": "Facility", "id": f} for f in (world.facility, world.other_facility)]

    statements: list[str] = []

    def count(*args) -> None:
        # Only our own reads: the outbox relay polls on the same engine meanwhile.
        if "FROM elements" in args[2] or "FROM rm_" in args[2]:
            statements.append(args[2])

    engine = h.deps.db.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        few = ok(await h.gql(FACILITIES, token, reps=reps[:1]), "_entities")
        first = len(statements)
        many = ok(await h.gql(FACILITIES, token, reps=reps * 3), "_entities")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) - first == first  # six facilities cost what one does
    assert len(few[0]["submittalElements"]) == 3
    assert [len(f["submittalElements"]) for f in many] == [3] * 6
    assert all(f["drafts"] == [] and f["currentHmbp"]["hazardousMaterialsInventory"]
               for f in many)

    ids = [e["id"] for e in few[0]["submittalElements"]]
    resolved = ok(await h.gql(ELEMENTS, world.t("inspector"), reps=[
        {"__typename": "SubmittalElement", "id": i} for i in ids]), "_entities")
    assert [r["id"] for r in resolved] == ids
    hidden = ok(await h.gql(ELEMENTS, world.t("other-inspector"), reps=[
        {"__typename": "SubmittalElement", "id": ids[0]}]), "_entities")
    assert hidden == [None]
