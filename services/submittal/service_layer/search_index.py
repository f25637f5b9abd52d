"""Keeping the search tables in step, in the transaction of the change that moves them.

A facility event updates the facility's columns (and their copies on its materials); a
submission, review or not-applicable mark recomputes which Facility Information gives the
facility's point and which inventory is its current one, and rewrites its material rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.contracts import facility as contract
from services.submittal.adapters.search_tables import SearchFacility, SearchMaterial
from services.submittal.adapters.tables import Element, FacilityView
from services.submittal.domain.element_data import InvalidData, parse
from services.submittal.domain.elements import ElementType, SubmittalStatus
from services.submittal.domain.facility_info import FacilityInformation
from services.submittal.domain.geo import county_named
from services.submittal.domain.hmi import HazardousMaterialsInventory
from services.submittal.domain.search import NAME_SEPARATOR, material_row
from services.submittal.service_layer.elements import SUBMITTED_STATES

# The columns each material row copies from its facility.
FACILITY_COLUMNS = ("cers_id", "organization_id", "agency_id", "county_id", "annual_due_date",
                    "update_due_by", "latitude", "longitude", "inventory_status")


def _copied(row: SearchFacility) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in FACILITY_COLUMNS}
    values["inventory_status"] = row.inventory_status or ""
    return values


async def _copy_to_materials(session: AsyncSession, row: SearchFacility) -> None:
    await session.execute(update(SearchMaterial)
                          .where(col(SearchMaterial.facility_id) == row.facility_id)
                          .values(**_copied(row)))


async def facility_row(session: AsyncSession, facility_id: str) -> SearchFacility | None:
    """The facility's search row, created from the read model when it is missing."""
    row = await session.get(SearchFacility, facility_id)
    if row is not None:
        return row
    view = await session.get(FacilityView, facility_id)
    if view is None:
        return None
    county = county_named(str(view.record.get("county") or ""))
    row = SearchFacility(facility_id=facility_id, cers_id=view.cers_id or 0,
                         organization_id=view.organization_id, agency_id=view.agency_id,
                         county_id=county.id if county else None)
    session.add(row)
    await session.flush()
    return row


async def facility_changed(session: AsyncSession, snapshot: contract.Facility) -> None:
    """A facility event's snapshot: its business, agency, county and compliance dates."""
    row = await session.get(SearchFacility, snapshot.facility_id)
    if row is None:
        row = SearchFacility(facility_id=snapshot.facility_id)
        session.add(row)
    row.cers_id = snapshot.cers_id
    row.organization_id = snapshot.organization_id
    row.agency_id = snapshot.agency_id
    row.county_id = snapshot.county_id
    row.annual_due_date = snapshot.annual_due_date
    row.update_due_by = snapshot.update_due_by
    await session.flush()
    await _copy_to_materials(session, row)


async def due_date_changed(session: AsyncSession, facility_id: str, due: date) -> None:
    row = await facility_row(session, facility_id)
    if row is not None:
        row.annual_due_date = due
        await session.flush()
        await _copy_to_materials(session, row)


async def _latest(session: AsyncSession, facility_id: str, element: ElementType,
                  statuses: tuple[str, ...]) -> Element | None:
    query = (select(Element)
             .where(col(Element.facility_id) == facility_id,
                    col(Element.element_type) == element.value,
                    col(Element.status).in_(statuses))
             .order_by(col(Element.submitted_at).desc(), col(Element.id).desc())
             .limit(1))
    return (await session.execute(query)).scalar_one_or_none()


def _parsed(element: Element | None) -> Any:
    if element is None:
        return None
    try:
        return parse(ElementType(element.element_type), element.data)
    except InvalidData:
        return None


async def submissions_changed(session: AsyncSession, facility_id: str) -> None:
    """Recompute the facility's point and current inventory, and rewrite its materials."""
    row = await facility_row(session, facility_id)
    if row is None:
        return
    info_row = await _latest(session, facility_id, ElementType.FACILITY_INFORMATION,
                             SUBMITTED_STATES)
    info = _parsed(info_row)
    point = info.geographic_location if isinstance(info, FacilityInformation) else None
    if point is not None and point.latitude is not None and point.longitude is not None:
        row.latitude, row.longitude = point.latitude, point.longitude
        row.location_element_id = info_row.id if info_row else None
    else:
        row.latitude = row.longitude = row.location_element_id = None
    inventory_row = await _latest(session, facility_id,
                                  ElementType.HAZARDOUS_MATERIALS_INVENTORY,
                                  (*SUBMITTED_STATES, SubmittalStatus.NOT_APPLICABLE.value))
    inventory = _parsed(inventory_row)
    materials = []
    if inventory_row is not None and isinstance(inventory, HazardousMaterialsInventory):
        row.inventory_element_id = inventory_row.id
        row.inventory_status = inventory_row.status
        row.inventory_submitted_at = inventory_row.submitted_at
        materials = [material_row(i, m) for i, m in enumerate(inventory.materials)]
    else:
        row.inventory_element_id = row.inventory_status = row.inventory_submitted_at = None
    row.material_count = len(materials)
    row.names = NAME_SEPARATOR.join(m.values["name_key"] for m in materials)
    row.public_names = NAME_SEPARATOR.join(m.values["name_key"] for m in materials
                                           if not m.values["trade_secret"])
    await session.flush()
    await session.execute(delete(SearchMaterial)
                          .where(col(SearchMaterial.facility_id) == facility_id))
    if materials:
        assert row.inventory_element_id is not None
        copied = _copied(row)
        await session.execute(insert(SearchMaterial), [
            {"facility_id": facility_id, "element_id": row.inventory_element_id,
             "position": m.position, **copied, **m.values} for m in materials])


async def reindex_all(session: AsyncSession, batch: int = 500) -> int:
    """Recompute every facility's search rows from the read model and the elements."""
    done = 0
    after = ""
    while True:
        ids = list((await session.execute(
            select(col(FacilityView.id)).where(col(FacilityView.id) > after)
            .order_by(col(FacilityView.id)).limit(batch))).scalars())
        if not ids:
            return done
        for facility_id in ids:
            await submissions_changed(session, facility_id)
        done += len(ids)
        after = ids[-1]
