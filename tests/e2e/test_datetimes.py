"""Every DateTime of the schema reads back as ISO 8601 in UTC with an explicit offset."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    get_named_type,
)

from gateway.supergraph import load_supergraph
from tests.e2e import client
from tests.e2e.conftest import DEMO_BUSINESS, DEMO_REGULATOR, Actors
from tests.e2e.journeys import (
    ISSUE_PERMIT,
    demo_facility,
    in_a_year,
    save,
    start_draft,
    submit,
)
from tests.e2e.system import ROOT, RunningSystem, eventually

UTC_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00$")
SCHEMA = load_supergraph((ROOT / "gateway" / "supergraph.graphql").read_text()).api_schema

ME = "{ me { createdAt } }"
BUSINESS = """query($org: ID!, $id: ID!) {
  organization(id: $org) {
    people { grantedAt }
    invitations { expiresAt }
    accessRequests { createdAt }
  }
  facility(id: $id) {
    updatedAt lastAnnualUpdateAt
    updateRequiredReasons { raisedAt }
    permits { issuedAt }
    history { at }
    submittalElements { createdAt updatedAt submittedAt review { reviewedAt } }
    drafts { createdAt updatedAt }
  }
}"""
DEMO = "query($id: ID!) { facility(id: $id) { lastAnnualUpdateAt updatedAt } }"
STAFF = '{ regulatorAgencies(county: "Plumas") { staff { grantedAt } } }'
HMBP = "query($id: ID!) { facility(id: $id) { currentHmbp { facilityInformation { data } } } }"
ADD_PERSON = """mutation($i: AddPersonInput!) { addPerson(input: $i) {
  invitation { expiresAt } userErrors { code message } } }"""
REQUEST = """mutation($i: RequestAccessInput!) { requestAccess(input: $i) {
  accessRequest { createdAt } userErrors { code message } } }"""
REVIEW = """mutation($i: ReviewSubmittalElementInput!) { reviewSubmittalElement(input: $i) {
  element { review { reviewedAt } } userErrors { code message } } }"""
RENAME = """mutation($i: UpdateFacilityInput!) { updateFacility(input: $i) {
  facility { updatedAt updateRequiredReasons { raisedAt } } userErrors { code message } } }"""
SEARCH = """{ hazardousMaterialSearch(filter: {counties: ["Plumas"]}, first: 5) {
  edges { node { inventorySubmittedAt } } } }"""
SINCE = """query($since: DateTime) { facilities(filter: {updatedSince: $since}, first: 50) {
  edges { node { id updatedAt } } } }"""


def datetime_fields() -> set[tuple[str, str]]:
    # What subscriptions deliver is read (and its DateTimes checked) by tests/e2e/test_live.py
    # and the services' test_live.py.
    subscription = SCHEMA.subscription_type
    delivered = {get_named_type(f.type).name for f in subscription.fields.values()} if (
        subscription) else set()
    return {
        (name, field)
        for name, kind in SCHEMA.type_map.items()
        if isinstance(kind, GraphQLObjectType) and not name.startswith("__")
        and name not in delivered and kind is not subscription
        for field, definition in kind.fields.items()
        if get_named_type(definition.type).name == "DateTime"
    }


def collect(value: Any, kind: GraphQLOutputType, seen: dict[tuple[str, str], list[str]],
            owner: tuple[str, str] | None = None) -> None:
    """Walk an answer along the schema, keeping every DateTime value under its field."""
    if value is None:
        return
    if isinstance(kind, GraphQLNonNull):
        collect(value, kind.of_type, seen, owner)
    elif isinstance(kind, GraphQLList):
        for item in value:
            collect(item, kind.of_type, seen, owner)
    elif isinstance(kind, GraphQLObjectType):
        for key, item in value.items():
            collect(item, kind.fields[key].type, seen, (kind.name, key))
    elif get_named_type(kind).name == "DateTime":
        assert owner is not None
        seen.setdefault(owner, []).append(value)


def read(actors: Actors, seen: dict[tuple[str, str], list[str]], caller: str, query: str,
         variables: dict[str, Any] | None = None) -> dict[str, Any]:
    data = client.data(actors.gql(caller, query, variables))
    root = SCHEMA.query_type
    assert root is not None
    collect(data, root, seen)
    return data


def test_every_datetime_field_of_the_schema_answers_utc_with_an_offset(
    system: RunningSystem, actors: Actors
) -> None:
    actors.register("tia.times", first="Tia", last="Times")
    actors.register("ugo.times", first="Ugo", last="Times")
    created = actors.business("tia.times", f"Timely Tire {actors.suffix}", city="Quincy")
    org, facility = created["organization"]["id"], created["facility"]
    # A permit, an invitation, an access request, a submission and its review, an edit.
    client.payload(actors.gql(DEMO_REGULATOR[0], ISSUE_PERMIT, {"input": {
        "facilityId": facility["id"], "expiresAt": in_a_year()}}), "issuePermit")
    client.payload(actors.gql("tia.times", ADD_PERSON, {"i": {
        "organizationId": org, "email": actors.email("val.times"), "role": "VIEWER"}}),
        "addPerson")
    eventually(lambda: not client.data(actors.gql("ugo.times", REQUEST, {"i": {
        "cersId": facility["cersId"], "requestedRole": "VIEWER"}}))["requestAccess"][
        "userErrors"], timeout=30)
    quincy = demo_facility(actors, "Quincy")
    demo_info = client.data(actors.gql(DEMO_BUSINESS[0], HMBP, {"id": quincy["id"]}))
    info = start_draft(actors, "tia.times", facility["id"], "FACILITY_INFORMATION")
    save(actors, "tia.times", info["id"],
         demo_info["facility"]["currentHmbp"]["facilityInformation"]["data"])
    [submitted] = submit(actors, "tia.times", facility["id"])
    client.payload(actors.gql(DEMO_REGULATOR[0], REVIEW, {"i": {
        "id": submitted["id"], "action": "UNDER_REVIEW"}}), "reviewSubmittalElement")
    start_draft(actors, "tia.times", facility["id"], "EMERGENCY_RESPONSE_TRAINING_PLANS")
    renamed = client.payload(actors.gql("tia.times", RENAME, {"i": {
        "facilityId": facility["id"], "name": f"Timely Tires {actors.suffix}"}}),
        "updateFacility")

    # Everything read back, through the gateway, by the people who may see it.
    seen: dict[tuple[str, str], list[str]] = {}
    read(actors, seen, "tia.times", ME)
    read(actors, seen, "tia.times", BUSINESS, {"org": org, "id": facility["id"]})
    read(actors, seen, DEMO_BUSINESS[0], DEMO, {"id": quincy["id"]})
    read(actors, seen, DEMO_REGULATOR[0], STAFF)
    read(actors, seen, DEMO_REGULATOR[0], SEARCH)

    missing = datetime_fields() - set(seen)
    assert not missing, f"no value read for {sorted(missing)}; extend this test"
    for (kind, field), values in sorted(seen.items()):
        for value in values:
            assert UTC_INSTANT.match(value), f"{kind}.{field} = {value!r}"

    # Mutation answers agree with what reads back, and an input in another zone is the same
    # instant: "updatedSince" one second before the last edit, written in Pacific time.
    updated = datetime.fromisoformat(renamed["facility"]["updatedAt"])
    assert renamed["facility"]["updatedAt"] in seen[("Facility", "updatedAt")]
    pacific = (updated - timedelta(seconds=1)).astimezone(timezone(timedelta(hours=-8)))
    since = client.data(actors.gql("tia.times", SINCE, {"since": pacific.isoformat()}))
    assert facility["id"] in [e["node"]["id"] for e in since["facilities"]["edges"]]
    later = (updated + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=-8)))
    since = client.data(actors.gql("tia.times", SINCE, {"since": later.isoformat()}))
    assert facility["id"] not in [e["node"]["id"] for e in since["facilities"]["edges"]]
