"""Migration 0002: stored drafts and submissions of the seven untyped elements become typed;
what cannot be mapped is kept in legacy_data and reported; submissions learn their previous."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from common.db import make_engine
from common.migrations import upgrade
from services.submittal.domain.element_data import parse
from services.submittal.domain.elements import ElementType
from services.submittal.migrate import SCRIPT_LOCATION

FACILITY = str(uuid.uuid4())
SLOT = {"option": "STORED_AT_FACILITY", "comment": "Office binder"}
# (element type, status, old data, days after the first submission)
OLD: dict[str, tuple[str, str, dict[str, Any], int]] = {
    "ust-1": ("UST", "SUBMITTED", {"fields": {"typeOfAction": 5, "facilityType": 1,
                                              "tanks": [{"id": "T-1"}]},
                                   "documents": [SLOT]}, 0),
    "ust-2": ("UST", "ACCEPTED", {"fields": {"typeOfAction": 3, "facilityType": 1}}, 30),
    "ust-draft": ("UST", "DRAFT", {}, 40),
    "apsa": ("APSA", "SUBMITTED", {"fields": {"conditionallyExempt": False,
                                              "totalAbovegroundStorageCapacity": 12000,
                                              "numberOfTanksInUndergroundAreas": 0},
                                   "documents": [SLOT]}, 1),
    "calarp": ("CALARP", "DRAFT", {"fields": {"programLevel": 2}, "documents": [SLOT]}, 2),
    "tp": ("TIERED_PERMITTING", "SUBMITTED", {"fields": {"unitTypes": ["PBR", "XYZ"]}}, 3),
    "hwtc": ("HAZARDOUS_WASTE_TANK_CLOSURE", "SUBMITTED", {"fields": {"tankIds": ["W-1", 7]}},
             4),
    "rwc": ("REMOTE_WASTE_CONSOLIDATION", "DRAFT",
            {"fields": {"remoteSites": ["Pump station 4", {"address": "Mile 12"}]}}, 5),
    "rmr": ("RECYCLABLE_MATERIALS_REPORT", "SUBMITTED",
            {"fields": {"materials": ["Spent fixer", {"weight": 3}]}}, 6),
    "hmi": ("HAZARDOUS_MATERIALS_INVENTORY", "SUBMITTED", {"materials": []}, 7),
}


async def _rows(url: str) -> dict[str, dict[str, Any]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text(
                "SELECT id, data, legacy_data, previous_id FROM elements"))
            return {row.id: {"data": _json(row.data), "legacy": _json(row.legacy_data),
                             "previous": row.previous_id} for row in result}
    finally:
        await engine.dispose()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def _insert_old_elements(url: str) -> dict[str, str]:
    ids = {name: str(uuid.uuid4()) for name in OLD}
    start = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            for name, (element, status, data, days) in OLD.items():
                at = start + dt.timedelta(days=days)
                await connection.execute(text(
                    "INSERT INTO elements (id, facility_id, element_type, status, data, "
                    "based_on, created_at, updated_at, submitted_at, no_change_certification) "
                    "VALUES (:id, :f, :e, :s, :d, 'BLANK', :at, :at, :sub, false)"),
                    {"id": ids[name], "f": FACILITY, "e": element, "s": status,
                     "d": json.dumps(data), "at": at, "sub": None if status == "DRAFT" else at})
    finally:
        await engine.dispose()
    return ids


async def test_the_untyped_elements_are_typed_and_what_does_not_map_is_kept_and_reported(
        database_url: str, caplog: pytest.LogCaptureFixture):
    await asyncio.to_thread(upgrade, SCRIPT_LOCATION, database_url, "0001")
    ids = await _insert_old_elements(database_url)
    caplog.set_level(logging.INFO, logger="services.submittal.migrations")
    await asyncio.to_thread(upgrade, SCRIPT_LOCATION, database_url)
    rows = await _rows(database_url)
    row = {name: rows[ids[name]] for name in OLD}

    for name, (element, *_rest) in OLD.items():
        parse(ElementType(element), row[name]["data"])  # every row reads as typed data

    assert row["ust-1"]["data"] == {"facility": {"typeOfAction": "CONFIRMED_UPDATED",
                                                 "facilityType": "MOTOR_VEHICLE_FUELING"}}
    assert row["ust-1"]["legacy"] == {"fields": {"tanks": [{"id": "T-1"}]},
                                      "documents": [SLOT]}
    assert row["ust-2"]["data"]["facility"]["typeOfAction"] == "RENEWAL_PERMIT"
    assert row["ust-2"]["legacy"] is None
    assert row["ust-draft"]["data"] == {} and row["ust-draft"]["legacy"] is None
    assert row["apsa"]["data"] == {"conditionallyExempt": False, "totalCapacityGallons": 12000,
                                   "tanksInUndergroundAreas": 0,
                                   "documents": {"apsaDocument": SLOT}}
    assert row["apsa"]["legacy"] is None
    assert row["calarp"]["data"] == {"documents": {"calArpDocument": SLOT}}
    assert row["calarp"]["legacy"] == {"fields": {"programLevel": 2}}
    units = row["tp"]["data"]["units"]
    assert [u["unitType"] for u in units] == ["PBR"] and all(u["id"] for u in units)
    assert row["tp"]["legacy"] == {"fields": {"unitTypes": ["XYZ"]}}
    assert [c["tankId"] for c in row["hwtc"]["data"]["closures"]] == ["W-1", "7"]
    sites = row["rwc"]["data"]["sites"]
    assert [s["descriptionOfLocations"] for s in sites] == ["Pump station 4", "Mile 12"]
    assert [m["commonName"] for m in row["rmr"]["data"]["materials"]] == ["Spent fixer"]
    assert row["rmr"]["legacy"] == {"fields": {"materials": [{"weight": 3}]}}
    assert row["hmi"]["data"] == {"materials": []}  # the HMBP elements are not touched

    # Each submission knows the one before it, per element; drafts and first ones have none.
    assert row["ust-2"]["previous"] == ids["ust-1"]
    assert row["ust-1"]["previous"] is None and row["ust-draft"]["previous"] is None
    assert row["apsa"]["previous"] is None

    reported = [r.getMessage() for r in caplog.records
                if r.name == "services.submittal.migrations"]
    for name in ("ust-1", "calarp", "tp", "rmr"):
        assert any(ids[name] in line for line in reported), name
    assert any("8 stored elements typed, 4 of them with unmapped data" in line
               for line in reported)
