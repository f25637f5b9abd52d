"""Submitting: all drafts or none, the "No change in HMBP" certification, not-applicable marks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.auth import Principal
from common.contracts import submittal as contract
from common.events.envelope import Envelope
from common.events.outbox import record_event
from services.submittal.adapters.tables import EVENTS, Document, Element, FacilityView, now
from services.submittal.domain.changes import ChangeClass, classify
from services.submittal.domain.element_data import InvalidData, document_ids, parse, validate
from services.submittal.domain.elements import HMBP, ElementType, SubmittalStatus, is_required
from services.submittal.domain.facility_info import FacilityInformation
from services.submittal.domain.issues import Issue
from services.submittal.service_layer import changes
from services.submittal.service_layer.access import (
    Caller,
    facility_for,
    load_caller,
    require_fresh,
    require_member,
    require_signed_in,
)
from services.submittal.service_layer.deps import Deps
from services.submittal.service_layer.elements import (
    check_documents,
    latest_submitted,
    open_draft,
    typed,
)
from services.submittal.service_layer.errors import Invalid, forbidden
from services.submittal.service_layer.events import facility_information_values

MAX_STATEMENT = 2000


async def _drafts(session: AsyncSession, facility_id: str) -> list[Element]:
    rows = await session.execute(
        select(Element)
        .where(col(Element.facility_id) == facility_id,
               col(Element.status) == SubmittalStatus.DRAFT.value)
        .order_by(col(Element.element_type))
        .with_for_update()
    )
    return list(rows.scalars())


async def submit_drafts(
    deps: Deps, principal: Principal | None, facility_id: str
) -> list[Element]:
    """Validate every open draft of the facility, then submit all of them, or none."""
    require_fresh(deps.fresh)
    async with deps.db.transaction() as session:
        caller = await load_caller(session, principal, fresh=deps.fresh)
        require_signed_in(caller)
        facility = await facility_for(session, caller, facility_id)
        require_member(caller, facility, "APPROVER", "Submitting")
        drafts = await _drafts(session, facility_id)
        if not drafts:
            raise Invalid([Issue(("facilityId",), "There are no drafts to submit; start one "
                                 "with startSubmittal.", "NO_DRAFTS")])
        issues: list[Issue] = []
        models = {}
        for draft in drafts:
            element = ElementType(draft.element_type)
            try:
                model = parse(element, draft.data)
            except InvalidData as error:
                issues += [Issue((element.value, *i.path), i.message, i.code) for i in error.issues]
                continue
            models[draft.id] = model
            issues += [Issue((element.value, *i.path), i.message, i.code, i.severity)
                       for i in validate(element, model, facility.record.get("county"))
                       if i.is_error]
            await check_documents(session, facility_id, model, (element.value,))
        if issues:
            raise Invalid(issues)
        stamp = now()
        recorded = []
        for draft in drafts:
            element = ElementType(draft.element_type)
            previous = await latest_submitted(session, facility_id, element)
            change = classify(typed(previous) if previous else None, models[draft.id])
            draft.previous_id = previous.id if previous else None
            recorded.append(await _mark_submitted(session, caller, facility, draft, change,
                                                  stamp))
        if {ElementType(d.element_type) for d in drafts} >= set(HMBP):
            recorded.append(await _certified(session, caller, facility, drafts, "SUBMISSION",
                                             None, stamp))
        await changes.recorded_together(session, facility, recorded)
    return drafts


async def _mark_submitted(
    session: AsyncSession, caller: Caller, facility: FacilityView, row: Element,
    change: ChangeClass, stamp: datetime,
) -> Envelope:
    """Submit ``row`` and record its event; the caller passes the event to
    ``changes.recorded_together`` with the transaction's others."""
    row.status = SubmittalStatus.SUBMITTED.value
    row.submitted_by = caller.user_id
    row.submitted_at = stamp
    row.updated_at = stamp
    row.change_from_previous = change.value
    model = typed(row)
    ids = document_ids(model)
    if ids:
        # Submitted documents become readable by the facility's regulator (same as the element).
        await session.execute(
            update(Document).where(col(Document.id).in_(ids)).values(submitted=True)
        )
    info = None
    if isinstance(model, FacilityInformation):
        info = facility_information_values(model)
    payload = contract.ElementSubmitted(
        facility_id=facility.id, organization_id=facility.organization_id, element_id=row.id,
        element=row.element_type,
        change_from_previous=change.value, no_change_certification=row.no_change_certification,
        submitted_by=caller.user_id, submitted_at=stamp, facility_information=info,
    )
    await session.flush()
    return await record_event(session, EVENTS, type=contract.ELEMENT_SUBMITTED,
                              aggregate_id=facility.id, data=payload.model_dump(mode="json"),
                              actor=caller.user_id)


async def _certified(
    session: AsyncSession, caller: Caller, facility: FacilityView, rows: list[Element],
    kind: str, statement: str | None, stamp: datetime,
) -> Envelope:
    payload = contract.HmbpCertified(
        facility_id=facility.id, organization_id=facility.organization_id,
        kind=kind,
        certified_by=caller.user_id, certified_at=stamp,
        element_ids=[r.id for r in rows if ElementType(r.element_type) in HMBP],
        statement=statement,
    )
    return await record_event(session, EVENTS, type=contract.HMBP_CERTIFIED,
                              aggregate_id=facility.id, data=payload.model_dump(mode="json"),
                              actor=caller.user_id)


async def certify_no_change(
    deps: Deps, principal: Principal | None, facility_id: str, statement: str
) -> list[Element]:
    """Re-submit the last HMBP unchanged, with the certifier's signed statement."""
    require_fresh(deps.fresh)
    statement = (statement or "").strip()
    if not statement or len(statement) > MAX_STATEMENT:
        raise Invalid([Issue(("statement",), f"Give a statement of 1 to {MAX_STATEMENT} "
                             "characters certifying that nothing changed.")])
    async with deps.db.transaction() as session:
        caller = await load_caller(session, principal, fresh=deps.fresh)
        require_signed_in(caller)
        facility = await facility_for(session, caller, facility_id)
        require_member(caller, facility, "APPROVER", "Certifying no change")
        previous = {e: await latest_submitted(session, facility_id, e) for e in HMBP}
        missing = [e.value for e, row in previous.items() if row is None]
        if missing:
            raise Invalid([Issue(("facilityId",), "No change in HMBP needs all three HMBP "
                                 f"elements submitted before; missing: {', '.join(missing)}.",
                                 "HMBP_NOT_SUBMITTED")])
        stamp = now()
        copies = []
        recorded = []
        for element, source in previous.items():
            assert source is not None
            copy = Element(
                facility_id=facility_id, element_type=element.value,
                status=SubmittalStatus.SUBMITTED.value, data=dict(source.data),
                based_on="LAST_SUBMITTAL", based_on_id=source.id, created_by=caller.user_id,
                created_at=stamp, updated_at=stamp, no_change_certification=True,
                certification_statement=statement, previous_id=source.id,
            )
            session.add(copy)
            await session.flush()
            recorded.append(await _mark_submitted(session, caller, facility, copy,
                                                  ChangeClass.NO_CHANGES, stamp))
            copies.append(copy)
        recorded.append(await _certified(session, caller, facility, copies, "NO_CHANGE",
                                         statement, stamp))
        await changes.recorded_together(session, facility, recorded)
    return copies


async def mark_not_applicable(
    deps: Deps, principal: Principal | None, facility_id: str, element: ElementType,
    comments: str | None,
) -> Element:
    """Record that ``element`` does not apply; refused when Business Activities require it."""
    require_fresh(deps.fresh)
    if comments is not None and len(comments) > 1500:
        raise Invalid([Issue(("comments",), "Comments are at most 1,500 characters.")])
    async with deps.db.transaction() as session:
        caller = await load_caller(session, principal, fresh=deps.fresh)
        require_signed_in(caller)
        facility = await facility_for(session, caller, facility_id)
        by_regulator = caller.is_regulator(facility, "INSPECTOR")
        if not (caller.is_member(facility, "EDITOR") or by_regulator):
            raise forbidden("Marking an element not applicable needs EDITOR or above in the "
                            "business, or INSPECTOR or above at the facility's agency.")
        answers = await _activity_answers(session, facility_id)
        if is_required(answers, element):
            raise Invalid([Issue(("element",), f"{element.value} is required by the facility's "
                                 "Business Activities answers; change those answers first.",
                                 "ELEMENT_REQUIRED")])
        draft = await open_draft(session, facility_id, element)
        if draft is not None:
            await session.delete(draft)
        stamp = now()
        row = Element(facility_id=facility_id, element_type=element.value,
                      status=SubmittalStatus.NOT_APPLICABLE.value, data={},
                      created_by=caller.user_id, created_at=stamp, updated_at=stamp,
                      submitted_by=caller.user_id, submitted_at=stamp,
                      review_comments=comments)
        session.add(row)
        await session.flush()
        payload = contract.ElementNotApplicable(
            facility_id=facility_id, organization_id=facility.organization_id,
            element_id=row.id, element=element.value,
            marked_by=caller.user_id, marked_by_regulator=by_regulator and not
            caller.is_member(facility, "EDITOR"), marked_at=stamp, comments=comments,
        )
        envelope = await record_event(session, EVENTS, type=contract.ELEMENT_NOT_APPLICABLE,
                                      aggregate_id=facility_id,
                                      data=payload.model_dump(mode="json"), actor=caller.user_id)
        await changes.recorded(session, facility, envelope)
    return row


async def _activity_answers(session: AsyncSession, facility_id: str) -> dict[str, Any] | None:
    latest = await latest_submitted(session, facility_id, ElementType.FACILITY_INFORMATION)
    if latest is None:
        return None
    model = typed(latest)
    return model.activity_answers() if isinstance(model, FacilityInformation) else None
