"""Queries of the submittal subgraph."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from common.graphql import PageInfo, coded_error, context_of, decode_cursor, encode_cursor
from services.submittal.domain.element_data import model_for
from services.submittal.domain.elements import ElementType, SubmittalStatus
from services.submittal.domain.hmi_csv import TEMPLATE
from services.submittal.domain.spec import form_spec
from services.submittal.graphql import data_types as dt
from services.submittal.graphql.context import Info, caller_of, deps_of, facilities
from services.submittal.graphql.types import (
    SubmittalElement,
    SubmittalElementConnection,
    SubmittalElementEdge,
    visible_element,
)
from services.submittal.service_layer import review
from services.submittal.service_layer.errors import Refused


@strawberry.input
class ReviewQueueFilter:
    status: list[dt.SubmittalStatusEnum] | None = None  # type: ignore[valid-type]
    element: dt.ElementTypeEnum | None = None  # type: ignore[valid-type]
    facility_id: strawberry.ID | None = None
    agency_id: strawberry.ID | None = None
    county: str | None = strawberry.field(
        default=None, description="A county's name, e.g. \"Plumas\" (case does not matter)."
    )


@strawberry.type
class Query:
    @strawberry.field
    async def submittal_element(self, info: Info, id: strawberry.ID) -> SubmittalElement | None:
        return await visible_element(info, str(id))

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Submitted elements in the caller's jurisdiction, oldest "
                      "submission first; statewide readers see every county.")
    async def review_queue(
        self, info: Info, filter: ReviewQueueFilter | None = None, first: int = 20,
        after: str | None = None,
    ) -> SubmittalElementConnection:
        if context_of(info).principal is None:
            raise coded_error("UNAUTHENTICATED", "Sign in first.")
        flt = review.QueueFilter()
        if filter is not None:
            flt = review.QueueFilter(
                statuses=tuple(SubmittalStatus(s).value for s in filter.status)
                if filter.status else flt.statuses,
                element=ElementType(filter.element) if filter.element else None,
                facility_id=str(filter.facility_id) if filter.facility_id else None,
                agency_id=str(filter.agency_id) if filter.agency_id else None,
                county=filter.county,
            )
        cursor = decode_cursor(after) if after else None
        if cursor is not None and len(cursor) != 2:
            raise coded_error("BAD_USER_INPUT", "Invalid cursor: pass endCursor unchanged.")
        try:
            rows, more = await review.review_queue(
                deps_of(info), context_of(info).principal, flt, max(0, min(first, 200)),
                (str(cursor[0]), str(cursor[1])) if cursor else None)
        except Refused as refused:
            raise coded_error(refused.code, refused.message) from refused
        caller = await caller_of(info, fresh=False)
        edges = []
        for row in rows:
            facility = await facilities(info).load(row.facility_id)
            secrets = facility is not None and caller.sees_secrets(facility)
            assert row.submitted_at is not None
            edges.append(SubmittalElementEdge(
                cursor=encode_cursor(row.submitted_at.isoformat(), row.id),
                node=SubmittalElement.from_domain(row, secrets)))
        return SubmittalElementConnection(edges=edges, page_info=PageInfo(
            has_next_page=more, end_cursor=edges[-1].cursor if edges else None))

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="How the element's form is built: its fields in order with labels, CERS "
        "numbers, sections, code lists with their labels, repeatable groups, document slots "
        "and what is required (docs/elements.md, \"Form descriptions\"). Public, like a blank "
        "paper form.")
    def element_form(self, element: dt.ElementTypeEnum) -> JSON:  # type: ignore[valid-type]
        return JSON(form_spec(model_for(ElementType(element))))

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The CSV template of the inventory import (also at GET "
                      "/documents/templates/hmi.csv).")
    def hazardous_materials_csv_template(self) -> str:
        return TEMPLATE
