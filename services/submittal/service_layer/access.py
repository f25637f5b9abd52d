"""Who may do what on a facility, decided from the local read model and the verified token.

It fails closed: a caller without a matching membership or staff role gets nothing, an
unknown facility is NOT_FOUND, and a stale read model answers UNAVAILABLE rather than grant
anything from old data. The same holds for one facility while an event about it, its
business or the caller's role there is known to be missing (the consumer holds later ones).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import CompoundSelect, bindparam, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.auth import Principal
from services.submittal.adapters.tables import FacilityView, MembershipView, StaffView
from services.submittal.service_layer.errors import Refused, forbidden, not_found

BUSINESS_ROLES = ("VIEWER", "EDITOR", "APPROVER", "LEAD_USER")
STAFF_ROLES = ("VIEWER", "INSPECTOR", "APPROVER", "ADMIN")



class Freshness(Protocol):
    """``bus.read_model_fresh``: within the lag bound, and none of these aggregates held."""

    def __call__(self, *aggregate_ids: str) -> bool: ...


def _always_fresh(*aggregate_ids: str) -> bool:
    return True


def _rank(roles: tuple[str, ...], role: str | None) -> int:
    return roles.index(role) if role in roles else -1


@dataclass(frozen=True)
class Caller:
    """A principal with its business levels and staff roles, loaded once per request."""

    principal: Principal | None
    business: dict[str, str] = field(default_factory=dict)  # organization id -> level
    staff: dict[str, str] = field(default_factory=dict)  # agency id -> role
    fresh: Freshness = _always_fresh

    @property
    def user_id(self) -> str | None:
        return self.principal.user_id if self.principal else None

    @property
    def is_statewide(self) -> bool:
        return bool(self.principal and self.principal.is_statewide)

    def in_step(self, facility: FacilityView) -> bool:
        """False while the read model of this facility, or of the caller's rights there, is
        known to be behind: the rights below then read as none."""
        aggregates = [facility.id, facility.organization_id]
        if self.user_id is not None:
            aggregates.append(f"{facility.organization_id}:{self.user_id}")
            if facility.agency_id:
                aggregates.append(f"{facility.agency_id}:{self.user_id}")
        return self.fresh(*aggregates)

    def business_level(self, facility: FacilityView) -> str | None:
        if not self.in_step(facility):
            return None
        return self.business.get(facility.organization_id)

    def staff_role(self, facility: FacilityView) -> str | None:
        if not facility.agency_id or not self.in_step(facility):
            return None
        return self.staff.get(facility.agency_id)

    def is_member(self, facility: FacilityView, at_least: str = "VIEWER") -> bool:
        return _rank(BUSINESS_ROLES, self.business_level(facility)) >= _rank(BUSINESS_ROLES,
                                                                            at_least)

    def is_regulator(self, facility: FacilityView, at_least: str = "VIEWER") -> bool:
        return _rank(STAFF_ROLES, self.staff_role(facility)) >= _rank(STAFF_ROLES, at_least)

    def sees_submissions(self, facility: FacilityView) -> bool:
        return self.is_member(facility) or self.is_regulator(facility) or self.is_statewide

    def sees_secrets(self, facility: FacilityView) -> bool:
        """Trade secrets and confidential locations: the business and its regulator only."""
        return self.is_member(facility) or self.is_regulator(facility)


# Memberships and staff roles in one statement, built once: one round trip per request.
GRANTS: CompoundSelect[Any] = union_all(
    select(literal("b").label("kind"), col(MembershipView.organization_id).label("target"),
           col(MembershipView.role).label("role"))
    .where(col(MembershipView.user_id) == bindparam("user_id")),
    select(literal("s").label("kind"), col(StaffView.agency_id).label("target"),
           col(StaffView.role).label("role"))
    .where(col(StaffView.user_id) == bindparam("user_id")),
)


async def load_caller(
    session: AsyncSession, principal: Principal | None, *, fresh: Freshness
) -> Caller:
    user_id = principal.user_id if principal else None
    if user_id is None:
        return Caller(principal, fresh=fresh)
    rows = (await session.execute(GRANTS, {"user_id": user_id})).all()
    return caller_from_grants(principal, rows, fresh=fresh)


def caller_from_grants(
    principal: Principal | None, rows: Iterable[Any], *, fresh: Freshness
) -> Caller:
    """The Caller of the (kind, target, role) rows of ``GRANTS``; other kinds are ignored."""
    memberships: dict[str, str] = {}
    staff: dict[str, str] = {}
    for kind, target, role in rows:
        if kind == "b":
            memberships[target] = role
        elif kind == "s":
            staff[target] = role
    return Caller(principal, memberships, staff, fresh)


def require_fresh(fresh: Freshness) -> None:
    if not fresh():
        raise Refused(
            "UNAVAILABLE",
            "Facility permissions are being brought up to date; retry shortly. (The submittal "
            "read model lags the facility service beyond READ_MODEL_MAX_LAG_SECONDS.)",
        )


def require_signed_in(caller: Caller) -> None:
    if caller.principal is None:
        raise Refused("UNAUTHENTICATED", "Sign in first: send 'Authorization: Bearer <token>'.")


def require_in_step(caller: Caller, facility: FacilityView) -> None:
    if not caller.in_step(facility):
        raise Refused(
            "UNAVAILABLE",
            f"Facility {facility.id} is being brought up to date (an update about it, its "
            "business or your role there has not reached the submittal service yet); retry "
            "shortly.",
        )


async def facility_for(session: AsyncSession, caller: Caller, facility_id: str) -> FacilityView:
    """The facility, if the caller may see anything of it; else NOT_FOUND (fails closed)."""
    facility = await session.get(FacilityView, facility_id)
    if facility is not None:
        require_in_step(caller, facility)
    if facility is None or not caller.sees_submissions(facility):
        raise not_found(f"Facility {facility_id}")
    return facility


def require_member(caller: Caller, facility: FacilityView, at_least: str, doing: str) -> None:
    if not caller.is_member(facility, at_least):
        level = caller.business_level(facility) or "no access"
        raise forbidden(
            f"{doing} needs {at_least} or above in the facility's business; you have {level}."
        )
