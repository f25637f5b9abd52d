"""Payloads of the events facility publishes on the FACILITY stream (subjects ``facility.*``).

Producer (facility) and consumers (submittal) both validate with these models. They carry what
submittal needs for its local access model: each facility's business and agency (``Facility``
snapshots), each member's level per business (``Membership*``), each agency's staff roles
(``Staff*``) and the facility record for prefill. ``aggregate_id`` of each event:

- organization.*: the organization id; facility.*, permit.*, due_date.*: the facility id
- membership.*: ``"<organization_id>:<user_id>"``; staff.*: ``"<agency_id>:<user_id>"``
- invitation.*, access_request.*: their own id; agency.*: the agency id
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

BusinessRole = Literal["VIEWER", "EDITOR", "APPROVER", "LEAD_USER"]
StaffRole = Literal["VIEWER", "INSPECTOR", "APPROVER", "ADMIN"]
ChangeKind = Literal["OWNERSHIP", "NAME", "SITE_ADDRESS", "MAILING_ADDRESS", "CONTACTS"]

ORGANIZATION_CREATED = "facility.organization.created"
ORGANIZATION_UPDATED = "facility.organization.updated"
FACILITY_CREATED = "facility.facility.created"
FACILITY_UPDATED = "facility.facility.updated"
FACILITY_TRANSFERRED = "facility.facility.transferred"
MEMBERSHIP_GRANTED = "facility.membership.granted"
MEMBERSHIP_CHANGED = "facility.membership.changed"
MEMBERSHIP_REVOKED = "facility.membership.revoked"
INVITATION_CREATED = "facility.invitation.created"
ACCESS_REQUEST_CREATED = "facility.access_request.created"
ACCESS_REQUEST_DECIDED = "facility.access_request.decided"
AGENCY_CREATED = "facility.agency.created"
AGENCY_UPDATED = "facility.agency.updated"
AGENCY_JURISDICTION_CHANGED = "facility.agency.jurisdiction_changed"
STAFF_GRANTED = "facility.staff.granted"
STAFF_CHANGED = "facility.staff.changed"
STAFF_REVOKED = "facility.staff.revoked"
FACILITY_COMPLIANCE_CHANGED = "facility.facility.compliance_changed"
PERMIT_ISSUED = "facility.permit.issued"
DUE_DATE_CHANGED = "facility.due_date.changed"


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class FacilityRecord(_Payload):
    """The facility record, the source for prefilling a Facility Information draft.

    Addresses are ``{street, supplemental, city, state, zip}``; ``contacts`` has the keys
    ``environmental``, ``primary_emergency``, ``secondary_emergency`` and ``billing``, each
    ``{name, title, phone, phone24h, email, address}`` or null; ``owner_operator`` holds
    ``owner_name, owner_phone, owner_address, operator_name, operator_phone, phone``.
    """

    name: str
    site_address: dict[str, Any]
    county: str
    city: str | None
    mailing_address: dict[str, Any]
    contacts: dict[str, Any]
    owner_operator: dict[str, Any]


class Facility(_Payload):
    """A facility as submittal keeps it: who owns it, who regulates it, and its record."""

    facility_id: str
    cers_id: int
    organization_id: str
    agency_id: str | None
    county_id: int
    annual_due_date: date
    record: FacilityRecord
    # The earliest dueBy of the open UPDATE_REQUIRED reasons, or null when none is open: with
    # annual_due_date it is everything a reader needs to derive complianceStatus for any day.
    update_due_by: date | None = None


class OrganizationCreated(_Payload):
    organization_id: str
    name: str
    org_code: int




class OrganizationUpdated(OrganizationCreated):
    """The business as it is now (a lead user renamed it), and its previous name."""

    previous_name: str | None = None


class FacilityCreated(_Payload):
    """``demo`` is true only for the facilities the embedded run's demo dataset creates (never
    in production), so a consumer seeding demo data of its own seeds those and no others."""

    facility: Facility
    demo: bool = False


class FacilityUpdated(_Payload):
    """The record or its regulator changed. ``changes`` is empty when only ``agency_id``
    moved (a jurisdiction change reassigned the facility)."""

    facility: Facility
    changes: list[ChangeKind]
    previous_agency_id: str | None = None


class FacilityTransferred(_Payload):
    """The facility now belongs to another business; its open drafts are to be discarded."""

    facility: Facility
    from_organization_id: str
    to_organization_id: str


class OpenReason(_Payload):
    reason: Literal["OWNERSHIP", "NAME", "SITE_ADDRESS", "MAILING_ADDRESS", "CONTACTS",
                    "TRANSFER", "CORRECTION"]
    due_by: date
    element: str | None = None


class FacilityComplianceChanged(_Payload):
    """UPDATE_REQUIRED reasons opened or closed without any other facility event saying so
    (a regulator's NOT_ACCEPT, a correction submitted). ``reasons`` are the ones open now."""

    facility: Facility
    reasons: list[OpenReason]


class MembershipGranted(_Payload):
    organization_id: str
    user_id: str
    role: BusinessRole


class MembershipChanged(MembershipGranted):
    previous_role: BusinessRole


class MembershipRevoked(_Payload):
    organization_id: str
    user_id: str


class InvitationCreated(_Payload):
    invitation_id: str
    organization_id: str
    email: str
    role: BusinessRole
    expires_at: datetime


class AccessRequestCreated(_Payload):
    access_request_id: str
    requester_id: str
    organization_id: str
    facility_id: str | None
    requested_role: BusinessRole
    routed_to_agency_id: str | None


class AccessRequestDecided(_Payload):
    access_request_id: str
    requester_id: str
    organization_id: str
    approved: bool
    granted_role: BusinessRole | None
    decided_by: str


class Jurisdiction(_Payload):
    county_id: int
    county: str
    city: str | None


class AgencyCreated(_Payload):
    """A new agency, with its public contact details."""

    agency_id: str
    name: str
    kind: Literal["CUPA", "PA"]
    jurisdictions: list[Jurisdiction]
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    website: str | None = None


class AgencyUpdated(AgencyCreated):
    """The agency's contact details or certification window changed: the agency as it is now,
    and ``changes``, the fields that changed (``phone``, ``email``, ``address``, ``website``,
    ``certification_window_days``)."""

    certification_window_days: int = 90
    changes: list[str] = []


class AgencyJurisdictionChanged(_Payload):
    agency_id: str
    jurisdictions: list[Jurisdiction]
    reassigned_facility_ids: list[str]


class StaffGranted(_Payload):
    """Staff roles are cumulative: ADMIN includes APPROVER includes INSPECTOR includes VIEWER."""

    agency_id: str
    user_id: str
    role: StaffRole


class StaffChanged(StaffGranted):
    previous_role: StaffRole


class StaffRevoked(_Payload):
    agency_id: str
    user_id: str


class PermitIssued(_Payload):
    permit_id: str
    facility_id: str
    number: str
    issued_at: datetime
    expires_at: date
    issued_by: str


class DueDateChanged(_Payload):
    facility_id: str
    annual_due_date: date
    previous_due_date: date
    cause: Literal["AGENCY_DEFAULT", "FACILITY", "CERTIFIED"]


EVENT_MODELS: dict[str, type[_Payload]] = {
    ORGANIZATION_CREATED: OrganizationCreated,
    ORGANIZATION_UPDATED: OrganizationUpdated,
    FACILITY_CREATED: FacilityCreated,
    FACILITY_UPDATED: FacilityUpdated,
    FACILITY_TRANSFERRED: FacilityTransferred,
    FACILITY_COMPLIANCE_CHANGED: FacilityComplianceChanged,
    MEMBERSHIP_GRANTED: MembershipGranted,
    MEMBERSHIP_CHANGED: MembershipChanged,
    MEMBERSHIP_REVOKED: MembershipRevoked,
    INVITATION_CREATED: InvitationCreated,
    ACCESS_REQUEST_CREATED: AccessRequestCreated,
    ACCESS_REQUEST_DECIDED: AccessRequestDecided,
    AGENCY_CREATED: AgencyCreated,
    AGENCY_UPDATED: AgencyUpdated,
    AGENCY_JURISDICTION_CHANGED: AgencyJurisdictionChanged,
    STAFF_GRANTED: StaffGranted,
    STAFF_CHANGED: StaffChanged,
    STAFF_REVOKED: StaffRevoked,
    PERMIT_ISSUED: PermitIssued,
    DUE_DATE_CHANGED: DueDateChanged,
}
