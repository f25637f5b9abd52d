"""Regulator review of submitted elements, and the queue of what is waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlmodel import col

from common.auth import Principal
from common.contracts import submittal as contract
from common.events.outbox import record_event
from services.submittal.adapters.read_model import county_key
from services.submittal.adapters.tables import EVENTS, Element, FacilityView, now
from services.submittal.domain.elements import ElementType, SubmittalStatus
from services.submittal.domain.issues import Issue
from services.submittal.service_layer import changes
from services.submittal.service_layer.access import load_caller, require_fresh, require_signed_in
from services.submittal.service_layer.deps import Deps
from services.submittal.service_layer.elements import SUBMITTED_STATES, element_for
from services.submittal.service_layer.errors import Invalid, Refused, forbidden

MAX_COMMENTS = 1500
ACTIONS = {
    "UNDER_REVIEW": SubmittalStatus.UNDER_REVIEW,
    "ACCEPT": SubmittalStatus.ACCEPTED,
    "NOT_ACCEPT": SubmittalStatus.NOT_ACCEPTED,
}


async def review_element(
    deps: Deps, principal: Principal | None, element_id: str, action: str, comments: str | None
) -> Element:
    """An INSPECTOR or APPROVER (or ADMIN) of the facility's agency records a decision."""
    require_fresh(deps.fresh)
    comments = comments.strip() if comments else None
    if comments and len(comments) > MAX_COMMENTS:
        raise Invalid([Issue(("comments",), f"Comments are at most {MAX_COMMENTS} characters "
                             f"(got {len(comments)}).", "TOO_LONG")])
    if action == "NOT_ACCEPT" and not comments:
        raise Invalid([Issue(("comments",), "Say what must be corrected when not accepting.",
                             "REQUIRED")])
    async with deps.db.transaction() as session:
        caller = await load_caller(session, principal, fresh=deps.fresh)
        require_signed_in(caller)
        element, facility = await element_for(session, caller, element_id, lock=True)
        if not caller.is_regulator(facility, "INSPECTOR"):
            raise forbidden("Reviewing needs INSPECTOR or APPROVER at the facility's agency.")
        if element.status not in SUBMITTED_STATES:
            raise Refused("BAD_USER_INPUT", f"Element {element_id} is {element.status}; only "
                          "submitted elements are reviewed.")
        stamp = now()
        element.status = ACTIONS[action].value
        element.review_action = action
        element.review_comments = comments
        element.reviewed_by = caller.user_id
        element.reviewed_at = stamp
        element.updated_at = stamp
        await session.flush()
        payload = contract.ElementReviewed(
            facility_id=facility.id, organization_id=facility.organization_id,
            element_id=element.id, element=element.element_type,
            action=action,
            comments=comments, reviewed_by=caller.user_id, reviewed_at=stamp,
            agency_id=facility.agency_id, submitted_by=element.submitted_by,
        )
        envelope = await record_event(session, EVENTS, type=contract.ELEMENT_REVIEWED,
                                      aggregate_id=facility.id,
                                      data=payload.model_dump(mode="json"), actor=caller.user_id)
        await changes.recorded(session, facility, envelope)
    return element


@dataclass(frozen=True)
class QueueFilter:
    statuses: tuple[str, ...] = (SubmittalStatus.SUBMITTED.value,
                                 SubmittalStatus.UNDER_REVIEW.value)
    element: ElementType | None = None
    facility_id: str | None = None
    agency_id: str | None = None
    county: str | None = None


async def review_queue(
    deps: Deps, principal: Principal | None, flt: QueueFilter, first: int,
    after: tuple[str, str] | None,
) -> tuple[list[Element], bool]:
    """Submitted elements in the caller's jurisdiction, oldest submission first (keyset)."""
    async with deps.db.read() as session:
        caller = await load_caller(session, principal, fresh=deps.fresh)
        require_signed_in(caller)
        if not caller.is_statewide:
            require_fresh(deps.fresh)
        query = (
            select(Element)
            .join(FacilityView, col(FacilityView.id) == col(Element.facility_id))
            .where(col(Element.status).in_(flt.statuses))
        )
        if not caller.is_statewide:
            if not caller.staff:
                return [], False
            query = query.where(col(FacilityView.agency_id).in_(list(caller.staff)))
        if flt.agency_id:
            query = query.where(col(FacilityView.agency_id) == flt.agency_id)
        if flt.county is not None:
            query = query.where(col(FacilityView.county_key) == county_key(flt.county))
        if flt.element:
            query = query.where(col(Element.element_type) == flt.element.value)
        if flt.facility_id:
            query = query.where(col(Element.facility_id) == flt.facility_id)
        if after is not None:
            at, last_id = datetime.fromisoformat(after[0]), after[1]
            query = query.where(or_(col(Element.submitted_at) > at, and_(
                col(Element.submitted_at) == at, col(Element.id) > last_id)))
        query = query.order_by(col(Element.submitted_at), col(Element.id)).limit(first + 1)
        rows = list((await session.execute(query)).scalars())
    return rows[:first], len(rows) > first
