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
