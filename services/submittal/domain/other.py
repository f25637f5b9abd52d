"""The seven non-HMBP elements: documented structured data plus document slots.

Their full CERS field lists are long (DATA-DICTIONARY §5); we keep their data as a JSON object
whose headline fields are checked here, so clients can already report them and the rules can
grow without a schema change. docs/elements.md lists the headline fields.
"""

from __future__ import annotations

from typing import Any

from services.submittal.domain.documents import DocumentSlot, check_slot
from services.submittal.domain.elements import ElementType
from services.submittal.domain.issues import Checker
from services.submittal.domain.model import Model


class OtherElement(Model):
    fields: dict[str, Any] = {}
    documents: tuple[DocumentSlot, ...] = ()


# element -> (required headline field, its allowed values or None for "any non-empty value")
HEADLINE: dict[ElementType, tuple[tuple[str, tuple[Any, ...] | None], ...]] = {
    ElementType.UST: (("typeOfAction", (1, 3, 5, 6, 7, 9)), ("facilityType", (1, 2, 3, 4, 6))),
    ElementType.TIERED_PERMITTING: (("unitTypes", None),),
    ElementType.RECYCLABLE_MATERIALS_REPORT: (("materials", None),),
    ElementType.REMOTE_WASTE_CONSOLIDATION: (("remoteSites", None),),
    ElementType.HAZARDOUS_WASTE_TANK_CLOSURE: (("tankIds", None),),
    ElementType.APSA: (("conditionallyExempt", (True, False)),
                       ("totalAbovegroundStorageCapacity", None)),
    ElementType.CALARP: (("programLevel", (1, 2, 3)),),
}


def check_other(check: Checker, element: ElementType, data: OtherElement) -> None:
    for field, allowed in HEADLINE.get(element, ()):
        value = data.fields.get(field)
        at = check.at("fields")
        if value is None or value == "" or value == []:
            at.error(field, f"{field} is required for {element.value}.", "REQUIRED")
        elif allowed is not None and value not in allowed:
            at.error(field, f"{field} must be one of {', '.join(map(str, allowed))}.")
    capacity = data.fields.get("totalAbovegroundStorageCapacity")
    if element is ElementType.APSA and capacity is not None and (
        not isinstance(capacity, int) or capacity < 0
    ):
        check.at("fields").error("totalAbovegroundStorageCapacity",
                                 "Capacity is a whole number of gallons.")
    for i, slot in enumerate(data.documents):
        check_slot(check.at("documents", i), slot, f"Document {i + 1}", required=True)
