"""Mutations of regulators: staff, due dates and permits."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from common.graphql import UserError, context_of
from services.facility.domain import roles
from services.facility.graphql.entities import (
    Facility,
    PermitNode,
    RegulatorAgency,
    StaffMember,
)
from services.facility.graphql.errors import attempt
from services.facility.graphql.loaders import app_of
from services.facility.graphql.values import StaffRole
from services.facility.service_layer import agencies, compliance
from services.facility.service_layer.errors import BadInput

Info = strawberry.Info[Any, Any]
# Counties and cities of one agency; California has 58 counties and 482 cities.
MAX_PLACES = 600


@strawberry.input
class AgencyStaffInput:
    agency_id: strawberry.ID
    email: str
    role: StaffRole | None = None


@strawberry.input
class SetAgencyDefaultDueDateInput:
    agency_id: strawberry.ID
    month: int
    day: int


@strawberry.input
class UpdateAgencyInput:
    """Null keeps a value; an empty string clears it."""

    agency_id: strawberry.ID
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    website: str | None = None
    certification_window_days: int | None = strawberry.field(
        default=None, description="Days before its due date a cycle opens (1 to 180)."
    )


@strawberry.input
class PlaceInput:
    county: str
    city: str | None = strawberry.field(default=None, description="Blank: the whole county.")


@strawberry.input
class SetAgencyJurisdictionInput:
    agency_id: strawberry.ID
    places: list[PlaceInput]


@strawberry.input
class SetAnnualDueDateInput:
    facility_id: strawberry.ID
    annual_due_date: date


@strawberry.input
class IssuePermitInput:
    facility_id: strawberry.ID
    expires_at: date


@strawberry.type
class StaffPayload:
    staff_member: StaffMember | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AgencyPayload:
    agency: RegulatorAgency | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AgencyJurisdictionPayload:
    agency: RegulatorAgency | None = None
    reassigned_facility_count: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DueDatePayload:
    facility: Facility | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PermitPayload:
    permit: PermitNode | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _role(input: AgencyStaffInput) -> roles.StaffRole:
    if input.role is None:
        raise BadInput("Give the staff role.", field=["role"])
    return input.role


@strawberry.type
class RegulatorMutations:
    @strawberry.mutation
    async def add_agency_staff(self, info: Info, input: AgencyStaffInput) -> StaffPayload:
        async def work() -> StaffPayload:
            member = await agencies.add_agency_staff(
                app_of(info),
                context_of(info).principal,
                str(input.agency_id),
                input.email,
                _role(input),
            )
            return StaffPayload(staff_member=StaffMember.from_domain(member))

        return await attempt(work, lambda e: StaffPayload(user_errors=e))

    @strawberry.mutation
    async def change_agency_staff_role(self, info: Info, input: AgencyStaffInput) -> StaffPayload:
        async def work() -> StaffPayload:
            member = await agencies.change_agency_staff_role(
                app_of(info),
                context_of(info).principal,
                str(input.agency_id),
                input.email,
                _role(input),
            )
            return StaffPayload(staff_member=StaffMember.from_domain(member))

        return await attempt(work, lambda e: StaffPayload(user_errors=e))

    @strawberry.mutation
    async def remove_agency_staff(self, info: Info, input: AgencyStaffInput) -> StaffPayload:
        async def work() -> StaffPayload:
            await agencies.remove_agency_staff(
                app_of(info), context_of(info).principal, str(input.agency_id), input.email
            )
            return StaffPayload()

        return await attempt(work, lambda e: StaffPayload(user_errors=e))

    @strawberry.mutation
    async def set_agency_default_due_date(
        self, info: Info, input: SetAgencyDefaultDueDateInput
    ) -> AgencyPayload:
        async def work() -> AgencyPayload:
            agency = await agencies.set_agency_default_due_date(
                app_of(info),
                context_of(info).principal,
                str(input.agency_id),
                input.month,
                input.day,
            )
            return AgencyPayload(agency=RegulatorAgency.from_domain(agency))

        return await attempt(work, lambda e: AgencyPayload(user_errors=e))

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Edit the agency's public contact details and certification window (ADMIN)."
    )
    async def update_agency(self, info: Info, input: UpdateAgencyInput) -> AgencyPayload:
        async def work() -> AgencyPayload:
            agency = await agencies.update_agency(
                app_of(info),
                context_of(info).principal,
                str(input.agency_id),
                agencies.AgencyChange(
                    phone=input.phone,
                    email=input.email,
                    address=input.address,
                    website=input.website,
                    certification_window_days=input.certification_window_days,
                ),
            )
            return AgencyPayload(agency=RegulatorAgency.from_domain(agency))

        return await attempt(work, lambda e: AgencyPayload(user_errors=e))

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Replace an agency's counties and cities (STATE accounts only); every "
        "facility whose regulator changes is reassigned."
    )
    async def set_agency_jurisdiction(
        self, info: Info, input: SetAgencyJurisdictionInput
    ) -> AgencyJurisdictionPayload:
        async def work() -> AgencyJurisdictionPayload:
            if len(input.places) > MAX_PLACES:
                raise BadInput(f"Give at most {MAX_PLACES} places.", field=["places"])
            agency, moved = await agencies.set_agency_jurisdiction(
                app_of(info),
                context_of(info).principal,
                str(input.agency_id),
                [agencies.Place(p.county, p.city) for p in input.places],
            )
            return AgencyJurisdictionPayload(
                agency=RegulatorAgency.from_domain(agency), reassigned_facility_count=len(moved)
            )

        return await attempt(work, lambda e: AgencyJurisdictionPayload(user_errors=e))

    @strawberry.mutation
    async def set_annual_due_date(self, info: Info, input: SetAnnualDueDateInput) -> DueDatePayload:
        async def work() -> DueDatePayload:
            facility = await agencies.set_annual_due_date(
                app_of(info),
                context_of(info).principal,
                str(input.facility_id),
                input.annual_due_date,
            )
            return DueDatePayload(facility=Facility.from_domain(facility))

        return await attempt(work, lambda e: DueDatePayload(user_errors=e))

    @strawberry.mutation(description="Refused with COMPLIANCE_NOT_CURRENT unless CURRENT/DUE_SOON.")  # type: ignore[untyped-decorator]
    async def issue_permit(self, info: Info, input: IssuePermitInput) -> PermitPayload:
        async def work() -> PermitPayload:
            permit = await compliance.issue_permit(
                app_of(info), context_of(info).principal, str(input.facility_id), input.expires_at
            )
            return PermitPayload(permit=PermitNode.from_domain(permit))

        return await attempt(work, lambda e: PermitPayload(user_errors=e))
