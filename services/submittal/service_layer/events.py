"""Translating our typed data into the event payloads other services read."""

from __future__ import annotations

from typing import Any

from common.contracts.submittal import SubmittedFacilityInformation
from services.submittal.domain.facility_info import Address, Contact, FacilityInformation

_CONTACTS = {
    "environmental": "environmental_contact",
    "primary_emergency": "primary_emergency_contact",
    "secondary_emergency": "secondary_emergency_contact",
    "billing": "billing_contact",
}
_OWNER_FIELDS = ("owner_name", "owner_phone", "operator_name", "operator_phone", "phone", "fax",
                 "naics_code", "sic_code", "number_of_employees", "dun_and_bradstreet")


def _address(address: Address | None) -> dict[str, Any]:
    if address is None:
        return {}
    values = {"street": address.street, "city": address.city, "state": address.state,
              "zip": address.zip_code, "country": address.country}
    return {k: v for k, v in values.items() if v is not None}


def _contact(contact: Contact | None) -> dict[str, Any] | None:
    if contact is None:
        return None
    values = {"name": contact.name, "title": contact.title, "phone": contact.phone,
              "phone_24_hour": contact.phone24_hour, "pager": contact.pager,
              "email": contact.email, "address": _address(contact.address) or None}
    return {k: v for k, v in values.items() if v is not None}


def facility_information_values(info: FacilityInformation) -> SubmittedFacilityInformation:
    """The Owner/Operator and contact values, in the facility record's own field names."""
    oo = info.owner_operator
    owner: dict[str, Any] = {}
    contacts: dict[str, dict[str, Any] | None] = {}
    mailing: dict[str, Any] = {}
    if oo is not None:
        owner = {f: getattr(oo, f) for f in _OWNER_FIELDS if getattr(oo, f) is not None}
        if oo.owner_address is not None:
            owner["owner_address"] = _address(oo.owner_address)
        contacts = {theirs: _contact(getattr(oo, ours)) for theirs, ours in _CONTACTS.items()}
        mailing = _address(oo.mailing_address)
    name = info.business_activities.business_name if info.business_activities else None
    point = info.geographic_location
    location = point.model_dump(mode="json", exclude_none=True) if point is not None else None
    return SubmittedFacilityInformation(business_name=name, mailing_address=mailing,
                                        owner_operator=owner, contacts=contacts,
                                        geographic_location=location or None)
