"""Who may do what, decided from this service's own data and the verified token."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, bindparam, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.auth import Principal
from services.facility.adapters.tables import Facility, Membership, StaffMember, table_of
from services.facility.domain.roles import BusinessRole, StaffRole
from services.facility.service_layer.errors import Forbidden, Unauthenticated


def require_user(principal: Principal | None) -> str:
    """The calling person's user id; client-credentials tokens act for no person."""
    if principal is None:
        raise Unauthenticated("Sign in first: send 'Authorization: Bearer <token>'.")
    if principal.user_id is None:
        raise Forbidden("This operation needs a person's token, not a client-credentials token.")
    return principal.user_id


async def business_roles(session: AsyncSession, user_id: str | None) -> dict[str, BusinessRole]:
    """organization id -> the user's level there."""
    if user_id is None:
        return {}
    rows = await session.execute(
        select(col(Membership.organization_id), col(Membership.role)).where(
            col(Membership.user_id) == user_id
        )
    )
    return {org: BusinessRole(role) for org, role in rows.all()}


async def staff_roles(session: AsyncSession, user_id: str | None) -> dict[str, StaffRole]:
    """agency id -> the user's staff role there."""
    if user_id is None:
        return {}
    rows = await session.execute(
        select(col(StaffMember.agency_id), col(StaffMember.role)).where(
            col(StaffMember.user_id) == user_id
        )
    )
    return {agency: StaffRole(role) for agency, role in rows.all()}


@dataclass(frozen=True)
class Caller:
    """The caller's grants, loaded once per use case or per request."""

    principal: Principal | None
    businesses: dict[str, BusinessRole]
    agencies: dict[str, StaffRole]

    @property
    def user_id(self) -> str | None:
        return self.principal.user_id if self.principal else None

    @property
    def statewide(self) -> bool:
        return self.principal is not None and self.principal.is_statewide

    def business_role(self, organization_id: str) -> BusinessRole | None:
        return self.businesses.get(organization_id)

    def staff_role(self, agency_id: str | None) -> StaffRole | None:
        return self.agencies.get(agency_id) if agency_id else None

    def can_read_facility(self, facility: Facility) -> bool:
        return (
            self.statewide
            or facility.organization_id in self.businesses
            or self.staff_role(facility.agency_id) is not None
        )

    def can_read_history(self, facility: Facility) -> bool:
        """Lead users of its business and staff of its regulator (DESIGN §1 Audit). Statewide
        readers are neither: their reading covers the facility's data, not the audit trail,
        which names the people who made each change."""
        return (
            self.business_role(facility.organization_id) is BusinessRole.LEAD_USER
            or self.staff_role(facility.agency_id) is not None
        )

    def require_business(self, organization_id: str, at_least: BusinessRole, what: str) -> None:
        role = self.business_role(organization_id)
        if role is None or not role.at_least(at_least):
            raise Forbidden(
                f"{what} needs the {at_least.value} level (or higher) in this business"
                + (f"; you are {role.value}." if role else "; you are not a member.")
            )

    def require_staff(self, agency_id: str | None, at_least: StaffRole, what: str) -> None:
        role = self.staff_role(agency_id)
        if role is None or not role.at_least(at_least):
            raise Forbidden(
                f"{what} needs the {at_least.value} staff role (or higher) at the facility's "
                "agency" + (f"; you are {role.value}." if role else "; you are not staff there.")
            )


# Built once: every request loads its caller's grants (rows of kind, target, role). Of
# table columns, not ORM attributes, so Core runs it without the ORM's execution steps.
_MEMBERSHIPS = table_of(Membership).c
_STAFF = table_of(StaffMember).c
GRANTS: CompoundSelect[Any] = union_all(
    select(literal("b").label("kind"), _MEMBERSHIPS.organization_id.label("target"),
           _MEMBERSHIPS.role.label("role"))
    .where(_MEMBERSHIPS.user_id == bindparam("user_id")),
    select(literal("s").label("kind"), _STAFF.agency_id.label("target"),
           _STAFF.role.label("role"))
    .where(_STAFF.user_id == bindparam("user_id")),
)


async def load_caller(session: AsyncSession, principal: Principal | None) -> Caller:
    """The caller's memberships and staff roles, in one statement (one round trip)."""
    user_id = principal.user_id if principal else None
    if user_id is None:
        return Caller(principal=principal, businesses={}, agencies={})
    rows = (await session.execute(GRANTS, {"user_id": user_id})).all()
    return caller_from_grants(principal, rows)


def caller_from_grants(principal: Principal | None, rows: Iterable[Any]) -> Caller:
    """The Caller of the (kind, target, role) rows of ``GRANTS``; other kinds are ignored."""
    businesses: dict[str, BusinessRole] = {}
    agencies: dict[str, StaffRole] = {}
    for kind, target, role in rows:
        if kind == "b":
            businesses[target] = BusinessRole(role)
        elif kind == "s":
            agencies[target] = StaffRole(role)
    return Caller(principal=principal, businesses=businesses, agencies=agencies)
