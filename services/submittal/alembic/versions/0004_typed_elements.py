"""typed elements: UST, Tiered Permitting, RMR, remote sites, tank closure, APSA, CalARP

Until now these seven elements kept ``{"fields": {...}, "documents": [...]}``: a free JSON
object with a few checked headline fields, and a list of unnamed document slots. Their data is
now typed (services/submittal/domain/{ust,tiered_permitting,...}.py). This migration

- adds ``elements.previous_id`` (the submission each one was compared with) and fills it for
  the submissions made so far;
- adds ``elements.legacy_data`` and rewrites every stored draft and submission of the seven
  elements into the typed shape, mapping the headline fields (docs/elements.md, "Upgrading
  the untyped elements"). Whatever no typed field can take is kept in ``legacy_data`` (shown
  as ``SubmittalElement.legacyData``) and reported in the log, one line per element.

The mapping is written out here, not imported, so this revision keeps meaning the same thing
when the domain code moves on. Work is done in batches, so memory stays bounded whatever the
table size. The data rewrite is one way: a downgrade drops the two columns and leaves the
typed data in place.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00
"""
from __future__ import annotations

import logging
import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

log = logging.getLogger("services.submittal.migrations")
BATCH = 500
SUBMITTED = ("SUBMITTED", "UNDER_REVIEW", "ACCEPTED", "NOT_ACCEPTED")

elements = sa.table(
    "elements",
    sa.column("id", sa.String), sa.column("facility_id", sa.String),
    sa.column("element_type", sa.String), sa.column("status", sa.String),
    sa.column("data", sa.JSON), sa.column("submitted_at", sa.DateTime(timezone=True)),
    sa.column("previous_id", sa.String), sa.column("legacy_data", sa.JSON),
)

UST_ACTIONS = {"1": "NEW_PERMIT", "3": "RENEWAL_PERMIT", "5": "CONFIRMED_UPDATED",
               "6": "TEMPORARY_CLOSURE", "7": "PERMANENT_CLOSURE", "9": "TRANSFER_PERMIT"}
UST_FACILITY_TYPES = {"1": "MOTOR_VEHICLE_FUELING", "2": "FUEL_DISTRIBUTION", "3": "FARM",
                      "4": "PROCESSOR", "6": "OTHER"}
TIERS = {"CESQT": "CESQT", "CESW": "CESW", "CA": "CA", "PBR": "PBR", "CEL": "CEL",
         "A": "CESQT", "B": "CESW", "C": "CA", "D": "PBR", "E": "CEL"}
# Where a single old document goes, for the elements with one principal document slot.
MAIN_SLOT = {"APSA": "apsaDocument", "CALARP": "calArpDocument",
             "RECYCLABLE_MATERIALS_REPORT": "rmrDocument"}


def _code(table: dict[str, str], value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip().upper()
    return table.get(text) or (text if text in table.values() else None)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _records(values: Any, make: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    """``values`` mapped one by one with ``make``; the ones it cannot map come back."""
    mapped, left = [], []
    for value in values if isinstance(values, list) else [values]:
        record = make(value)
        if record is None:
            left.append(value)
        else:
            mapped.append({"id": str(uuid.uuid4()), **record})
    return mapped, left


def _named(value: Any, target: str, *keys: str) -> dict[str, Any] | None:
    if _text(value):
        return {target: _text(value)}
    if isinstance(value, dict):
        for key in keys:
            if _text(value.get(key)):
                return {target: _text(value[key])}
    return None


def _whole_number(value: Any, low: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() and value >= low else None


def map_fields(element: str, fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The typed data for an element's old headline ``fields``, and the fields left over."""
    left = dict(fields)
    data: dict[str, Any] = {}

    def take(key: str) -> Any:
        return left.pop(key, None)

    def keep(key: str, value: Any) -> None:
        if value not in (None, [], {}):
            left[key] = value

    if element == "UST":
        facility: dict[str, Any] = {}
        for key, table, target in (("typeOfAction", UST_ACTIONS, "typeOfAction"),
                                   ("facilityType", UST_FACILITY_TYPES, "facilityType")):
            raw = take(key)
            code = _code(table, raw)
            if code:
                facility[target] = code
            else:
                keep(key, raw)
        if facility:
            data["facility"] = facility
    elif element == "TIERED_PERMITTING":
        raw = take("unitTypes")
        units, rest = _records(raw or [], lambda v: (
            {"unitType": _code(TIERS, v)} if _code(TIERS, v) else None))
        if units:
            data["units"] = units
        keep("unitTypes", rest)
    elif element == "RECYCLABLE_MATERIALS_REPORT":
        raw = take("materials")
        materials, rest = _records(raw or [], lambda v: _named(v, "commonName", "commonName",
                                                                 "name"))
        if materials:
            data["materials"] = materials
        keep("materials", rest)
    elif element == "REMOTE_WASTE_CONSOLIDATION":
        raw = take("remoteSites")
        sites, rest = _records(raw or [], lambda v: _named(
            v, "descriptionOfLocations", "description", "name", "address"))
        if sites:
            data["sites"] = sites
        keep("remoteSites", rest)
    elif element == "HAZARDOUS_WASTE_TANK_CLOSURE":
        raw = take("tankIds")
        closures, rest = _records(raw or [], lambda v: (
            {"tankId": _text(v) if _text(v) else str(v)} if isinstance(v, str | int)
            and not isinstance(v, bool) and str(v).strip() else None))
        if closures:
            data["closures"] = closures
        keep("tankIds", rest)
    elif element == "APSA":
        exempt = take("conditionallyExempt")
        if isinstance(exempt, bool):
            data["conditionallyExempt"] = exempt
        else:
            keep("conditionallyExempt", exempt)
        for key, target, low in (("totalAbovegroundStorageCapacity", "totalCapacityGallons", 1),
                                 ("numberOfTanksInUndergroundAreas",
                                  "tanksInUndergroundAreas", 0)):
            raw = take(key)
            number = _whole_number(raw, low)
            if number is not None:
                data[target] = number
            else:
                keep(key, raw)
    return data, left


def map_element(element: str, old: dict[str, Any]
                ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(typed data, what was kept unmapped or None) for one stored element."""
    fields = old.get("fields") if isinstance(old.get("fields"), dict) else {}
    data, left_fields = map_fields(element, fields)
    documents = old.get("documents") if isinstance(old.get("documents"), list) else []
    documents = [d for d in documents if isinstance(d, dict) and d]
    left_documents: list[Any] = []
    if len(documents) == 1 and element in MAIN_SLOT:
        data["documents"] = {MAIN_SLOT[element]: documents[0]}
    else:
        left_documents = documents
    unknown = {k: v for k, v in old.items() if k not in ("fields", "documents")}
    if not isinstance(old.get("fields"), dict | None):
        unknown["fields"] = old["fields"]
    leftover: dict[str, Any] = {}
    if left_fields:
        leftover["fields"] = left_fields
    if left_documents:
        leftover["documents"] = left_documents
    leftover.update(unknown)
    return data, leftover or None


def upgrade() -> None:
    with op.batch_alter_table("elements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("legacy_data", sa.JSON(), nullable=True))
    connection = op.get_bind()
    _type_the_elements(connection)
    _link_previous_submissions(connection)


def _type_the_elements(connection: sa.Connection) -> None:
    mapped = kept = 0
    last = ""
    while True:
        rows = connection.execute(
            sa.select(elements.c.id, elements.c.element_type, elements.c.status,
                      elements.c.data)
            .where(elements.c.element_type.in_(tuple(TYPED)), elements.c.id > last)
            .order_by(elements.c.id).limit(BATCH)).all()
        if not rows:
            break
        last = rows[-1].id
        for row in rows:
            old = row.data if isinstance(row.data, dict) else {}
            if "fields" not in old and "documents" not in old:
                continue  # a blank draft, or already typed
            data, leftover = map_element(row.element_type, old)
            connection.execute(elements.update().where(elements.c.id == row.id)
                               .values(data=data, legacy_data=leftover))
            mapped += 1
            if leftover:
                kept += 1
                log.warning("migration 0002: %s element %s (%s) kept data no typed field takes "
                            "in legacy_data: %s", row.element_type, row.id, row.status,
                            ", ".join(sorted(_describe(leftover))))
    log.info("migration 0002: %d stored elements typed, %d of them with unmapped data kept in "
             "legacy_data (SubmittalElement.legacyData)", mapped, kept)


TYPED = ("UST", "TIERED_PERMITTING", "RECYCLABLE_MATERIALS_REPORT", "REMOTE_WASTE_CONSOLIDATION",
         "HAZARDOUS_WASTE_TANK_CLOSURE", "APSA", "CALARP")


def _describe(leftover: dict[str, Any]) -> list[str]:
    names = [f"fields.{k}" for k in leftover.get("fields", {})]
    if leftover.get("documents"):
        names.append(f"{len(leftover['documents'])} unnamed document slot(s)")
    names += [k for k in leftover if k not in ("fields", "documents")]
    return names


def _link_previous_submissions(connection: sa.Connection) -> None:
    """previous_id of each submission: the submission of the same facility and element just
    before it. Facilities are taken in batches, so memory stays bounded."""
    last = ""
    while True:
        facility_ids = connection.execute(
            sa.select(elements.c.facility_id).distinct()
            .where(elements.c.facility_id > last, elements.c.status.in_(SUBMITTED))
            .order_by(elements.c.facility_id).limit(BATCH)).scalars().all()
        if not facility_ids:
            break
        last = facility_ids[-1]
        rows = connection.execute(
            sa.select(elements.c.id, elements.c.facility_id, elements.c.element_type)
            .where(elements.c.facility_id.in_(facility_ids),
                   elements.c.status.in_(SUBMITTED))
            .order_by(elements.c.facility_id, elements.c.element_type,
                      elements.c.submitted_at, elements.c.id)).all()
        links = []
        before: dict[tuple[str, str], str] = {}
        for row in rows:
            key = (row.facility_id, row.element_type)
            if key in before:
                links.append({"target": row.id, "previous": before[key]})
            before[key] = row.id
        if links:
            connection.execute(
                elements.update().where(elements.c.id == sa.bindparam("target"))
                .values(previous_id=sa.bindparam("previous")), links)


def downgrade() -> None:
    with op.batch_alter_table("elements", schema=None) as batch_op:
        batch_op.drop_column("legacy_data")
        batch_op.drop_column("previous_id")
