"""One entry point per element type: parse its JSON data, validate it, list its documents."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from services.submittal.domain.documents import slot_document_ids
from services.submittal.domain.elements import ElementType
from services.submittal.domain.facility_info import FacilityInformation, check_facility_information
from services.submittal.domain.hmi import HazardousMaterialsInventory, check_inventory
from services.submittal.domain.issues import Checker, Issue
from services.submittal.domain.model import Model, parse_issues
from services.submittal.domain.other import OtherElement, check_other
from services.submittal.domain.plans import EmergencyPlans, check_plans

MODELS: dict[ElementType, type[Model]] = {
    ElementType.FACILITY_INFORMATION: FacilityInformation,
    ElementType.HAZARDOUS_MATERIALS_INVENTORY: HazardousMaterialsInventory,
    ElementType.EMERGENCY_RESPONSE_TRAINING_PLANS: EmergencyPlans,
}


class InvalidData(Exception):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(issue.message for issue in issues))
        self.issues = issues


def model_for(element: ElementType) -> type[Model]:
    return MODELS.get(element, OtherElement)


def parse(element: ElementType, data: dict[str, Any]) -> Model:
    """Typed data of ``element``; raises InvalidData for wrong types or unknown fields."""
    try:
        return model_for(element).model_validate(data)
    except ValidationError as error:
        raise InvalidData(parse_issues(error)) from error


def validate(element: ElementType, model: Model, county: str | None = None) -> list[Issue]:
    """Every finding (completeness included) for data already parsed; ``county`` is the
    facility's, which a reported location must lie in."""
    check = Checker()
    if isinstance(model, FacilityInformation):
        check_facility_information(check, model, county)
    elif isinstance(model, HazardousMaterialsInventory):
        check_inventory(check, model)
    elif isinstance(model, EmergencyPlans):
        check_plans(check, model)
    elif isinstance(model, OtherElement):
        check_other(check, element, model)
    return check.issues


def document_ids(model: Model) -> set[str]:
    if isinstance(model, HazardousMaterialsInventory):
        return slot_document_ids(model.site_map)
    if isinstance(model, EmergencyPlans):
        return slot_document_ids(model.emergency_response_plan, model.employee_training_plan,
                                 model.owner_statement_of_compliance, model.locally_required)
    if isinstance(model, OtherElement):
        return slot_document_ids(*model.documents)
    return set()
