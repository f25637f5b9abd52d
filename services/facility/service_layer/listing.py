"""The facility list: scoped to the caller, filtered on indexed columns, paged by keyset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.facility.adapters.tables import Facility
from services.facility.domain.compliance import ComplianceStatus, status_range
from services.facility.domain.counties import county_id
from services.facility.service_layer.access import Caller
from services.facility.service_layer.errors import BadInput

MAX_PAGE = 200


@dataclass(frozen=True)
class FacilityFilter:
    county: str | None = None
    agency_id: str | None = None
    compliance_status: ComplianceStatus | None = None
    name_contains: str | None = None
    cers_id: int | None = None
    updated_since: datetime | None = None
    organization_id: str | None = None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(caller: Caller, f: FacilityFilter, today: date) -> Select[Any] | None:
    """The caller's visible facilities matching ``f``, or None when nothing can match."""
    query = select(Facility)
    if not caller.statewide:
        scopes = []
        if caller.businesses:
            scopes.append(col(Facility.organization_id).in_(list(caller.businesses)))
        if caller.agencies:
            scopes.append(col(Facility.agency_id).in_(list(caller.agencies)))
        if not scopes:
            return None
        query = query.where(or_(*scopes))
    if f.organization_id is not None:
        query = query.where(col(Facility.organization_id) == f.organization_id)
    if f.county is not None:
        cid = county_id(f.county)
        if cid is None:
            raise BadInput(f"{f.county!r} is not a California county.", field=["filter", "county"])
        query = query.where(col(Facility.county_id) == cid)
    if f.agency_id is not None:
        query = query.where(col(Facility.agency_id) == f.agency_id)
    if f.cers_id is not None:
        query = query.where(col(Facility.cers_id) == f.cers_id)
    if f.updated_since is not None:
        query = query.where(col(Facility.updated_at) >= f.updated_since)
    if f.name_contains:
        # lower(name) LIKE '%x%' is what the pg_trgm GIN index on lower(name) serves.
        pattern = f"%{_escape_like(f.name_contains.lower())}%"
        query = query.where(func.lower(col(Facility.name)).like(pattern, escape="\\"))
    if f.compliance_status is not None:
        r = status_range(f.compliance_status, today)
        if r.due_after is not None:
            query = query.where(col(Facility.annual_due_date) > r.due_after)
        if r.due_on_or_before is not None:
            query = query.where(col(Facility.annual_due_date) <= r.due_on_or_before)
        if r.has_reasons is True:
            query = query.where(col(Facility.update_due_by).is_not(None))
        elif r.has_reasons is False:
            query = query.where(col(Facility.update_due_by).is_(None))
    return query


async def page(
    session: AsyncSession, query: Select[Any], first: int, after_cers_id: int | None
) -> tuple[list[Facility], bool]:
    """One page ordered by CERS ID, continuing after a cursor: cost stays flat at any depth."""
    if not 0 <= first <= MAX_PAGE:
        raise BadInput(f"first must be between 0 and {MAX_PAGE}.", field=["first"])
    if after_cers_id is not None:
        query = query.where(col(Facility.cers_id) > after_cers_id)
    rows = list(
        (await session.execute(query.order_by(col(Facility.cers_id)).limit(first + 1))).scalars()
    )
    return rows[:first], len(rows) > first


async def count(session: AsyncSession, query: Select[Any]) -> int:
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    return int(total or 0)
