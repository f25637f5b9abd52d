"""Mutations on businesses and facilities. Resolvers only translate to use cases."""

from __future__ import annotations

from typing import Any

import strawberry

from common.graphql import UserError, context_of
from services.facility.graphql.entities import Facility, Organization
from services.facility.graphql.errors import attempt
from services.facility.graphql.inputs import (
    AddFacilityInput,
    CreateBusinessInput,
    TransferFacilityInput,
    UpdateFacilityInput,
)
from services.facility.graphql.loaders import app_of
from services.facility.graphql.values import ChangeKind
from services.facility.service_layer import businesses

Info = strawberry.Info[Any, Any]


@strawberry.type
class CreateBusinessPayload:
    organization: Organization | None = None
    facility: Facility | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateBusinessInput:
    organization_id: strawberry.ID
    name: str


@strawberry.type
class BusinessPayload:
    organization: Organization | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class FacilityPayload:
    facility: Facility | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateFacilityPayload:
    facility: Facility | None = None
    changes: list[ChangeKind] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class BusinessMutations:
    @strawberry.mutation(description="A new business and its first facility; you become LEAD_USER.")  # type: ignore[untyped-decorator]
    async def create_business(
        self, info: Info, input: CreateBusinessInput
    ) -> CreateBusinessPayload:
        async def work() -> CreateBusinessPayload:
            org, facility = await businesses.create_business(
                app_of(info),
                context_of(info).principal,
                businesses.CreateBusiness(input.name, input.facility.to_record()),
            )
            return CreateBusinessPayload(
                organization=Organization.from_domain(org), facility=Facility.from_domain(facility)
            )

        return await attempt(work, lambda e: CreateBusinessPayload(user_errors=e))

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Rename the business (LEAD_USER); its org code and facilities stay."
    )
    async def update_business(self, info: Info, input: UpdateBusinessInput) -> BusinessPayload:
        async def work() -> BusinessPayload:
            org = await businesses.rename_business(
                app_of(info), context_of(info).principal, str(input.organization_id), input.name
            )
            return BusinessPayload(organization=Organization.from_domain(org))

        return await attempt(work, lambda e: BusinessPayload(user_errors=e))

    @strawberry.mutation
    async def add_facility(self, info: Info, input: AddFacilityInput) -> FacilityPayload:
        async def work() -> FacilityPayload:
            facility = await businesses.add_facility(
                app_of(info),
                context_of(info).principal,
                str(input.organization_id),
                input.facility.to_record(),
            )
            return FacilityPayload(facility=Facility.from_domain(facility))

        return await attempt(work, lambda e: FacilityPayload(user_errors=e))

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Change the facility record; each kind of change opens an update reason."
    )
    async def update_facility(
        self, info: Info, input: UpdateFacilityInput
    ) -> UpdateFacilityPayload:
        async def work() -> UpdateFacilityPayload:
            facility, kinds = await businesses.update_facility(
                app_of(info), context_of(info).principal, str(input.facility_id), input.merged
            )
            return UpdateFacilityPayload(
                facility=Facility.from_domain(facility),
                changes=[ChangeKind(k.value) for k in kinds],
            )

        return await attempt(work, lambda e: UpdateFacilityPayload(user_errors=e))

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Move a facility, with its CERS ID and history, to another business."
    )
    async def transfer_facility(self, info: Info, input: TransferFacilityInput) -> FacilityPayload:
        async def work() -> FacilityPayload:
            facility = await businesses.transfer_facility(
                app_of(info),
                context_of(info).principal,
                str(input.facility_id),
                str(input.to_organization_id),
            )
            return FacilityPayload(facility=Facility.from_domain(facility))

        return await attempt(work, lambda e: FacilityPayload(user_errors=e))
