"""Payloads of the events submittal publishes on the SUBMITTAL stream (``submittal.*``).

Producer (submittal) and consumers (facility) both validate with these models. The aggregate
of every event is the facility (``aggregate_id`` = facility id), so a consumer sees one
facility's submissions, reviews and certifications in order. docs/events/submittal.md
describes them with examples.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

ELEMENT_SUBMITTED = "submittal.element.submitted"
ELEMENT_REVIEWED = "submittal.element.reviewed"
ELEMENT_NOT_APPLICABLE = "submittal.element.not_applicable"
HMBP_CERTIFIED = "submittal.hmbp.certified"

ElementType = Literal[
    "FACILITY_INFORMATION",
    "HAZARDOUS_MATERIALS_INVENTORY",
    "EMERGENCY_RESPONSE_TRAINING_PLANS",
    "UST",
    "TIERED_PERMITTING",
    "RECYCLABLE_MATERIALS_REPORT",
    "REMOTE_WASTE_CONSOLIDATION",
    "HAZARDOUS_WASTE_TANK_CLOSURE",
    "APSA",
    "CALARP",
]
ChangeClass = Literal["NO_CHANGES", "HAS_CHANGES", "SIGNIFICANT", "VERY_SIGNIFICANT"]
ReviewAction = Literal["UNDER_REVIEW", "ACCEPT", "NOT_ACCEPT"]


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class SubmittedFacilityInformation(_Payload):
    """What a Facility Information submission says about the facility record.

    Keys follow the facility record (services/facility/domain/record.py): addresses have
    ``street supplemental city state zip``; ``contacts`` has ``environmental``,
    ``primary_emergency``, ``secondary_emergency`` and ``billing``, each with ``name title
    phone phone_24_hour pager email address``; ``owner_operator`` has ``owner_name owner_phone
    operator_name operator_phone phone fax naics_code number_of_employees`` and the owner's
    address as ``owner_address``.
    """

    business_name: str | None = None
    mailing_address: dict[str, Any] = {}
    owner_operator: dict[str, Any] = {}
    contacts: dict[str, dict[str, Any] | None] = {}
    # The reported point: ``{latitude, longitude, horizontal_accuracy_meters,
    # collection_method, reference_point, datum, collection_date}``, or null.
    geographic_location: dict[str, Any] | None = None


class ElementSubmitted(_Payload):
    """An element was submitted (by submitDrafts or as a "No change in HMBP" copy)."""

    facility_id: str
    organization_id: str
    element_id: str
    element: ElementType
    change_from_previous: ChangeClass
    no_change_certification: bool = False
    submitted_by: str | None
    submitted_at: datetime
    facility_information: SubmittedFacilityInformation | None = None


class ElementReviewed(_Payload):
    """A regulator moved a submitted element to UNDER_REVIEW, ACCEPTED or NOT_ACCEPTED.

    ``submitted_by`` is who submitted the reviewed element (null for a submission no person
    made), so the review can be mailed to them.
    """

    facility_id: str
    organization_id: str
    element_id: str
    element: ElementType
    action: ReviewAction
    comments: str | None
    reviewed_by: str | None
    reviewed_at: datetime
    agency_id: str | None
    submitted_by: str | None = None


class ElementNotApplicable(_Payload):
    """The business or the regulator marked an element not applicable to the facility."""

    facility_id: str
    organization_id: str
    element_id: str
    element: ElementType
    marked_by: str | None
    marked_by_regulator: bool
    marked_at: datetime
    comments: str | None = None


class HmbpCertified(_Payload):
    """The facility's HMBP was certified for the current cycle.

    ``kind`` NO_CHANGE is the "No change in HMBP" certification with its ``statement``;
    SUBMISSION is a normal submission that included all three HMBP elements.
    """

    facility_id: str
    organization_id: str
    kind: Literal["NO_CHANGE", "SUBMISSION"]
    certified_by: str | None
    certified_at: datetime
    element_ids: list[str]
    statement: str | None = None
