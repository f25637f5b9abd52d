"""Certification, corrections, permits and reminders: the annual-update side of a facility."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.auth import Principal
from common.contracts import facility as contract
from common.contracts import submittal
from common.events.envelope import Envelope
from services.facility.adapters.tables import (
    Agency,
    Facility,
    FacilityReason,
    KnownUser,
    Permit,
    ReminderSent,
)
from services.facility.domain import compliance as rules
from services.facility.domain.actors import Actor
from services.facility.domain.roles import StaffRole
from services.facility.service_layer.access import load_caller, require_user
from services.facility.service_layer.context import Facilities
from services.facility.service_layer.errors import (
    BadInput,
    ComplianceNotCurrent,
    NotFound,
    Unavailable,
)
from services.facility.service_layer.people import lead_emails
from services.facility.service_layer.records import (
    add_history,
    clear_reasons,
    raise_reason,
    snapshot,
)

FACILITY_INFORMATION = "FACILITY_INFORMATION"

log = logging.getLogger(__name__)


async def open_reasons(session: AsyncSession, facility_id: str) -> list[rules.OpenReason]:
    rows = await session.execute(
        select(FacilityReason).where(col(FacilityReason.facility_id) == facility_id)
    )
    return [
        rules.OpenReason(rules.UpdateReason(r.reason), r.due_by, r.element or None)
        for r in rows.scalars()
    ]


async def status_of(
    session: AsyncSession, facility: Facility, today: date
) -> rules.ComplianceStatus:
    return rules.compliance_status(
        facility.annual_due_date, await open_reasons(session, facility.id), today
    )


async def issue_permit(
    app: Facilities, principal: Principal | None, facility_id: str, expires_at: date
) -> Permit:
    actor = require_user(principal)
    async with app.db.transaction() as session:
        caller = await load_caller(session, principal)
        facility = await session.get(Facility, facility_id)
        if facility is None:
            raise NotFound(f"No facility {facility_id}.", field=["facilityId"])
        caller.require_staff(facility.agency_id, StaffRole.APPROVER, "Issuing a permit")
        if not app.read_model_fresh(facility.id):
            raise Unavailable(
                f"A submittal event about facility {facility.cers_id} has not reached the "
                "facility service yet, so its compliance may be out of date; no permit is "
                "issued until it has. Retry in a minute."
            )
        if expires_at <= app.today():
            raise BadInput("A permit must expire after today.", field=["expiresAt"])
        reasons = await open_reasons(session, facility.id)
        status = rules.compliance_status(facility.annual_due_date, reasons, app.today())
        refusal = rules.permit_refusal(status, reasons, facility.annual_due_date)
        if refusal:
            raise ComplianceNotCurrent(refusal, status=status.value)
        count = len(
            list(
                await session.execute(
                    select(col(Permit.id)).where(col(Permit.facility_id) == facility.id)
                )
            )
        )
        permit = Permit(
            facility_id=facility.id,
            number=f"{facility.cers_id}-{count + 1:03d}",
            issued_at=app.now(),
            expires_at=expires_at,
            issued_by=actor,
        )
        session.add(permit)
        await session.flush()
        add_history(
            session,
            facility.id,
            app.now(),
            Actor.person(actor),
            "PERMIT_ISSUED",
            {"number": permit.number},
        )
        await app.emit(
            session,
            contract.PERMIT_ISSUED,
            facility.id,
            contract.PermitIssued(
                permit_id=permit.id,
                facility_id=facility.id,
                number=permit.number,
                issued_at=permit.issued_at,
                expires_at=expires_at,
                issued_by=actor,
            ),
            actor,
        )
        return permit


async def certification_window(session: AsyncSession, facility: Facility) -> int:
    agency = await session.get(Agency, facility.agency_id) if facility.agency_id else None
    return agency.certification_window_days if agency else rules.DEFAULT_CERTIFICATION_WINDOW_DAYS


async def hmbp_certified(app: Facilities, session: AsyncSession, envelope: Envelope) -> None:
    """Certify the earliest uncertified cycle when it is open: its due date moves to the
    anniversary a year on. Otherwise the certification is recorded and moves nothing."""
    event = submittal.HmbpCertified.model_validate(envelope.data)
    facility = await session.get(Facility, event.facility_id)
    if facility is None:
        log.warning(
            "certification %s for unknown facility %s ignored", envelope.id, event.facility_id
        )
        return
    window = await certification_window(session, facility)
    result = rules.certify(facility.annual_due_date, event.certified_at.date(), window)
    facility.last_annual_update_at = event.certified_at
    facility.updated_at = app.now()
    previous = facility.annual_due_date
    add_history(
        session,
        facility.id,
        app.now(),
        Actor.of_event(event.certified_by, "submittal"),
        "HMBP_CERTIFIED",
        {
            "kind": event.kind,
            "certified_at": event.certified_at.isoformat(),
            "cycle_due": previous.isoformat(),
            "cycle_opens_on": rules.cycle_opens_on(previous, window).isoformat(),
            "moved": result.certified_cycle,
        },
    )
    if result.certified_cycle:
        facility.annual_due_date = result.next_due_date
        await app.emit(
            session,
            contract.DUE_DATE_CHANGED,
            facility.id,
            contract.DueDateChanged(
                facility_id=facility.id,
                annual_due_date=result.next_due_date,
                previous_due_date=previous,
                cause="CERTIFIED",
            ),
            event.certified_by,
        )


def _contact(data: dict[str, Any] | None) -> dict[str, Any] | None:
    # Submittal names the 24-hour phone phone_24_hour; the record calls it phone24h.
    if not data:
        return None
    out = {k: v for k, v in data.items() if v not in (None, "") and k != "phone_24_hour"}
    if data.get("phone_24_hour"):
        out["phone24h"] = data["phone_24_hour"]
    return out


async def element_submitted(app: Facilities, session: AsyncSession, envelope: Envelope) -> None:
    """A submission clears its element's correction; Facility Information also applies its
    owner/operator, mailing address and contacts to the record and clears the reasons raised
    by edits and transfers."""
    event = submittal.ElementSubmitted.model_validate(envelope.data)
    facility = await session.get(Facility, event.facility_id)
    if facility is None:
        log.warning("submission %s for unknown facility %s ignored", envelope.id, event.facility_id)
        return
    cleared = await clear_reasons(
        session, facility, {rules.UpdateReason.CORRECTION}, element=event.element
    )
    if event.element == FACILITY_INFORMATION:
        cleared += await clear_reasons(
            session, facility, set(rules.CLEARED_BY_FACILITY_INFORMATION)
        )
        info = event.facility_information
        if info is not None:
            if info.owner_operator:
                facility.owner_operator = dict(info.owner_operator)
            if info.mailing_address:
                facility.mailing_address = dict(info.mailing_address)
            if info.contacts:
                facility.contacts = {k: _contact(v) for k, v in info.contacts.items()}
        facility.updated_at = app.now()
        await app.emit(
            session,
            contract.FACILITY_UPDATED,
            facility.id,
            contract.FacilityUpdated(facility=snapshot(facility), changes=[]),
            event.submitted_by,
        )
    elif cleared:
        await compliance_changed(app, session, facility, event.submitted_by)
    add_history(
        session,
        facility.id,
        app.now(),
        Actor.of_event(event.submitted_by, "submittal"),
        "ELEMENT_SUBMITTED",
        {"element": event.element, "change": event.change_from_previous, "cleared": cleared},
    )


ELEMENT_NAMES = {
    "FACILITY_INFORMATION": "Facility Information",
    "HAZARDOUS_MATERIALS_INVENTORY": "Hazardous Materials Inventory",
    "EMERGENCY_RESPONSE_TRAINING_PLANS": "Emergency Response and Training Plans",
    "UST": "UST",
    "TIERED_PERMITTING": "Tiered Permitting",
    "RECYCLABLE_MATERIALS_REPORT": "Recyclable Materials Report",
    "REMOTE_WASTE_CONSOLIDATION": "Remote Waste Consolidation Site",
    "HAZARDOUS_WASTE_TANK_CLOSURE": "Hazardous Waste Tank Closure Certification",
    "APSA": "APSA",
    "CALARP": "CalARP",
}
REVIEW_OUTCOMES = {
    "UNDER_REVIEW": ("Under review", "is reviewing"),
    "ACCEPT": ("Accepted", "accepted"),
    "NOT_ACCEPT": ("Correction needed", "did not accept"),
}


async def compliance_changed(
    app: Facilities, session: AsyncSession, facility: Facility, actor: str | None
) -> None:
    """Tell readers of compliance (submittal's search) that the open reasons changed."""
    reasons = [
        contract.OpenReason(reason=r.reason.value, due_by=r.due_by, element=r.element)
        for r in await open_reasons(session, facility.id)
    ]
    await app.emit(
        session,
        contract.FACILITY_COMPLIANCE_CHANGED,
        facility.id,
        contract.FacilityComplianceChanged(facility=snapshot(facility), reasons=reasons),
        actor,
    )


async def element_reviewed(app: Facilities, session: AsyncSession, envelope: Envelope) -> None:
    """Every review outcome is recorded and mailed to the business's lead users and the
    submitter; NOT_ACCEPT also opens a CORRECTION for that element."""
    event = submittal.ElementReviewed.model_validate(envelope.data)
    facility = await session.get(Facility, event.facility_id)
    if facility is None:
        log.warning("review %s of unknown facility %s ignored", envelope.id, event.facility_id)
        return
    reviewer = Actor.of_event(event.reviewed_by, "submittal")
    comments = event.comments or "(no comments)"
    name = ELEMENT_NAMES.get(event.element, event.element)
    due_line = ""
    if event.action == "NOT_ACCEPT":
        await raise_reason(
            session, facility, rules.UpdateReason.CORRECTION, event.reviewed_at, event.element
        )
        due_line = f"Submit a corrected {name} by {rules.reason_due_by(event.reviewed_at)}.\n\n"
        await compliance_changed(app, session, facility, event.reviewed_by)
    add_history(
        session,
        facility.id,
        app.now(),
        reviewer,
        "CORRECTION_REQUIRED" if event.action == "NOT_ACCEPT" else "ELEMENT_REVIEWED",
        {"element": event.element, "action": event.action, "comments": comments},
    )
    headline, verb = REVIEW_OUTCOMES[event.action]
    app.mail(
        session,
        await review_recipients(session, facility.organization_id, event.submitted_by),
        f"{headline}: {name} of {facility.name} (CERS ID {facility.cers_id})",
        f"Your regulator {verb} the {name} submission of {facility.name} "
        f"(CERS ID {facility.cers_id}).\n\nComments:\n{comments}\n\n{due_line}"
        f"See it in the Business Portal: {app.public_base_url}/elements/{event.element_id}\n",
    )


async def review_recipients(
    session: AsyncSession, organization_id: str, submitted_by: str | None
) -> list[str]:
    """The business's lead users, and whoever submitted the element if still an account."""
    recipients = await lead_emails(session, organization_id)
    if submitted_by:
        submitter = await session.get(KnownUser, submitted_by)
        if submitter is not None and submitter.active:
            recipients.append(submitter.email)
    return recipients


async def send_reminders(app: Facilities, limit: int = 500) -> int:
    """Email lead users 30 days before the due date and when overdue, once each per cycle."""
    today = app.today()
    sent = 0
    async with app.db.transaction() as session:
        windows = (
            ("OVERDUE", col(Facility.annual_due_date) < today),
            (
                "DUE_SOON",
                col(Facility.annual_due_date).between(today, today + rules.DUE_SOON_WINDOW),
            ),
        )
        for kind, window in windows:
            already = select(col(ReminderSent.facility_id)).where(
                col(ReminderSent.facility_id) == Facility.id,
                col(ReminderSent.due_date) == Facility.annual_due_date,
                col(ReminderSent.kind) == kind,
            )
            due = (
                await session.execute(
                    select(Facility).where(window, ~already.exists()).limit(limit)
                )
            ).scalars()
            for facility in list(due):
                sent += await _remind(app, session, facility, kind)
    return sent


async def _remind(app: Facilities, session: AsyncSession, facility: Facility, kind: str) -> int:
    session.add(
        ReminderSent(
            facility_id=facility.id,
            due_date=facility.annual_due_date,
            kind=kind,
            sent_at=app.now(),
        )
    )
    verb = "was due" if kind == "OVERDUE" else "is due"
    app.mail(
        session,
        await lead_emails(session, facility.organization_id),
        f"Annual update {verb} {facility.annual_due_date}: {facility.name}",
        f"The annual HMBP update of {facility.name} (CERS ID {facility.cers_id}) {verb} "
        f"on {facility.annual_due_date}. Certify it in the Business Portal.\n",
    )
    return 1
