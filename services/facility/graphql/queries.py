"""Query fields of the facility subgraph."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select
from sqlmodel import col

from common.graphql import context_of, list_size
from services.facility.adapters import tables as t
from services.facility.domain.counties import county_id
from services.facility.graphql import loaders
from services.facility.graphql.entities import (
    Facility,
    FacilityConnection,
    Organization,
    OrganizationConnection,
    RegulatorAgency,
)
from services.facility.graphql.errors import raise_coded
from services.facility.graphql.inputs import FacilityFilter
from services.facility.graphql.listing import facility_connection, my_businesses
from services.facility.service_layer.errors import ServiceError

Info = strawberry.Info[Any, Any]


@strawberry.type
class Query:
    @strawberry.field(description="The caller's businesses.")  # type: ignore[untyped-decorator]
    async def my_businesses(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> OrganizationConnection:
        try:
            return await my_businesses(info, first, after)
        except ServiceError as exc:
            raise_coded(exc)
            raise

    @strawberry.field
    async def organization(self, info: Info, id: strawberry.ID) -> Organization | None:
        return await Organization.visible(info, str(id))

    @strawberry.field
    async def facility(self, info: Info, id: strawberry.ID) -> Facility | None:
        return await Facility.visible(info, str(id))

    @strawberry.field
    async def facility_by_cers_id(self, info: Info, cers_id: int) -> Facility | None:
        async with loaders.app_of(info).db.read() as session:
            found = await session.scalar(
                select(col(t.Facility.id)).where(col(t.Facility.cers_id) == cers_id)
            )
        return await Facility.visible(info, found) if found else None

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Facilities the caller may see: their businesses', their jurisdiction's, "
        "or every county's for statewide tokens. Keyset-paged by CERS ID."
    )
    async def facilities(
        self,
        info: Info,
        filter: FacilityFilter | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> FacilityConnection:
        f = filter or FacilityFilter()
        filters = {
            "county": f.county,
            "agency_id": str(f.agency_id) if f.agency_id else None,
            "compliance_status": f.compliance_status,
            "name_contains": f.name_contains,
            "cers_id": f.cers_id,
            "updated_since": f.updated_since,
        }
        try:
            return await facility_connection(info, filters, first, after)
        except ServiceError as exc:
            raise_coded(exc)
            raise

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The agencies the caller is staff of (any role), by name; empty for "
        "everyone else. What a regulator's own pages read, instead of the whole directory.",
        directives=[list_size(assumed=5)])
    async def my_agencies(self, info: Info) -> list[RegulatorAgency]:
        principal = context_of(info).principal
        user_id = principal.user_id if principal is not None else None
        if user_id is None:
            return []
        query = (
            select(t.Agency)
            .where(col(t.Agency.id).in_(
                select(col(t.StaffMember.agency_id)).where(col(t.StaffMember.user_id) == user_id)
            ))
            .order_by(col(t.Agency.name))
        )
        async with loaders.app_of(info).db.read() as session:
            return [
                RegulatorAgency.from_domain(a) for a in (await session.execute(query)).scalars()
            ]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The public directory of agencies, optionally for one county.",
        directives=[list_size(assumed=100)])
    async def regulator_agencies(
        self, info: Info, county: str | None = None
    ) -> list[RegulatorAgency]:
        query = select(t.Agency).order_by(col(t.Agency.name))
        if county is not None:
            cid = county_id(county)
            if cid is None:
                return []
            query = query.where(
                col(t.Agency.id).in_(
                    select(col(t.Jurisdiction.agency_id)).where(
                        col(t.Jurisdiction.county_id) == cid
                    )
                )
            )
        async with loaders.app_of(info).db.read() as session:
            return [
                RegulatorAgency.from_domain(a) for a in (await session.execute(query)).scalars()
            ]
