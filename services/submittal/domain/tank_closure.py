"""Hazardous Waste Tank Closure Certification (SE 8): one closure certificate per tank.

In the CERS 1/10 schema each closure is its certificate document (DATA-DICTIONARY-ELEMENTS
§5). The certificate's metadata (guidance 1011) and the measurements come from the legacy
tank closure form (740–764): the tank's ID and the flammable-vapour and oxygen readings at the
top, centre and bottom, the tank owner and the certifier.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.submittal.domain.documents import DocumentSlot
from services.submittal.domain.form import Record, When, field
from services.submittal.domain.issues import Checker
from services.submittal.domain.model import Model

READINGS = "Readings (% by volume)"


def _reading(label: str, cers: str) -> Any:
    return field(label, cers, section=READINGS, ge=0, le=99.99)


class HazardousWasteTankClosureRecord(Record):
    """One closed tank: its ID, readings and the closure certificate."""

    key_field = "tank_id"

    tank_id: str | None = field("Tank ID", "745", section="Tank", required=True, max_length=6,
                                code="MISSING_TANK_CLOSURE_METADATA")
    flammable_vapour_top: float | None = _reading("Flammable vapour, top", "746a")
    flammable_vapour_centre: float | None = _reading("Flammable vapour, centre", "746b")
    flammable_vapour_bottom: float | None = _reading("Flammable vapour, bottom", "746c")
    oxygen_top: float | None = _reading("Oxygen, top", "747a")
    oxygen_centre: float | None = _reading("Oxygen, centre", "747b")
    oxygen_bottom: float | None = _reading("Oxygen, bottom", "747c")
    certificate: DocumentSlot | None = field("Tank closure certificate", "RT 22", required=True)


class TankOwner(Model):
    name: str | None = field("Name", "740", required=True, max_length=80)
    address: str | None = field("Address", "741", max_length=70)
    city: str | None = field("City", "742", max_length=60)
    state: str | None = field("State", "743", max_length=2)
    zip_code: str | None = field("ZIP code", "744", max_length=10)
    country: str | None = field("Country", "744a", max_length=45)


AFFILIATION = "Certifier is a"


class ClosureCertifier(Model):
    name: str | None = field("Certifier name", "754", section="Certifier", required=True,
                             max_length=80)
    title: str | None = field("Certifier title", "755", section="Certifier", max_length=50)
    address: str | None = field("Address", "756", section="Certifier", max_length=70)
    city: str | None = field("City", "757", section="Certifier", max_length=60)
    phone: str | None = field("Phone", "758", section="Certifier", max_length=25)
    certified_on: dt.date | None = field("Date certified", "759", section="Certifier",
                                         required=True, past=True)
    represents_local_agency: bool | None = field("Certifier represents a local agency", "760",
                                                 section="Certifier")
    local_agency_name: str | None = field(
        "Name of the local agency", "761", section="Certifier", max_length=35,
        required_when=When("represents_local_agency", (True,)))
    industrial_hygienist: bool | None = field("Certified industrial hygienist", "762a",
                                              section=AFFILIATION)
    safety_professional: bool | None = field("Certified safety professional", "762b",
                                             section=AFFILIATION)
    marine_chemist: bool | None = field("Certified marine chemist", "762c", section=AFFILIATION)
    environmental_specialist: bool | None = field("Registered environmental specialist",
                                                  "762d", section=AFFILIATION)
    professional_engineer: bool | None = field("Professional engineer", "762e",
                                               section=AFFILIATION)
    environmental_assessor: bool | None = field("Environmental assessor", "762f",
                                                section=AFFILIATION)
    licensed_contractor: bool | None = field("Licensed contractor", "762g", section=AFFILIATION)

    def extra_rules(self, check: Checker) -> None:
        if not (self.represents_local_agency or self.industrial_hygienist
                or self.safety_professional or self.marine_chemist
                or self.environmental_specialist or self.professional_engineer
                or self.environmental_assessor or self.licensed_contractor):
            check.warning("industrialHygienist", "Say who the certifier is: a local agency or "
                          "one of the listed professions.", "CERTIFIER_QUALIFICATION_MISSING")


class TankClosureDocuments(Model):
    locally_collected: DocumentSlot | None = field("Locally required documents", "RT 41")
    miscellaneous_state_required: DocumentSlot | None = field(
        "Miscellaneous state-required documents", "RT 58")


class HazardousWasteTankClosure(Model):
    """Hazardous waste tank closure certification (SE 8)."""

    closures: tuple[HazardousWasteTankClosureRecord, ...] = field(
        "Closed tanks", "RT 22", max_items=100, min_items=1, item_label="Tank",
        significant=True)
    tank_owner: TankOwner | None = field("Tank owner", "740–744a")
    certifier: ClosureCertifier | None = field("Certifier", "754–762")
    tank_held_flammable: bool | None = field(
        "The tank held flammable or combustible materials", "763", section="Closure")
    management_instructions: str | None = field("Management instructions", "764",
                                                section="Closure", max_length=150, long=True)
    documents: TankClosureDocuments | None = field("Documents")

    def extra_rules(self, check: Checker) -> None:
        seen: dict[str, int] = {}
        for i, closure in enumerate(self.closures):
            key = (closure.tank_id or "").strip().lower()
            if key and key in seen:
                check.at("closures", i).error("tankId", f"Tank ID {closure.tank_id} is already "
                                              f"closed by tank {seen[key] + 1}.",
                                              "DUPLICATE_TANK_ID")
            seen.setdefault(key, i)
