"""Exports, produced as they are read: CSV and GeoJSON of a search, the feed as NDJSON and a
snapshot of the current state. Each yields text a page at a time, so memory stays flat however
many rows there are.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.graphql import decode_cursor, encode_cursor
from services.submittal.adapters.search_tables import SearchFacility
from services.submittal.adapters.tables import Element, FacilityView
from services.submittal.domain import search as rules
from services.submittal.domain.elements import ElementType, SubmittalStatus
from services.submittal.domain.geo import counties
from services.submittal.domain.secrets import redact_json
from services.submittal.service_layer import feed
from services.submittal.service_layer import search as service
from services.submittal.service_layer.elements import SUBMITTED_STATES

PAGE = 500
FIRST_PAGE = 25
MAX_EXPORT_FACILITIES = 100_000
CSV_COLUMNS = (
    "cersId", "facilityId", "facilityName", "street", "city", "county", "latitude", "longitude",
    "distanceMiles", "complianceStatus", "inventoryStatus", "inventorySubmittedAt", "position",
    "commonName", "chemicalName", "casNumber", "tradeSecret", "ehs", "physicalState",
    "hazardCategories", "maximumDailyAmount", "units", "amountInUnits", "amountUnits",
    "conversionProblem",
)
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


async def results(session: AsyncSession, scope: service.Scope, flt: rules.SearchFilter,
                  sort: rules.Sort, today: dt.date) -> AsyncIterator[service.Result]:
    """Every result of a search, page by page (keyset), all matching materials each. The
    first page is small so the first bytes go out at once."""
    after: service.Cursor | None = None
    size = FIRST_PAGE
    while True:
        page = await service.search(session, scope, flt, sort, size, after, today,
                                    max_materials=None)
        size = PAGE
        for result in page.results:
            yield result
        if not page.has_next_page or not page.results:
            return
        after = page.results[-1].cursor


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _place(result: service.Result) -> tuple[str, str, str]:
    site = result.record.get("siteAddress") or {}
    county = counties().get(result.county_id or 0)
    return (str(site.get("street") or ""), str(site.get("city") or result.record.get("city")
                                              or ""), county.name if county else "")


def _amount_units(flt: rules.SearchFilter, sort: rules.Sort) -> str:
    above = flt.maximum_daily_amount_above
    return (above.units if above is not None else sort.units).value


async def csv_rows(items: AsyncIterator[service.Result], flt: rules.SearchFilter,
                   sort: rules.Sort, counter: list[int]) -> AsyncIterator[str]:
    """One row per matching material, its facility's columns repeated."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield out.getvalue()
    out.seek(0)
    out.truncate()
    units = _amount_units(flt, sort)
    batch = 0
    async for r in items:
        street, city, county = _place(r)
        for m in r.materials:
            writer.writerow([_cell(v) for v in (
                r.cers_id, r.facility_id, r.name, street, city, county, r.latitude, r.longitude,
                _round(r.distance_miles), r.compliance_status, r.inventory_status,
                r.inventory_submitted_at.isoformat() if r.inventory_submitted_at else None,
                m.position, m.common_name, m.chemical_name, m.cas_number,
                "Y" if m.trade_secret else "N", "Y" if m.ehs else "N", m.physical_state,
                ";".join(c.value for c in m.hazard_categories), m.maximum_daily_amount, m.units,
                _round(m.amount_in_units), units, m.conversion_problem)])
            counter[0] += 1
        batch += 1
        if batch >= 50:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            batch = 0
    yield out.getvalue()


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


def feature(r: service.Result, units: str) -> dict[str, Any]:
    """A facility as an RFC 7946 Feature: a WGS 84 Point, [longitude, latitude], or a null
    geometry when the facility reported no point."""
    geometry = None
    if r.latitude is not None and r.longitude is not None:
        geometry = {"type": "Point", "coordinates": [round(r.longitude, 6), round(r.latitude, 6)]}
    street, city, county = _place(r)
    return {
        "type": "Feature", "id": r.cers_id, "geometry": geometry,
        "properties": {
            "cersId": r.cers_id, "facilityId": r.facility_id, "name": r.name,
            "street": street, "city": city, "county": county,
            "distanceMiles": _round(r.distance_miles),
            "complianceStatus": r.compliance_status.value if r.compliance_status else None,
            "inventoryStatus": r.inventory_status,
            "inventorySubmittedAt": r.inventory_submitted_at.isoformat()
            if r.inventory_submitted_at else None,
            "amountUnits": units,
            "materials": [{
                "position": m.position, "commonName": m.common_name,
                "chemicalName": m.chemical_name, "casNumber": m.cas_number,
                "tradeSecret": m.trade_secret, "ehs": m.ehs, "physicalState": m.physical_state,
                "hazardCategories": [c.value for c in m.hazard_categories],
                "maximumDailyAmount": m.maximum_daily_amount, "units": m.units,
                "amountInUnits": _round(m.amount_in_units),
                "conversionProblem": m.conversion_problem, "withheld": m.withheld,
            } for m in r.materials],
        },
    }


async def geojson(items: AsyncIterator[service.Result], flt: rules.SearchFilter,
                  sort: rules.Sort, counter: list[int]) -> AsyncIterator[str]:
    """A FeatureCollection, written feature by feature."""
    units = _amount_units(flt, sort)
    yield '{"type":"FeatureCollection","features":['
    parts: list[str] = []
    async for r in items:
        parts.append(("," if counter[0] else "") + json.dumps(feature(r, units),
                                                              separators=(",", ":")))
        counter[0] += 1
        if len(parts) >= 50:
            yield "\n".join(parts) + "\n"
            parts = []
    yield "\n".join(parts) + "]}\n"


def encode_position(position: int) -> str:
    return encode_cursor("feed", position)


def decode_position(cursor: str) -> int:
    """A feed cursor's position; ValueError when it is not one of ours."""
    try:
        parts = decode_cursor(cursor)
    except Exception as error:  # noqa: BLE001 - a GraphQLError from the shared decoder
        raise ValueError("not a feed cursor") from error
    if len(parts) != 2 or parts[0] != "feed" or not isinstance(parts[1], int) or parts[1] < 0:
        raise ValueError("not a feed cursor")
    return parts[1]


def feed_line(entry: Any) -> str:
    return json.dumps({"cursor": encode_position(entry.position), **feed.entry_json(entry)},
                      separators=(",", ":"), default=str) + "\n"


def _scoped(query: Any, scope: service.Scope) -> Any:
    if scope.statewide:
        return query
    return query.where(scope.own_condition(SearchFacility))


async def snapshot(session: AsyncSession, scope: service.Scope, today: dt.date,
                   counter: list[int]) -> AsyncIterator[str]:
    """The current state as NDJSON: a header with the feed cursor it is consistent with, one
    line per facility with its current elements, and an end line with the count.

    The session must hold one snapshot of the database for the whole read (REPEATABLE READ
    on PostgreSQL, a read transaction on SQLite): the cursor then names exactly the feed
    entries the state includes, and reading the feed from it misses and repeats nothing.
    """
    position = await feed.last_position(session)
    cursor = encode_position(position)
    yield json.dumps({"type": "snapshot", "cursor": cursor, "position": position,
                      "takenAt": dt.datetime.now(dt.UTC).isoformat(),
                      "statewide": scope.statewide}) + "\n"
    after = -1
    while True:
        rows = list((await session.execute(_scoped(
            select(SearchFacility, FacilityView)
            .join(FacilityView, col(FacilityView.id) == col(SearchFacility.facility_id))
            .where(col(SearchFacility.cers_id) > after), scope)
            .order_by(col(SearchFacility.cers_id)).limit(PAGE))).all())
        if not rows:
            break
        ids = [sf.facility_id for sf, _ in rows]
        current = await _current_elements(session, ids)
        lines = []
        for sf, view in rows:
            own = scope.own(sf.agency_id, sf.organization_id)
            lines.append(json.dumps({
                "type": "facility", "facility": _facility_json(sf, view, today),
                "elements": [_element_json(e, own) for e in current.get(sf.facility_id, [])],
            }, separators=(",", ":"), default=str))
        counter[0] += len(rows)
        yield "\n".join(lines) + "\n"
        after = rows[-1][0].cers_id
    yield json.dumps({"type": "end", "facilities": counter[0], "cursor": cursor}) + "\n"


async def _current_elements(session: AsyncSession, ids: list[str]) -> dict[str, list[Element]]:
    """The latest submitted (or not-applicable) element of each type, per facility."""
    states = (*SUBMITTED_STATES, SubmittalStatus.NOT_APPLICABLE.value)
    ranked = (select(col(Element.id).label("id"), func.row_number().over(
        partition_by=(col(Element.facility_id), col(Element.element_type)),
        order_by=(col(Element.submitted_at).desc(), col(Element.id).desc())).label("n"))
        .where(col(Element.facility_id).in_(ids), col(Element.status).in_(states))
        .subquery())
    rows = (await session.execute(
        select(Element).join(ranked, ranked.c.id == col(Element.id)).where(ranked.c.n == 1)
        .order_by(col(Element.facility_id), col(Element.element_type)))).scalars()
    grouped: dict[str, list[Element]] = {}
    for row in rows:
        grouped.setdefault(row.facility_id, []).append(row)
    return grouped


def _facility_json(sf: SearchFacility, view: FacilityView, today: dt.date) -> dict[str, Any]:
    county = counties().get(sf.county_id or 0)
    status = rules.compliance_status(sf.annual_due_date, sf.update_due_by, today)
    return {
        "id": sf.facility_id, "cersId": sf.cers_id, "name": view.name,
        "organizationId": sf.organization_id, "agencyId": sf.agency_id,
        "county": county.name if county else None, "annualDueDate": sf.annual_due_date,
        "updateDueBy": sf.update_due_by, "complianceStatus": status.value if status else None,
        "latitude": sf.latitude, "longitude": sf.longitude, "record": view.record,
    }


def _element_json(row: Element, sees_secrets: bool) -> dict[str, Any]:
    data = dict(row.data)
    if not sees_secrets and row.element_type == ElementType.HAZARDOUS_MATERIALS_INVENTORY.value:
        data = redact_json(data)
    return {"id": row.id, "element": row.element_type, "status": row.status,
            "submittedAt": row.submitted_at, "changeFromPrevious": row.change_from_previous,
            "reviewAction": row.review_action, "reviewedAt": row.reviewed_at, "data": data}

