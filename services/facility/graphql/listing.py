"""Connections of facilities and organizations, keyset-paged."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import and_, or_, select
from sqlmodel import col

from common.graphql import PageInfo, decode_cursor, encode_cursor
from services.facility.adapters.tables import Organization as OrganizationRow
from services.facility.graphql import loaders
from services.facility.graphql.entities import (
    Facility,
    FacilityConnection,
    FacilityEdge,
    Organization,
    OrganizationConnection,
    OrganizationEdge,
)
from services.facility.service_layer import listing
from services.facility.service_layer.errors import BadInput


def _after(after: str | None) -> int | None:
    if after is None:
        return None
    values = decode_cursor(after)
    if len(values) != 1 or not isinstance(values[0], int):
        raise BadInput("Invalid cursor: pass an endCursor from a previous page.", field=["after"])
    return values[0]


async def _zero() -> int:
    return 0


async def facility_connection(
    info: strawberry.Info[Any, Any], filters: dict[str, Any], first: int, after: str | None
) -> FacilityConnection:
    app = loaders.app_of(info)
    caller = await loaders.caller_of(info)
    query = listing.filtered(caller, listing.FacilityFilter(**filters), app.today())
    if query is None:
        return FacilityConnection(
            edges=[], page_info=PageInfo(has_next_page=False, end_cursor=None), count=_zero
        )
    async with app.db.read() as session:
        rows, more = await listing.page(session, query, first, _after(after))

    async def count() -> int:
        async with app.db.read() as session:
            return await listing.count(session, query)

    edges = [
        FacilityEdge(cursor=encode_cursor(r.cers_id), node=Facility.from_domain(r)) for r in rows
    ]
    return FacilityConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
        count=count,
    )


async def my_businesses(
    info: strawberry.Info[Any, Any], first: int, after: str | None
) -> OrganizationConnection:
    """The caller's businesses by name, keyset-paged on (name, id)."""
    caller = await loaders.caller_of(info)
    if not 0 <= first <= listing.MAX_PAGE:
        raise BadInput(f"first must be between 0 and {listing.MAX_PAGE}.", field=["first"])
    query = select(OrganizationRow).where(col(OrganizationRow.id).in_(list(caller.businesses)))
    if after is not None:
        values = decode_cursor(after)
        if len(values) != 2 or not all(isinstance(v, str) for v in values):
            raise BadInput(
                "Invalid cursor: pass an endCursor from a previous page.", field=["after"]
            )
        name, last_id = values
        query = query.where(
            or_(
                col(OrganizationRow.name) > name,
                and_(col(OrganizationRow.name) == name, col(OrganizationRow.id) > last_id),
            )
        )
    async with loaders.app_of(info).db.read() as session:
        rows = list(
            (
                await session.execute(
                    query.order_by(col(OrganizationRow.name), col(OrganizationRow.id)).limit(
                        first + 1
                    )
                )
            ).scalars()
        )
    edges = [
        OrganizationEdge(cursor=encode_cursor(r.name, r.id), node=Organization.from_domain(r))
        for r in rows[:first]
    ]
    return OrganizationConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None
        ),
        total_count=len(caller.businesses),
    )
