"""GraphQL types of the elements declared field by field (UST, Tiered Permitting, ...).

Each domain model gets an output type of its own name and an input type named ``<Name>Input``,
generated from the pydantic model (never the model itself decorated), nested models first.
Code lists become enums whose values document the CERS code and label.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from strawberry.experimental.pydantic import input as pyd_input
from strawberry.experimental.pydantic import type as pyd_type
from strawberry.types.enum import EnumValue, StrawberryEnumDefinition

from services.submittal.domain.codes import CodeList
from services.submittal.domain.documents import DocumentSlot
from services.submittal.domain.element_data import DECLARED, MODELS
from services.submittal.domain.elements import ElementType
from services.submittal.domain.form import meta_of
from services.submittal.domain.model import Model
from services.submittal.domain.rules import model_in
from services.submittal.graphql import data_types

OUTPUTS: dict[type[Model], Any] = {DocumentSlot: data_types.DocumentSlot}
INPUTS: dict[type[Model], Any] = {DocumentSlot: data_types.DocumentSlotInput}

# ElementType -> (the field of SubmittalElement and SaveDraftInput that carries it)
FIELD_NAMES: dict[ElementType, str] = {
    ElementType.UST: "ust",
    ElementType.TIERED_PERMITTING: "tiered_permitting",
    ElementType.RECYCLABLE_MATERIALS_REPORT: "recyclable_materials_report",
    ElementType.REMOTE_WASTE_CONSOLIDATION: "remote_waste_consolidation",
    ElementType.HAZARDOUS_WASTE_TANK_CLOSURE: "hazardous_waste_tank_closure",
    ElementType.APSA: "apsa",
    ElementType.CALARP: "cal_arp",
}


def _describe_enum(cls: type[CodeList]) -> None:
    if hasattr(cls, "__strawberry_definition__"):
        return
    doc = (cls.__doc__ or "").strip()
    cls.__strawberry_definition__ = StrawberryEnumDefinition(  # type: ignore[attr-defined]
        wrapped_cls=cls, name=cls.__name__,
        values=[EnumValue(m.name, m.value, description=f"CERS code {m.code}: {m.label}")
                for m in cls],
        description=f"{doc} CERS codes and labels are in each value's description.".strip(),
    )


def _enums_in(annotation: Any) -> list[type[Enum]]:
    if isinstance(annotation, type) and issubclass(annotation, CodeList):
        return [annotation]
    return [e for arg in getattr(annotation, "__args__", ()) for e in _enums_in(arg)]


def register(model: type[Model]) -> None:
    """Output and input types for ``model`` and every model it holds."""
    if model in OUTPUTS:
        return
    for info in model.model_fields.values():
        for enum in _enums_in(info.annotation):
            if issubclass(enum, CodeList):
                _describe_enum(enum)
        nested = model_in(info.annotation)
        if nested is not None:
            register(nested)
    name = model.__name__
    description = (model.__doc__ or "").strip().split("\n\n")[0] or None
    wide = _wide_integers(model)
    OUTPUTS[model] = pyd_type(model=model, all_fields=True, name=name, description=description)(
        type(name, (), {"__annotations__": dict(wide)}))
    INPUTS[model] = pyd_input(model=model, all_fields=True, name=f"{name}Input",
                              description=description)(
        type(f"{name}Input", (), {"__annotations__": dict(wide)}))


INT_MAX = 2**31 - 1


def _wide_integers(model: type[Model]) -> dict[str, Any]:
    """Whole numbers that can pass GraphQL's 32-bit Int (an APSA capacity of up to 12 digits)
    travel as Float; the model still takes only whole numbers."""
    wide: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        meta = meta_of(info)
        if meta is not None and meta.le is not None and meta.le > INT_MAX and int in getattr(
                info.annotation, "__args__", ()):
            wide[name] = float | None
    return wide


for _element in sorted(DECLARED):
    register(MODELS[_element])


def output_of(element: ElementType) -> Any:
    return OUTPUTS[MODELS[element]]


def input_of(element: ElementType) -> Any:
    return INPUTS[MODELS[element]]


# Named so the SubmittalElement fields and SaveDraftInput can annotate with them.
UndergroundStorageTanks = output_of(ElementType.UST)
UndergroundStorageTanksInput = input_of(ElementType.UST)
TieredPermitting = output_of(ElementType.TIERED_PERMITTING)
TieredPermittingInput = input_of(ElementType.TIERED_PERMITTING)
RecyclableMaterialsReport = output_of(ElementType.RECYCLABLE_MATERIALS_REPORT)
RecyclableMaterialsReportInput = input_of(ElementType.RECYCLABLE_MATERIALS_REPORT)
RemoteWasteConsolidation = output_of(ElementType.REMOTE_WASTE_CONSOLIDATION)
RemoteWasteConsolidationInput = input_of(ElementType.REMOTE_WASTE_CONSOLIDATION)
HazardousWasteTankClosure = output_of(ElementType.HAZARDOUS_WASTE_TANK_CLOSURE)
HazardousWasteTankClosureInput = input_of(ElementType.HAZARDOUS_WASTE_TANK_CLOSURE)
AbovegroundPetroleumStorage = output_of(ElementType.APSA)
AbovegroundPetroleumStorageInput = input_of(ElementType.APSA)
CalArp = output_of(ElementType.CALARP)
CalArpInput = input_of(ElementType.CALARP)
