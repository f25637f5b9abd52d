"""One entry point per element type: parse its JSON data, validate it, list its documents."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from services.submittal.domain import rules
from services.submittal.domain.apsa import AbovegroundPetroleumStorage
from services.submittal.domain.calarp import CalArp
from services.submittal.domain.documents import DocumentSlot
from services.submittal.domain.elements import ElementType
from services.submittal.domain.facility_info import FacilityInformation, check_facility_information
from services.submittal.domain.form import duplicate_ids, with_record_ids
from services.submittal.domain.hmi import HazardousMaterialsInventory, check_inventory
from services.submittal.domain.issues import Checker, Issue
from services.submittal.domain.model import Model, parse_issues
from services.submittal.domain.plans import EmergencyPlans, check_plans
from services.submittal.domain.recyclable import RecyclableMaterialsReport
from services.submittal.domain.remote_waste import RemoteWasteConsolidation
from services.submittal.domain.tank_closure import HazardousWasteTankClosure
from services.submittal.domain.tiered_permitting import TieredPermitting
from services.submittal.domain.ust import UndergroundStorageTanks

MODELS: dict[ElementType, type[Model]] = {
    ElementType.FACILITY_INFORMATION: FacilityInformation,
    ElementType.HAZARDOUS_MATERIALS_INVENTORY: HazardousMaterialsInventory,
    ElementType.EMERGENCY_RESPONSE_TRAINING_PLANS: EmergencyPlans,
    ElementType.UST: UndergroundStorageTanks,
    ElementType.TIERED_PERMITTING: TieredPermitting,
    ElementType.RECYCLABLE_MATERIALS_REPORT: RecyclableMaterialsReport,
    ElementType.REMOTE_WASTE_CONSOLIDATION: RemoteWasteConsolidation,
    ElementType.HAZARDOUS_WASTE_TANK_CLOSURE: HazardousWasteTankClosure,
    ElementType.APSA: AbovegroundPetroleumStorage,
    ElementType.CALARP: CalArp,
}
# The elements whose fields are declared with form.field: rules, comparison and form
# description all come from the declarations.
DECLARED = frozenset(e for e in MODELS if e not in (
    ElementType.FACILITY_INFORMATION, ElementType.HAZARDOUS_MATERIALS_INVENTORY,
    ElementType.EMERGENCY_RESPONSE_TRAINING_PLANS))


class InvalidData(Exception):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(issue.message for issue in issues))
        self.issues = issues


def model_for(element: ElementType) -> type[Model]:
    return MODELS[element]


def parse(element: ElementType, data: dict[str, Any]) -> Model:
    """Typed data of ``element``; raises InvalidData for wrong types or unknown fields."""
    try:
        return model_for(element).model_validate(data)
    except ValidationError as error:
        raise InvalidData(parse_issues(error)) from error


def prepare(element: ElementType, data: dict[str, Any]) -> Model:
    """Data a client sends for a draft, parsed, with a stable id on every new record.

    Two records of one list with the same id are refused: the id is how a record is followed
    from one submission to the next.
    """
    model = parse(element, data)
    repeated = duplicate_ids(model)
    if repeated:
        raise InvalidData([Issue(path, "Two records have the same id; leave id empty for a "
                                 "new record.", "DUPLICATE_RECORD_ID") for path in repeated])
    return with_record_ids(model)


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
    else:
        rules.check(check, model)
    return check.issues


def document_ids(model: Model) -> set[str]:
    """Every uploaded document the data names, wherever its slot sits."""
    found: set[str] = set()
    _collect(model, found)
    return found


def _collect(value: Any, found: set[str]) -> None:
    if isinstance(value, DocumentSlot):
        found.update(value.document_ids)
    elif isinstance(value, Model):
        for name in type(value).model_fields:
            _collect(getattr(value, name), found)
    elif isinstance(value, tuple):
        for item in value:
            if isinstance(item, Model):
                _collect(item, found)
