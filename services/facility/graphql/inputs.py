"""Input types, turned into plain dicts of the facility record."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import strawberry

from services.facility.domain.record import FacilityRecord
from services.facility.graphql.values import ComplianceStatus


@strawberry.input
class AddressInput:
    street: str | None = None
    supplemental: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None


@strawberry.input
class ContactInput:
    name: str | None = None
    title: str | None = None
    phone: str | None = None
    phone24h: str | None = None
    email: str | None = None
    address: AddressInput | None = None


@strawberry.input
class ContactsInput:
    environmental: ContactInput | None = None
    primary_emergency: ContactInput | None = None
    secondary_emergency: ContactInput | None = None
    billing: ContactInput | None = None


@strawberry.input
class OwnerOperatorInput:
    owner_name: str | None = None
    owner_phone: str | None = None
    owner_address: AddressInput | None = None
    operator_name: str | None = None
    operator_phone: str | None = None
    phone: str | None = None


@strawberry.input
class FacilityInput:
    name: str
    site_address: AddressInput
    county: str
    city: str | None = None
    mailing_address: AddressInput | None = None
    contacts: ContactsInput | None = None
    owner_operator: OwnerOperatorInput | None = None

    def to_record(self) -> FacilityRecord:
        return FacilityRecord(
            name=self.name,
            site_address=plain(self.site_address),
            county=self.county,
            city=self.city or self.site_address.city,
            mailing_address=plain(self.mailing_address),
            contacts=plain(self.contacts),
            owner_operator=plain(self.owner_operator),
        )


def plain(value: Any) -> dict[str, Any]:
    """An input object as a dict without unset or blank entries."""
    if value is None:
        return {}
    out: dict[str, Any] = {}
    for f in dataclasses.fields(value):
        v = getattr(value, f.name)
        if dataclasses.is_dataclass(v):
            v = plain(v) or None
        elif isinstance(v, str):
            v = v.strip() or None
        if v is not None and v is not strawberry.UNSET:
            out[f.name] = v
    return out


@strawberry.input
class CreateBusinessInput:
    name: str
    facility: FacilityInput


@strawberry.input
class AddFacilityInput:
    organization_id: strawberry.ID
    facility: FacilityInput


@strawberry.input
class UpdateFacilityInput:
    """Only the parts given change; a part given replaces that part of the record."""

    facility_id: strawberry.ID
    name: str | None = strawberry.UNSET
    site_address: AddressInput | None = strawberry.UNSET
    county: str | None = strawberry.UNSET
    city: str | None = strawberry.UNSET
    mailing_address: AddressInput | None = strawberry.UNSET
    contacts: ContactsInput | None = strawberry.UNSET
    owner_operator: OwnerOperatorInput | None = strawberry.UNSET

    def merged(self, current: FacilityRecord) -> FacilityRecord:
        def pick(value: Any, existing: Any, convert: Any = plain) -> Any:
            return existing if value is strawberry.UNSET else convert(value)

        return FacilityRecord(
            name=pick(self.name, current.name, lambda v: v or ""),
            site_address=pick(self.site_address, current.site_address),
            county=pick(self.county, current.county, lambda v: v or ""),
            city=pick(self.city, current.city, lambda v: v),
            mailing_address=pick(self.mailing_address, current.mailing_address),
            contacts=pick(self.contacts, current.contacts),
            owner_operator=pick(self.owner_operator, current.owner_operator),
        )


@strawberry.input
class TransferFacilityInput:
    facility_id: strawberry.ID
    to_organization_id: strawberry.ID


@strawberry.input
class FacilityFilter:
    county: str | None = None
    agency_id: strawberry.ID | None = None
    compliance_status: ComplianceStatus | None = None
    name_contains: str | None = None
    cers_id: int | None = None
    updated_since: datetime | None = None
