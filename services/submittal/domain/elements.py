"""The ten submittal element types, their statuses and which of them a facility must report."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class ElementType(StrEnum):
    FACILITY_INFORMATION = "FACILITY_INFORMATION"
    HAZARDOUS_MATERIALS_INVENTORY = "HAZARDOUS_MATERIALS_INVENTORY"
    EMERGENCY_RESPONSE_TRAINING_PLANS = "EMERGENCY_RESPONSE_TRAINING_PLANS"
    UST = "UST"
    TIERED_PERMITTING = "TIERED_PERMITTING"
    RECYCLABLE_MATERIALS_REPORT = "RECYCLABLE_MATERIALS_REPORT"
    REMOTE_WASTE_CONSOLIDATION = "REMOTE_WASTE_CONSOLIDATION"
    HAZARDOUS_WASTE_TANK_CLOSURE = "HAZARDOUS_WASTE_TANK_CLOSURE"
    APSA = "APSA"
    CALARP = "CALARP"

    @property
    def code(self) -> int:
        """The CERS submittal element code (SE 1-10)."""
        return list(ElementType).index(self) + 1


class SubmittalStatus(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    UNDER_REVIEW = "UNDER_REVIEW"
    ACCEPTED = "ACCEPTED"
    NOT_ACCEPTED = "NOT_ACCEPTED"
    NOT_APPLICABLE = "NOT_APPLICABLE"


class Requirement(StrEnum):
    NOT_APPLICABLE = "NOT_APPLICABLE"
    APPLICABLE = "APPLICABLE"
    ALWAYS_APPLICABLE = "ALWAYS_APPLICABLE"


HMBP = (
    ElementType.FACILITY_INFORMATION,
    ElementType.HAZARDOUS_MATERIALS_INVENTORY,
    ElementType.EMERGENCY_RESPONSE_TRAINING_PLANS,
)

# Business Activities question (our camelCase name) -> the elements a "yes" makes applicable.
# DATA-DICTIONARY §1; documented in docs/elements.md.
ACTIVITY_ELEMENTS: dict[str, tuple[ElementType, ...]] = {
    "hazardousMaterialsOnSite": (
        ElementType.HAZARDOUS_MATERIALS_INVENTORY,
        ElementType.EMERGENCY_RESPONSE_TRAINING_PLANS,
    ),
    "calArpRegulatedSubstances": (ElementType.CALARP,),
    "ownOrOperateUst": (ElementType.UST,),
    "ownOrOperateApst": (ElementType.APSA,),
    "recyclesMaterials": (ElementType.RECYCLABLE_MATERIALS_REPORT,),
    "onsiteHazardousWasteTreatment": (ElementType.TIERED_PERMITTING,),
    "remoteWasteConsolidation": (ElementType.REMOTE_WASTE_CONSOLIDATION,),
    "hazardousWasteTankClosure": (ElementType.HAZARDOUS_WASTE_TANK_CLOSURE,),
}


def applicability(activities: Mapping[str, bool | None] | None) -> dict[ElementType, Requirement]:
    """Which elements a facility must report, from its Business Activities answers.

    Facility Information is always applicable. Without answers (no Facility Information yet)
    nothing else is required, and an unanswered question counts as "no".
    """
    answers = activities or {}
    result = {element: Requirement.NOT_APPLICABLE for element in ElementType}
    result[ElementType.FACILITY_INFORMATION] = Requirement.ALWAYS_APPLICABLE
    for question, elements in ACTIVITY_ELEMENTS.items():
        if answers.get(question):
            for element in elements:
                result[element] = Requirement.APPLICABLE
    return result


def is_required(activities: Mapping[str, bool | None] | None, element: ElementType) -> bool:
    return applicability(activities)[element] is not Requirement.NOT_APPLICABLE
