"""Loading elements and the caller's view of them; shared by the use cases and GraphQL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.submittal.adapters.tables import Document, Element, FacilityView
from services.submittal.domain.element_data import document_ids, parse
from services.submittal.domain.elements import ElementType, SubmittalStatus
from services.submittal.domain.issues import Issue
from services.submittal.domain.model import Model
from services.submittal.service_layer.access import Caller, require_in_step
from services.submittal.service_layer.errors import Invalid, Refused, not_found

# Statuses of an element that was submitted: what "previous" and "current" look at.
SUBMITTED_STATES = (
    SubmittalStatus.SUBMITTED.value,
    SubmittalStatus.UNDER_REVIEW.value,
    SubmittalStatus.ACCEPTED.value,
    SubmittalStatus.NOT_ACCEPTED.value,
)


def element_type(value: str) -> ElementType:
    try:
        return ElementType(value)
    except ValueError as error:
        raise Refused("BAD_USER_INPUT", f"Unknown element type {value!r}.") from error


def may_see(caller: Caller, facility: FacilityView, element: Element) -> bool:
    if element.status == SubmittalStatus.DRAFT.value:
        return caller.is_member(facility)
    return caller.sees_submissions(facility)


async def element_for(
    session: AsyncSession, caller: Caller, element_id: str, *, lock: bool = False
) -> tuple[Element, FacilityView]:
    query = select(Element).where(col(Element.id) == element_id)
    if lock:
        query = query.with_for_update()
    element = (await session.execute(query)).scalar_one_or_none()
    facility = await session.get(FacilityView, element.facility_id) if element else None
    if facility is not None:
        require_in_step(caller, facility)
    if element is None or facility is None or not may_see(caller, facility, element):
        raise not_found(f"Submittal element {element_id}")
    return element, facility


async def latest_submitted(
    session: AsyncSession, facility_id: str, element: ElementType
) -> Element | None:
    query = (
        select(Element)
        .where(
            col(Element.facility_id) == facility_id,
            col(Element.element_type) == element.value,
            col(Element.status).in_(SUBMITTED_STATES),
        )
        .order_by(col(Element.submitted_at).desc(), col(Element.id).desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def open_draft(
    session: AsyncSession, facility_id: str, element: ElementType
) -> Element | None:
    query = select(Element).where(
        col(Element.facility_id) == facility_id,
        col(Element.element_type) == element.value,
        col(Element.status) == SubmittalStatus.DRAFT.value,
    )
    return (await session.execute(query)).scalar_one_or_none()


def typed(element: Element) -> Model:
    return parse(ElementType(element.element_type), element.data)


async def check_documents(
    session: AsyncSession, facility_id: str, model: Model, prefix: Iterable[str | int] = ()
) -> None:
    """Every document the data names was uploaded for this facility; else nothing is saved."""
    wanted = document_ids(model)
    if not wanted:
        return
    rows = await session.execute(
        select(col(Document.id)).where(col(Document.id).in_(wanted),
                                  col(Document.facility_id) == facility_id)
    )
    missing = sorted(wanted - set(rows.scalars()))
    if missing:
        raise Invalid([Issue((*prefix, "documentIds"),
                             f"Unknown document ids for this facility: {', '.join(missing)}. "
                             "Upload them with POST /documents?facilityId=... first.",
                             "UNKNOWN_DOCUMENT")])


def json_data(model: Model) -> dict[str, Any]:
    return model.to_json()
