"""Value types of the facility record and other small GraphQL types."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import strawberry

from services.facility.adapters.tables import FacilityReason
from services.facility.domain import actors, compliance, roles

# The domain enums themselves are the GraphQL enums (strawberry.enum registers them in place).
ComplianceStatus = compliance.ComplianceStatus
UpdateReasonKind = compliance.UpdateReason
BusinessRole = roles.BusinessRole
StaffRole = roles.StaffRole
AgencyKind = roles.AgencyKind
SystemActorKind = actors.SystemActorKind
strawberry.enum(ComplianceStatus)
strawberry.enum(UpdateReasonKind, name="UpdateReason")
strawberry.enum(BusinessRole)
strawberry.enum(StaffRole)
strawberry.enum(AgencyKind)
strawberry.enum(
    SystemActorKind,
    description="OPERATOR_COMMAND: an operator's command; DEMO_SEED: the embedded run's demo "
    "data; SERVICE: a service acting on an event no person caused.",
)


@strawberry.enum
class ChangeKind(enum.Enum):
    OWNERSHIP = "OWNERSHIP"
    NAME = "NAME"
    SITE_ADDRESS = "SITE_ADDRESS"
    MAILING_ADDRESS = "MAILING_ADDRESS"
    CONTACTS = "CONTACTS"


def _s(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return str(value) if value not in (None, "") else None


@strawberry.type
class Address:
    street: str | None
    supplemental: str | None
    city: str | None
    state: str | None
    zip: str | None

    @classmethod
    def from_domain(cls, data: Mapping[str, Any] | None) -> Address | None:
        if not data:
            return None
        return cls(**{k: _s(data, k) for k in ("street", "supplemental", "city", "state", "zip")})


@strawberry.type
class Contact:
    name: str | None
    title: str | None
    phone: str | None
    phone24h: str | None
    email: str | None
    address: Address | None

    @classmethod
    def from_domain(cls, data: Mapping[str, Any] | None) -> Contact | None:
        if not data:
            return None
        return cls(
            **{k: _s(data, k) for k in ("name", "title", "phone", "phone24h", "email")},
            address=Address.from_domain(data.get("address")),
        )


@strawberry.type
class Contacts:
    environmental: Contact | None
    primary_emergency: Contact | None
    secondary_emergency: Contact | None
    billing: Contact | None

    @classmethod
    def from_domain(cls, data: Mapping[str, Any]) -> Contacts:
        return cls(
            **{
                k: Contact.from_domain(data.get(k))
                for k in ("environmental", "primary_emergency", "secondary_emergency", "billing")
            }
        )


@strawberry.type
class OwnerOperator:
    owner_name: str | None
    owner_phone: str | None
    owner_address: Address | None
    operator_name: str | None
    operator_phone: str | None
    phone: str | None

    @classmethod
    def from_domain(cls, data: Mapping[str, Any]) -> OwnerOperator:
        keys = ("owner_name", "owner_phone", "operator_name", "operator_phone", "phone")
        return cls(
            **{k: _s(data, k) for k in keys},
            owner_address=Address.from_domain(data.get("owner_address")),
        )


@strawberry.type
class UpdateRequiredReason:
    reason: UpdateReasonKind
    due_by: date
    element: str | None
    raised_at: datetime

    @classmethod
    def from_domain(cls, row: FacilityReason | Any) -> UpdateRequiredReason:
        # an ORM row or a read-only row of its columns (graphql/loaders.py)
        return cls(
            reason=compliance.UpdateReason(row.reason),
            due_by=row.due_by,
            element=row.element or None,
            raised_at=row.raised_at,
        )
