"""The Facility entity as the submittal subgraph extends it: elements, drafts, current HMBP."""

from __future__ import annotations

from typing import Any

import strawberry

from common.graphql import coded_error, list_size
from services.submittal.adapters.tables import Element, FacilityView
from services.submittal.domain.element_data import parse
from services.submittal.domain.elements import (
    HMBP,
    ElementType,
    Requirement,
    applicability,
)
from services.submittal.domain.facility_info import FacilityInformation as FacilityInfoModel
from services.submittal.graphql import data_types as dt
from services.submittal.graphql.context import (
    Info,
    caller_of,
    drafts_by_facility,
    element_data,
    elements_by_facility,
    facilities,
    recent_elements,
)
from services.submittal.graphql.types import SubmittalElement
from services.submittal.service_layer.elements import SUBMITTED_STATES, may_see

RequirementEnum = strawberry.enum(Requirement, name="ElementRequirementLevel")
MAX_ELEMENTS_PAGE = 200


@strawberry.type
class ElementRequirement:
    element: dt.ElementTypeEnum  # type: ignore[valid-type]
    requirement: RequirementEnum  # type: ignore[valid-type]


@strawberry.type
class Hmbp:
    """The facility's current HMBP: the latest submission of each of its three elements."""

    facility_information: SubmittalElement | None
    hazardous_materials_inventory: SubmittalElement | None
    emergency_response_training_plans: SubmittalElement | None


async def _facility_rows(info: Info, facility_id: str) -> tuple[FacilityView | None, list[Element]]:
    facility = await facilities(info).load(facility_id)
    if facility is None:
        return None, []
    return facility, await elements_by_facility(info).load(facility_id)


@strawberry.federation.type(keys=["id"])
class Facility:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, **kwargs: Any) -> Facility:
        return cls(id=strawberry.ID(str(kwargs["id"])))

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Submitted, reviewed and not-applicable elements (and, for "
                    "the business, its drafts), newest first: the newest `first` (at most "
                    f"{MAX_ELEMENTS_PAGE}); narrow older ones with `element` and `status`. Null "
                    "when the submittal service cannot answer.",
        directives=[list_size(slicing=["first"])])
    async def submittal_elements(
        self, info: Info, element: dt.ElementTypeEnum | None = None,  # type: ignore[valid-type]
        status: dt.SubmittalStatusEnum | None = None,  # type: ignore[valid-type]
        first: int = 50,
    ) -> list[SubmittalElement] | None:
        if not 0 <= first <= MAX_ELEMENTS_PAGE:
            raise coded_error("BAD_USER_INPUT", f"first must be between 0 and "
                              f"{MAX_ELEMENTS_PAGE}.", field=["first"])
        facility = await facilities(info).load(str(self.id))
        if facility is None:
            return []
        caller = await caller_of(info)
        if not caller.sees_submissions(facility) and not caller.is_member(facility):
            return []
        rows = await recent_elements(info).load((
            str(self.id),
            element.value if element else None,  # type: ignore[attr-defined]
            status.value if status else None,  # type: ignore[attr-defined]
            caller.is_member(facility), first,
        ))
        secrets = caller.sees_secrets(facility)
        return [SubmittalElement.from_domain(row, secrets) for row in rows
                if may_see(caller, facility, row)]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Open drafts, at most one per element type; only the facility's business "
                    "sees them. Null when the submittal service cannot answer.",
        directives=[list_size(assumed=10)])
    async def drafts(self, info: Info) -> list[SubmittalElement] | None:
        facility = await facilities(info).load(str(self.id))
        if facility is None:
            return []
        caller = await caller_of(info)
        if not caller.is_member(facility):
            return []
        rows = await drafts_by_facility(info).load(str(self.id))
        return [SubmittalElement.from_domain(r, True) for r in rows]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Which elements the facility must report, from the Business Activities "
        "answers of its latest submitted Facility Information (docs/elements.md). Null when "
        "the submittal service cannot answer.",
        directives=[list_size(assumed=10)])
    async def required_elements(self, info: Info) -> list[ElementRequirement] | None:
        facility, rows = await _facility_rows(info, str(self.id))
        if facility is None or not (await caller_of(info)).sees_submissions(facility):
            return []
        answers = None
        infos = [r for r in rows if r.status in SUBMITTED_STATES
                 and r.element_type == ElementType.FACILITY_INFORMATION.value]
        if infos:
            latest = max(infos, key=lambda r: (r.submitted_at or r.created_at, r.id))
            data = await element_data(info, latest)
            model = parse(ElementType.FACILITY_INFORMATION, data) if data is not None else None
            if isinstance(model, FacilityInfoModel):
                answers = model.activity_answers()
        return [ElementRequirement(element=element, requirement=level)
                for element, level in applicability(answers).items()]

    @strawberry.field
    async def current_hmbp(self, info: Info) -> Hmbp | None:
        facility, rows = await _facility_rows(info, str(self.id))
        if facility is None:
            return None
        caller = await caller_of(info)
        if not caller.sees_submissions(facility):
            return None
        secrets = caller.sees_secrets(facility)
        latest: dict[str, SubmittalElement] = {}
        submitted = sorted((r for r in rows if r.status in SUBMITTED_STATES),
                           key=lambda r: (r.submitted_at or r.created_at, r.id), reverse=True)
        for row in submitted:
            latest.setdefault(row.element_type, SubmittalElement.from_domain(row, secrets))
        if not any(e.value in latest for e in HMBP):
            return None
        return Hmbp(
            facility_information=latest.get(ElementType.FACILITY_INFORMATION.value),
            hazardous_materials_inventory=latest.get(
                ElementType.HAZARDOUS_MATERIALS_INVENTORY.value),
            emergency_response_training_plans=latest.get(
                ElementType.EMERGENCY_RESPONSE_TRAINING_PLANS.value),
        )
