"""Trade secrets and confidential locations, as statewide readers see them: withheld."""

from __future__ import annotations

from typing import Any

from services.submittal.domain.hmi import Component, HazardousMaterial

WITHHELD = "WITHHELD"

IDENTITY_FIELDS = ("chemicalName", "commonName", "casNumber", "components")
LOCATION_FIELDS = ("location", "mapNumber", "gridNumber")


def redact(material: HazardousMaterial) -> tuple[HazardousMaterial, list[str]]:
    """The material with secret identity and confidential location replaced, and what was."""
    update: dict[str, Any] = {}
    withheld: list[str] = []
    if material.trade_secret:
        update.update(chemical_name=WITHHELD, common_name=WITHHELD, cas_number=None,
                      components=tuple(Component(percent=c.percent, name=WITHHELD, ehs=c.ehs)
                                       for c in material.components))
        withheld += IDENTITY_FIELDS
    if material.location_confidential:
        update.update(location=WITHHELD, map_number=None, grid_number=None)
        withheld += LOCATION_FIELDS
    return (material.model_copy(update=update) if update else material), withheld


def redact_json(data: dict[str, Any]) -> dict[str, Any]:
    """An inventory's JSON data with every material redacted."""
    materials = []
    for raw in data.get("materials") or []:
        material, _ = redact(HazardousMaterial.model_validate(raw))
        materials.append(material.to_json())
    return {**data, "materials": materials}
