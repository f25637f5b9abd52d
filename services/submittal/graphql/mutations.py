"""Mutations: each translates its input into one use case and its outcome into a payload."""

from __future__ import annotations

import enum
from collections.abc import Awaitable
from typing import Any, TypeVar

import strawberry
from pydantic import ValidationError
from pydantic.alias_generators import to_camel
from strawberry.scalars import JSON

from common.graphql import UserError, coded_error, context_of, list_size
from services.submittal.adapters.tables import Element
from services.submittal.domain.elements import ElementType
from services.submittal.domain.issues import Issue
from services.submittal.domain.model import Model, parse_issues
from services.submittal.graphql import data_types as dt
from services.submittal.graphql import element_types as et
from services.submittal.graphql.context import Info, deps_of
from services.submittal.graphql.types import BasedOn, ReviewAction, SubmittalElement, user_errors
from services.submittal.service_layer import drafts, imports, review, submit
from services.submittal.service_layer.errors import Invalid, Refused

T = TypeVar("T")


async def run(call: Awaitable[T]) -> tuple[T | None, list[Issue]]:
    """Run a use case: refusals become coded errors, fixable input becomes userErrors."""
    try:
        return await call, []
    except Refused as refused:
        raise coded_error(refused.code, refused.message) from refused
    except Invalid as invalid:
        return None, invalid.issues


@strawberry.input
class StartSubmittalInput:
    facility_id: strawberry.ID
    element: dt.ElementTypeEnum  # type: ignore[valid-type]
    based_on: BasedOn = BasedOn.BLANK


@strawberry.input(description="The draft's whole new data: the typed field of its element, or "
                  "`data` as JSON in the documented schema (docs/elements.md).")
class SaveDraftInput:
    id: strawberry.ID
    facility_information: dt.FacilityInformationInput | None = None
    hazardous_materials: dt.HazardousMaterialsInventoryInput | None = None
    emergency_plans: dt.EmergencyPlansInput | None = None
    ust: et.UndergroundStorageTanksInput | None = None
    tiered_permitting: et.TieredPermittingInput | None = None
    recyclable_materials_report: et.RecyclableMaterialsReportInput | None = None
    remote_waste_consolidation: et.RemoteWasteConsolidationInput | None = None
    hazardous_waste_tank_closure: et.HazardousWasteTankClosureInput | None = None
    apsa: et.AbovegroundPetroleumStorageInput | None = None
    cal_arp: et.CalArpInput | None = None
    data: JSON | None = None


@strawberry.input
class ElementIdInput:
    id: strawberry.ID


@strawberry.input
class FacilityIdInput:
    facility_id: strawberry.ID


@strawberry.input
class CertifyNoChangeInput:
    facility_id: strawberry.ID
    statement: str


@strawberry.input
class MarkNotApplicableInput:
    facility_id: strawberry.ID
    element: dt.ElementTypeEnum  # type: ignore[valid-type]
    comments: str | None = None


@strawberry.input
class ReviewSubmittalElementInput:
    id: strawberry.ID
    action: ReviewAction
    comments: str | None = None


@strawberry.input
class AttachDocumentInput:
    element_id: strawberry.ID
    slot: str = strawberry.field(description="siteMap, emergencyResponsePlan, "
                                 "employeeTrainingPlan, documents.0 ...")
    document_id: strawberry.ID


@strawberry.enum
class ImportMode(enum.Enum):
    REPLACE = "REPLACE"
    APPEND = "APPEND"


@strawberry.input
class ImportHazardousMaterialsInput:
    id: strawberry.ID = strawberry.field(description="The inventory draft to import into.")
    csv: str
    mode: ImportMode = ImportMode.REPLACE


@strawberry.type(description="A draft operation's outcome. `userErrors` says why nothing was "
                 "done; `findings` are the validation results of a draft that was saved.")
class SubmittalElementPayload:
    element: SubmittalElement | None
    user_errors: list[UserError]
    findings: list[UserError] = strawberry.field(
        default_factory=list, description="Validation findings of the saved draft (ERROR "
        "blocks submitDrafts, WARNING does not); the same as element.validation.")


@strawberry.type
class DiscardDraftPayload:
    id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class SubmitDraftsPayload:
    elements: list[SubmittalElement] = strawberry.field(directives=[list_size(assumed=10)])
    user_errors: list[UserError]


@strawberry.type
class ImportHazardousMaterialsPayload:
    element: SubmittalElement | None
    imported_count: int
    user_errors: list[UserError]
    findings: list[UserError] = strawberry.field(
        default_factory=list, description="Validation findings of the draft after the import.")


def _payload(result: tuple[Element, list[Issue]] | None, issues: list[Issue]
             ) -> SubmittalElementPayload:
    if result is None:
        return SubmittalElementPayload(element=None, user_errors=user_errors(issues))
    row, findings = result
    return SubmittalElementPayload(element=SubmittalElement.from_domain(row, True),
                                   user_errors=[], findings=user_errors(findings))


TYPED_INPUTS = ("facility_information", "hazardous_materials", "emergency_plans",
                *et.FIELD_NAMES.values())


def _draft_data(input: SaveDraftInput) -> dict[str, Any]:
    given = [v for v in (getattr(input, name) for name in TYPED_INPUTS) if v is not None]
    if len(given) + (input.data is not None) != 1:
        names = ", ".join(to_camel(n) for n in TYPED_INPUTS)
        raise Invalid([Issue(("input",), f"Give exactly one of {names} or data.")])
    if input.data is not None:
        if not isinstance(input.data, dict):
            raise Invalid([Issue(("data",), "data must be a JSON object.")])
        return input.data
    try:
        model: Model = given[0].to_pydantic()
        return model.to_json()
    except ValidationError as error:
        raise Invalid(parse_issues(error, by_name=True)) from error


def _principal(info: Info) -> Any:
    return context_of(info).principal


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def start_submittal(self, info: Info, input: StartSubmittalInput
                              ) -> SubmittalElementPayload:
        result, issues = await run(drafts.start_submittal(
            deps_of(info), _principal(info), str(input.facility_id), ElementType(input.element),
            input.based_on.value))
        return _payload(result, issues)

    @strawberry.mutation
    async def save_draft(self, info: Info, input: SaveDraftInput) -> SubmittalElementPayload:
        async def call() -> tuple[Element, list[Issue]]:
            return await drafts.save_draft(deps_of(info), _principal(info), str(input.id),
                                           _draft_data(input))
        result, issues = await run(call())
        return _payload(result, issues)

    @strawberry.mutation
    async def discard_draft(self, info: Info, input: ElementIdInput) -> DiscardDraftPayload:
        _, issues = await run(drafts.discard_draft(deps_of(info), _principal(info),
                                                   str(input.id)))
        return DiscardDraftPayload(id=None if issues else input.id,
                                   user_errors=user_errors(issues))

    @strawberry.mutation
    async def attach_document(self, info: Info, input: AttachDocumentInput
                              ) -> SubmittalElementPayload:
        result, issues = await run(drafts.attach_document(
            deps_of(info), _principal(info), str(input.element_id), input.slot,
            str(input.document_id)))
        return _payload(result, issues)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Validate every draft of the facility, then submit all "
                         "of them, or none.")
    async def submit_drafts(self, info: Info, input: FacilityIdInput) -> SubmitDraftsPayload:
        return await _many(submit.submit_drafts(deps_of(info), _principal(info),
                                                str(input.facility_id)))

    @strawberry.mutation
    async def certify_no_change(self, info: Info, input: CertifyNoChangeInput
                                ) -> SubmitDraftsPayload:
        return await _many(submit.certify_no_change(
            deps_of(info), _principal(info), str(input.facility_id), input.statement))

    @strawberry.mutation
    async def mark_not_applicable(self, info: Info, input: MarkNotApplicableInput
                                  ) -> SubmittalElementPayload:
        row, issues = await run(submit.mark_not_applicable(
            deps_of(info), _principal(info), str(input.facility_id), ElementType(input.element),
            input.comments))
        return _payload((row, []) if row is not None else None, issues)

    @strawberry.mutation
    async def review_submittal_element(self, info: Info, input: ReviewSubmittalElementInput
                                       ) -> SubmittalElementPayload:
        row, issues = await run(review.review_element(
            deps_of(info), _principal(info), str(input.id), input.action.value, input.comments))
        return _payload((row, []) if row is not None else None, issues)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Import inventory records from CSV (columns in "
                         "docs/elements.md; template at GET /documents/templates/hmi.csv). "
                         "Nothing is written if any row has an error.")
    async def import_hazardous_materials(self, info: Info, input: ImportHazardousMaterialsInput
                                         ) -> ImportHazardousMaterialsPayload:
        result, issues = await run(imports.import_csv(
            deps_of(info), _principal(info), str(input.id), input.csv, input.mode.value))
        if result is None:
            return ImportHazardousMaterialsPayload(element=None, imported_count=0,
                                                   user_errors=user_errors(issues))
        row, count, findings = result
        return ImportHazardousMaterialsPayload(
            element=SubmittalElement.from_domain(row, True), imported_count=count,
            user_errors=[], findings=user_errors(findings))


async def _many(call: Awaitable[list[Element]]) -> SubmitDraftsPayload:
    rows, issues = await run(call)
    return SubmitDraftsPayload(
        elements=[SubmittalElement.from_domain(r, True) for r in rows or []],
        user_errors=user_errors(issues))

