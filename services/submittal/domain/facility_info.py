"""Facility Information (SE 1): Business Activities answers plus Owner/Operator Identification.

Fields follow DATA-DICTIONARY §1 and §2, in our camelCase names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.submittal.domain.geo import GeographicLocation, check_location
from services.submittal.domain.issues import Checker
from services.submittal.domain.model import Model


class BusinessActivities(Model):
    business_name: str | None = None
    epa_id: str | None = None
    comments: str | None = None
    hazardous_materials_on_site: bool | None = None
    cal_arp_regulated_substances: bool | None = None
    own_or_operate_ust: bool | None = None
    own_or_operate_apst: bool | None = None
    hazardous_waste_generator: bool | None = None
    recycles_materials: bool | None = None
    onsite_hazardous_waste_treatment: bool | None = None
    financial_assurance: bool | None = None
    remote_waste_consolidation: bool | None = None
    hazardous_waste_tank_closure: bool | None = None
    rcra_large_quantity_generator: bool | None = None
    household_hazardous_waste_collection: bool | None = None


QUESTIONS = tuple(
    name for name in BusinessActivities.model_fields if name not in ("business_name", "epa_id",
                                                                     "comments")
)


class Address(Model):
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None


class Contact(Model):
    name: str | None = None
    title: str | None = None
    phone: str | None = None
    phone24_hour: str | None = None
    pager: str | None = None
    email: str | None = None
    address: Address | None = None


class Signer(Model):
    name: str | None = None
    title: str | None = None
    signed_on: dt.date | None = None
    preparer_name: str | None = None


class OwnerOperator(Model):
    phone: str | None = None
    fax: str | None = None
    dun_and_bradstreet: str | None = None
    sic_code: str | None = None
    naics_code: str | None = None
    number_of_employees: int | None = None
    assessor_parcel_number: str | None = None
    mailing_address: Address | None = None
    operator_name: str | None = None
    operator_phone: str | None = None
    owner_name: str | None = None
    owner_phone: str | None = None
    owner_address: Address | None = None
    environmental_contact: Contact | None = None
    primary_emergency_contact: Contact | None = None
    secondary_emergency_contact: Contact | None = None
    billing_contact: Contact | None = None
    signer: Signer | None = None


class FacilityInformation(Model):
    business_activities: BusinessActivities | None = None
    owner_operator: OwnerOperator | None = None
    # Where the facility is (CERS 21.0001-21.0007); optional, and what location search reads.
    geographic_location: GeographicLocation | None = None

    def activity_answers(self) -> dict[str, bool | None]:
        activities = self.business_activities or BusinessActivities()
        return {BusinessActivities.model_fields[q].alias or q: getattr(activities, q)
                for q in QUESTIONS}


def check_facility_information(check: Checker, info: FacilityInformation,
                               county: str | None = None) -> None:
    check_location(check.at("geographicLocation"), info.geographic_location, county)
    activities = info.business_activities or BusinessActivities()
    ba = check.at("businessActivities")
    ba.required("businessName", activities.business_name, "Business name")
    ba.max_length("businessName", activities.business_name, 70, "Business name")
    ba.max_length("comments", activities.comments, 500, "Comments")
    for question in QUESTIONS:
        alias = BusinessActivities.model_fields[question].alias or question
        if getattr(activities, question) is None:
            ba.error(alias, "Answer this Business Activities question yes or no.", "REQUIRED")
    if activities.epa_id and len(activities.epa_id) != 12:
        ba.error("epaId", "An EPA ID has exactly 12 characters (for example CAL000123456).")
    needs_epa = (activities.hazardous_waste_generator, activities.rcra_large_quantity_generator,
                 activities.remote_waste_consolidation)
    if any(needs_epa) and not activities.epa_id:
        ba.warning("epaId", "Hazardous waste generators and consolidation sites need an EPA ID.",
                   "EPA_ID_MISSING")
    _check_owner_operator(check.at("ownerOperator"), info.owner_operator or OwnerOperator())


def _check_owner_operator(check: Checker, oo: OwnerOperator) -> None:
    check.required("phone", oo.phone, "Business phone")
    check.required("operatorName", oo.operator_name, "Operator name")
    check.required("operatorPhone", oo.operator_phone, "Operator phone")
    check.required("ownerName", oo.owner_name, "Owner name")
    check.required("ownerPhone", oo.owner_phone, "Owner phone")
    for field, label in (("operatorName", "Operator name"), ("ownerName", "Owner name")):
        check.max_length(field, getattr(oo, _snake(field)), 80, label)
    if oo.naics_code is not None and not (oo.naics_code.isdigit() and len(oo.naics_code) <= 6):
        check.error("naicsCode", "A NAICS code is a number of up to 6 digits.")
    if oo.sic_code is not None and len(oo.sic_code) != 4:
        check.error("sicCode", "An SIC code has exactly 4 characters.")
    if oo.dun_and_bradstreet is not None and len(oo.dun_and_bradstreet) != 9:
        check.error("dunAndBradstreet", "A Dun & Bradstreet number has exactly 9 characters.")
    if oo.number_of_employees is not None and oo.number_of_employees < 0:
        check.error("numberOfEmployees", "Number of employees cannot be negative.", "OUT_OF_RANGE")
    _check_address(check.at("mailingAddress"), oo.mailing_address, "Mailing address")
    _check_address(check.at("ownerAddress"), oo.owner_address, "Owner address")
    env = oo.environmental_contact or Contact()
    at = check.at("environmentalContact")
    at.required("name", env.name, "Environmental contact name")
    at.required("phone", env.phone, "Environmental contact phone")
    _check_address(at.at("address"), env.address, "Environmental contact address")
    pec = oo.primary_emergency_contact or Contact()
    at = check.at("primaryEmergencyContact")
    at.required("name", pec.name, "Primary emergency contact name")
    at.required("title", pec.title, "Primary emergency contact title")
    at.required("phone", pec.phone, "Primary emergency contact business phone")
    at.required("phone24Hour", pec.phone24_hour, "Primary emergency contact 24-hour phone")
    billing = oo.billing_contact or Contact()
    at = check.at("billingContact")
    at.required("name", billing.name, "Billing contact name")
    at.required("phone", billing.phone, "Billing contact phone")
    _check_address(at.at("address"), billing.address, "Billing address")
    signer = oo.signer or Signer()
    check.at("signer").required("name", signer.name, "Signer name")
    check.at("signer").required("title", signer.title, "Signer title")


def _check_address(check: Checker, address: Address | None, label: str) -> None:
    address = address or Address()
    check.required("street", address.street, f"{label} street")
    check.required("city", address.city, f"{label} city")
    check.max_length("street", address.street, 70, f"{label} street")
    if address.state is not None and len(address.state) != 2:
        check.error("state", f"{label} state is a 2-letter code.")


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def prefill(record: dict[str, Any]) -> FacilityInformation:
    """A blank Facility Information draft, filled from the facility record the read model holds.

    The record is the facility service's (common/contracts/facility.py); fields we do not know
    are ignored rather than refused, so a newer facility record never breaks a draft.
    """
    contacts = record.get("contacts") or {}
    owner = _known(OwnerOperator, record.get("ownerOperator") or {})
    owner["mailingAddress"] = _known(Address, record.get("mailingAddress") or {}) or None
    for ours, theirs in _CONTACT_KEYS.items():
        value = contacts.get(theirs) or contacts.get(ours)
        if isinstance(value, dict):
            owner[ours] = _known(Contact, value)
    return FacilityInformation.model_validate({
        "businessActivities": {"businessName": record.get("name")},
        "ownerOperator": {k: v for k, v in owner.items() if v is not None},
    })


_CONTACT_KEYS = {
    "environmentalContact": "environmental",
    "primaryEmergencyContact": "primaryEmergency",
    "secondaryEmergencyContact": "secondaryEmergency",
    "billingContact": "billing",
}


def _known(model: type[Model], data: dict[str, Any]) -> dict[str, Any]:
    """Keep only the keys ``model`` knows, recursing into nested models."""
    result: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        alias = field.alias or name
        if alias not in data or data[alias] is None:
            continue
        value = data[alias]
        nested = field.annotation
        inner = next((a for a in getattr(nested, "__args__", ()) if isinstance(a, type)
                      and issubclass(a, Model)), None)
        if inner is not None:
            if isinstance(value, dict):
                result[alias] = _known(inner, value)
        elif isinstance(value, str | int | float | bool):
            result[alias] = value
    return result
