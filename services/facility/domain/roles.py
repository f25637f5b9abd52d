"""Permission levels of business members and agency staff; each level includes those below."""

from __future__ import annotations

import enum


class BusinessRole(enum.Enum):
    VIEWER = "VIEWER"
    EDITOR = "EDITOR"
    APPROVER = "APPROVER"
    LEAD_USER = "LEAD_USER"

    @property
    def rank(self) -> int:
        return _BUSINESS_ORDER.index(self)

    def at_least(self, other: BusinessRole) -> bool:
        return self.rank >= other.rank


class StaffRole(enum.Enum):
    VIEWER = "VIEWER"
    INSPECTOR = "INSPECTOR"
    APPROVER = "APPROVER"
    ADMIN = "ADMIN"

    @property
    def rank(self) -> int:
        return _STAFF_ORDER.index(self)

    def at_least(self, other: StaffRole) -> bool:
        return self.rank >= other.rank


_BUSINESS_ORDER = list(BusinessRole)
_STAFF_ORDER = list(StaffRole)


class AgencyKind(enum.Enum):
    CUPA = "CUPA"
    PA = "PA"


def leaves_a_lead_user(
    roles: dict[str, BusinessRole], user_id: str, new_role: BusinessRole | None
) -> bool:
    """Whether the business still has a LEAD_USER after ``user_id`` takes ``new_role``.

    ``new_role`` None means the person leaves. A business that has no lead user today (its
    access requests go to the regulator) is not made worse by a change, so that is allowed.
    """
    before = [u for u, r in roles.items() if r is BusinessRole.LEAD_USER]
    if not before:
        return True
    after = {**roles}
    if new_role is None:
        after.pop(user_id, None)
    else:
        after[user_id] = new_role
    return any(r is BusinessRole.LEAD_USER for r in after.values())
