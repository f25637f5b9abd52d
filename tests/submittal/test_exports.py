"""/exports: CSV and GeoJSON of a search, the change feed and the snapshot, over HTTP."""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
import math
from typing import Any

import pytest
from sqlalchemy import select

from common.contracts import facility as contract
from services.submittal.adapters.search_tables import FeedEntry, SearchAudit
from tests.submittal.conftest import Harness
from tests.submittal.flows import REVIEW, SUBMIT, ok, outbox, save, start
from tests.submittal.search_world import (
    AMMONIA,
    DIESEL,
    QUINCY,
    SITE_MAP,
    SearchWorld,
    build,
    facility_snapshot,
)


@pytest.fixture
async def w(harness: Harness) -> SearchWorld:
    return await build(harness)


async def get(w: SearchWorld, who: str | None, path: str, **params: Any) -> Any:
    headers = {"authorization": f"Bearer {w.token(who)}"} if who else {}
    return await w.h.client.get(path, params=params, headers=headers)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_the_csv_export_has_one_row_per_matching_material_in_the_callers_scope(
    w: SearchWorld,
):
    response = await get(w, "state", "/exports/search.csv", ehs="true")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    found = rows(response.text)
    assert [(r["cersId"], r["commonName"]) for r in found] == [
        ("10000001", "Anhydrous ammonia"), ("10000002", "Chlorine"),
        ("10000003", "Anhydrous ammonia"), ("10000004", "Sulfuric acid")]
    assert found[0]["county"] == "Plumas" and found[2]["county"] == "Los Angeles"
    assert float(found[0]["latitude"]) == QUINCY[0]
    assert response.headers["x-total-count"] == "4"
    regulator = rows((await get(w, "insp-la", "/exports/search.csv", ehs="true")).text)
    assert [r["cersId"] for r in regulator] == ["10000003"]


async def test_the_csv_export_withholds_trade_secrets_from_statewide_readers(w: SearchWorld):
    state = rows((await get(w, "state", "/exports/search.csv", counties="Plumas",
                            physicalStates="LIQUID", ehs="false")).text)
    secret = next(r for r in state if r["tradeSecret"] == "Y")
    assert (secret["commonName"], secret["chemicalName"], secret["casNumber"]) == (
        "WITHHELD", "WITHHELD", "")
    assert (await get(w, "state", "/exports/search.csv", casNumbers="67-64-1")).text.count(
        "\n") == 1  # the header alone: a secret is never found by its identity
    own = rows((await get(w, "lead", "/exports/search.csv", casNumbers="67-64-1")).text)
    assert own[0]["commonName"] == "Proprietary blend X"


async def test_a_cell_that_a_spreadsheet_would_run_as_a_formula_is_defused(w: SearchWorld):
    token, site = w.token("lead"), w.sites["quincy"]
    draft = await start(w.h, token, site.id, "HAZARDOUS_MATERIALS_INVENTORY")
    await save(w.h, token, draft, {"materials": [
        {**DIESEL, "commonName": '=HYPERLINK("http://evil.test","x")'}], "siteMap": SITE_MAP})
    ok(await w.h.gql(SUBMIT, token, f=site.id), "submitDrafts")
    found = rows((await get(w, "lead", "/exports/search.csv", casNumbers="68476-34-6")).text)
    assert found[0]["commonName"].startswith("'=HYPERLINK")


def check_rfc7946(document: dict[str, Any]) -> None:
    """The rules of RFC 7946 a GIS tool relies on, for a FeatureCollection of Points."""
    assert document["type"] == "FeatureCollection"
    assert "crs" not in document  # §4: no CRS member; coordinates are WGS 84
    assert isinstance(document["features"], list)
    for feature in document["features"]:
        assert feature["type"] == "Feature"  # §3.2
        assert set(feature) >= {"type", "geometry", "properties"}
        assert "id" not in feature or isinstance(feature["id"], str | int | float)
        assert feature["properties"] is None or isinstance(feature["properties"], dict)
        geometry = feature["geometry"]
        if geometry is None:
            continue
        assert geometry["type"] == "Point"
        position = geometry["coordinates"]  # §3.1.1: [longitude, latitude(, altitude)]
        assert isinstance(position, list) and 2 <= len(position) <= 3
        assert all(isinstance(n, int | float) and math.isfinite(n) for n in position)
        longitude, latitude = position[0], position[1]
        assert -180 <= longitude <= 180 and -90 <= latitude <= 90


async def test_the_geojson_export_follows_rfc_7946(w: SearchWorld):
    response = await get(w, "state", "/exports/search.geojson", ehs="true", sort="DISTANCE",
                         latitude=QUINCY[0], longitude=QUINCY[1], radiusMiles=250)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    document = response.json()
    check_rfc7946(document)
    features = document["features"]
    assert [f["properties"]["name"] for f in features] == ["quincy", "greenville", "portola"]
    # Longitude first: California's are negative, its latitudes positive.
    assert features[0]["geometry"]["coordinates"] == [QUINCY[1], QUINCY[0]]
    assert features[0]["properties"]["distanceMiles"] == 0
    assert features[0]["properties"]["materials"][0]["casNumber"] == "7664-41-7"
    empty = (await get(w, "state", "/exports/search.geojson", casNumbers="50-00-0")).json()
    check_rfc7946(empty)
    assert empty["features"] == []


async def test_a_facility_without_a_point_is_a_feature_with_a_null_geometry(w: SearchWorld):
    from tests.submittal.search_world import GASOLINE, add_site, submit

    site = await add_site(w, "no-point", w.org, w.plumas, "Plumas", 32, QUINCY)
    await w.h.settle()
    await submit(w, "lead", site, [GASOLINE])
    document = (await get(w, "lead", "/exports/search.geojson", casNumbers="86290-81-5")).json()
    check_rfc7946(document)
    geometries = {f["properties"]["name"]: f["geometry"] for f in document["features"]}
    assert geometries["no-point"] is None and geometries["portola"] is not None


async def test_exports_refuse_anonymous_callers_and_bad_filters(w: SearchWorld):
    assert (await get(w, None, "/exports/search.csv")).status_code == 401
    assert (await get(w, None, "/exports/feed")).status_code == 401
    assert (await get(w, None, "/exports/snapshot")).status_code == 401
    bad = await get(w, "state", "/exports/search.csv", casNumbers="7664-41-8")
    assert bad.status_code == 400 and "check digit" in bad.json()["error"]["message"]
    assert (await get(w, "state", "/exports/search.csv", latitude=39)).status_code == 400
    assert (await get(w, "state", "/exports/search.csv", ehs="maybe")).status_code == 400
    assert (await get(w, "state", "/exports/feed", after="nonsense")).status_code == 400
    assert (await get(w, "state", "/exports/feed", limit=0)).status_code == 400


async def read_feed(w: SearchWorld, who: str, after: str | None = None, limit: int = 1000
                    ) -> tuple[list[dict[str, Any]], str, bool]:
    params: dict[str, Any] = {"limit": limit}
    if after:
        params["after"] = after
    response = await get(w, who, "/exports/feed", **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    entries = [json.loads(line) for line in response.text.splitlines()]
    return (entries, response.headers["feed-cursor"],
            response.headers["feed-has-more"] == "true")


async def read_all(w: SearchWorld, who: str, after: str | None = None, limit: int = 1000
                   ) -> tuple[list[dict[str, Any]], str | None]:
    got: list[dict[str, Any]] = []
    while True:
        entries, after, more = await read_feed(w, who, after, limit)
        got += entries
        if not more:
            return got, after


async def test_the_feed_lists_submittal_events_and_facility_changes_in_order(w: SearchWorld):
    entries, _ = await read_all(w, "state")
    positions = [e["position"] for e in entries]
    assert positions == list(range(1, len(entries) + 1))
    types = {e["type"] for e in entries}
    assert {"facility.facility.created", "submittal.element.submitted"} <= types
    submitted = [e for e in entries if e["type"] == "submittal.element.submitted"]
    assert len(submitted) == 8  # four facilities, Facility Information and inventory each
    assert all(e["cursor"] and e["eventId"] and e["facilityId"] for e in entries)
    # Every event submittal published is in the feed exactly once.
    published = {e["id"] for e in await outbox(w.h)}
    in_feed = [e["eventId"] for e in entries if e["type"].startswith("submittal.")]
    assert sorted(in_feed) == sorted(published)


async def test_a_feed_reader_sees_its_scope_only(w: SearchWorld):
    la, _ = await read_all(w, "insp-la")
    assert {e["facilityId"] for e in la} == {w.sites["los-angeles"].id}
    other, _ = await read_all(w, "other-lead")
    assert {e["facilityId"] for e in other} == {w.sites["greenville"].id,
                                                w.sites["draft-only"].id}
    stranger, _ = await read_all(w, "stranger")
    assert stranger == []


async def test_a_facility_that_moves_is_announced_to_the_agency_and_business_it_left(
    w: SearchWorld,
):
    site = w.sites["los-angeles"]
    _, la_cursor = await read_all(w, "insp-la")
    _, other_cursor = await read_all(w, "other-lead")
    moved = facility_snapshot(site, "los-angeles")
    moved = moved.model_copy(update={"agency_id": w.plumas, "organization_id": w.other_org})
    await w.h.publish(contract.FACILITY_TRANSFERRED, site.id, contract.FacilityTransferred(
        facility=moved, from_organization_id=w.org, to_organization_id=w.other_org
    ).model_dump(mode="json"))
    await w.h.settle()
    await w.h.publish(contract.FACILITY_UPDATED, site.id, contract.FacilityUpdated(
        facility=moved, changes=[], previous_agency_id=w.la).model_dump(mode="json"))
    await w.h.settle()
    la, _ = await read_all(w, "insp-la", la_cursor)
    assert [e["type"] for e in la] == ["facility.facility.updated"]  # the move away
    other, _ = await read_all(w, "other-lead", other_cursor)
    assert [e["type"] for e in other] == ["facility.facility.transferred",
                                          "facility.facility.updated"]
    lead, _ = await read_all(w, "lead")
    assert "facility.facility.transferred" in [e["type"] for e in lead]
    # The search follows: the facility is now in Plumas's jurisdiction.
    assert "los-angeles" in await w.names("insp-plumas", {})
    assert await w.names("insp-la", {}) == []


async def test_the_feed_resumes_without_gaps_or_repeats_under_concurrent_writes(
    w: SearchWorld,
):
    """Writers submit, review and publish facility events while a reader pages the feed with
    small pages; every entry arrives exactly once, in position order, gap-free."""
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    stop = asyncio.Event()

    async def reader() -> None:
        nonlocal cursor
        while True:
            done = stop.is_set()
            entries, cursor, _ = await read_feed(w, "state", cursor, limit=3)
            seen.extend(entries)
            if done and not entries:
                return
            await asyncio.sleep(0)

    async def resubmit(name: str, who: str, rounds: int) -> None:
        site, token = w.sites[name], w.token(who)
        for i in range(rounds):
            draft = await start(w.h, token, site.id, "HAZARDOUS_MATERIALS_INVENTORY",
                                "LAST_SUBMITTAL")
            await save(w.h, token, draft, {"materials": [
                {**AMMONIA, "maximumDailyAmount": 100 + i}], "siteMap": SITE_MAP})
            ok(await w.h.gql(SUBMIT, token, f=site.id), "submitDrafts")

    async def review(rounds: int) -> None:
        for _ in range(rounds):
            result = await w.search("insp-plumas", {"counties": ["Plumas"]})
            for edge in result["edges"]:
                await w.h.gql(REVIEW, w.token("insp-plumas"), id=edge["node"]["inventory"]["id"],
                              a="UNDER_REVIEW", c=None)

    async def facility_events(rounds: int) -> None:
        site = w.sites["portola"]
        for i in range(rounds):
            await w.h.publish(contract.FACILITY_UPDATED, site.id, contract.FacilityUpdated(
                facility=facility_snapshot(site, f"portola {i}"), changes=["NAME"]
            ).model_dump(mode="json"))

    read_task = asyncio.create_task(reader())
    await asyncio.gather(resubmit("quincy", "lead", 4), resubmit("greenville", "other-lead", 4),
                         review(3), facility_events(10))
    await w.h.settle()
    stop.set()
    await asyncio.wait_for(read_task, 60)
    positions = [e["position"] for e in seen]
    assert positions == list(range(1, len(seen) + 1)), positions
    async with w.h.deps.db.read() as session:
        stored = list((await session.execute(select(FeedEntry.position, FeedEntry.event_id)
                                             .order_by(FeedEntry.position))).all())
    assert [p for p, _ in stored] == positions  # nothing unnumbered, nothing missed
    assert len({e["eventId"] for e in seen}) == len(seen)
    published = {e["id"] for e in await outbox(w.h)}
    assert published <= {e["eventId"] for e in seen}


async def test_the_feed_starts_from_a_time(w: SearchWorld):
    everything, _ = await read_all(w, "state")
    middle = everything[len(everything) // 2]
    response = await get(w, "state", "/exports/feed", since=middle["occurredAt"])
    first = json.loads(response.text.splitlines()[0])
    assert first["occurredAt"] >= middle["occurredAt"]
    assert first["position"] <= middle["position"]


async def test_the_snapshot_is_the_state_at_a_cursor_and_the_feed_continues_from_it(
    w: SearchWorld,
):
    response = await get(w, "state", "/exports/snapshot")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/gzip"
    lines = [json.loads(line) for line in gzip.decompress(response.content).splitlines()]
    header, facilities, end = lines[0], lines[1:-1], lines[-1]
    assert header["type"] == "snapshot" and end == {"type": "end",
                                                    "facilities": len(facilities),
                                                    "cursor": header["cursor"]}
    by_name = {f["facility"]["name"]: f for f in facilities}
    assert set(by_name) == set(w.sites)
    quincy = by_name["quincy"]
    assert quincy["facility"]["county"] == "Plumas"
    assert (quincy["facility"]["latitude"], quincy["facility"]["longitude"]) == QUINCY
    elements = {e["element"]: e for e in quincy["elements"]}
    assert set(elements) == {"FACILITY_INFORMATION", "HAZARDOUS_MATERIALS_INVENTORY"}
    materials = elements["HAZARDOUS_MATERIALS_INVENTORY"]["data"]["materials"]
    secret = next(m for m in materials if m.get("tradeSecret"))
    assert secret["commonName"] == "WITHHELD" and secret["location"] == "WITHHELD"
    assert by_name["draft-only"]["elements"] == []  # drafts are not state
    # The business's snapshot shows its own secrets.
    own = gzip.decompress((await get(w, "lead", "/exports/snapshot")).content).splitlines()
    names = [m.get("commonName") for line in own[1:-1]
             for e in json.loads(line)["elements"]
             if e["element"] == "HAZARDOUS_MATERIALS_INVENTORY"
             for m in e["data"]["materials"]]
    assert "Proprietary blend X" in names and "WITHHELD" not in names
    # Nothing is new at the cursor; a change after it is exactly what the feed then returns.
    entries, _, _ = await read_feed(w, "state", header["cursor"])
    assert entries == []
    token, site = w.token("lead"), w.sites["quincy"]
    draft = await start(w.h, token, site.id, "HAZARDOUS_MATERIALS_INVENTORY", "LAST_SUBMITTAL")
    await save(w.h, token, draft, {"materials": [AMMONIA], "siteMap": SITE_MAP})
    ok(await w.h.gql(SUBMIT, token, f=site.id), "submitDrafts")
    entries, _, _ = await read_feed(w, "state", header["cursor"])
    assert [e["type"] for e in entries] == ["submittal.element.submitted"]


async def test_exports_and_feed_reads_are_audit_logged(w: SearchWorld):
    await get(w, "insp-plumas", "/exports/search.csv", ehs="true")
    await get(w, "state", "/exports/feed", limit=5)
    await get(w, "state", "/exports/snapshot")
    async with w.h.deps.db.read() as session:
        audit = list((await session.execute(select(SearchAudit).order_by(SearchAudit.id)))
                     .scalars())
    assert [(a.actor, a.action, a.result_count) for a in audit[-3:]] == [
        ("insp-plumas", "EXPORT_CSV", 3), ("state", "FEED", 5), ("state", "SNAPSHOT", 5)]
    assert audit[-3].filter["ehs"] is True
