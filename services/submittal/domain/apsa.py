"""Aboveground Petroleum Storage Act (SE 9): the APSA facility information and its documents.

DATA-DICTIONARY-ELEMENTS §6 and DATA-DICTIONARY §5. The CERS schemas hold no tank-level APSA
data; tank details go in the APSA document.
"""

from __future__ import annotations

import datetime as dt

from services.submittal.domain.documents import DocumentSlot
from services.submittal.domain.form import field
from services.submittal.domain.issues import Checker
from services.submittal.domain.model import Model

# HSC 25270.2: APSA applies from 1,320 gallons of aboveground petroleum storage capacity.
APSA_THRESHOLD_GALLONS = 1_320
# HSC 25270.4.5: the conditional exemption is for tank facilities below 10,000 gallons.
CONDITIONAL_EXEMPTION_LIMIT = 10_000


class ApsaDocuments(Model):
    apsa_document: DocumentSlot | None = field(
        "APSA document (for example the SPCC plan or a tank list)", "RT 49")
    locally_collected: DocumentSlot | None = field("Locally required documents", "RT 42")
    miscellaneous_state_required: DocumentSlot | None = field(
        "Miscellaneous state-required documents", "RT 59")


class AbovegroundPetroleumStorage(Model):
    """APSA facility information (SE 9)."""

    conditionally_exempt: bool | None = field(
        "Conditionally exempt under APSA", "800", section="APSA facility", required=True,
        significant=True)
    spcc_plan_date: dt.date | None = field(
        "Date of SPCC plan certification or five-year review", "801", section="APSA facility",
        past=True)
    total_capacity_gallons: int | None = field(
        "Total aboveground petroleum storage capacity (gallons)", "802",
        section="APSA facility", required=True, ge=1, le=999_999_999_999, significant=True)
    tanks_in_underground_areas: int | None = field(
        "Number of tanks in underground areas", "803", section="APSA facility", ge=0,
        le=99_999)
    documents: ApsaDocuments | None = field("Documents")

    def extra_rules(self, check: Checker) -> None:
        capacity = self.total_capacity_gallons
        if capacity is not None and 1 <= capacity < APSA_THRESHOLD_GALLONS:
            check.warning("totalCapacityGallons", f"APSA applies from {APSA_THRESHOLD_GALLONS:,} "
                          f"gallons; with {capacity:,} gallons the element may not apply "
                          "(unless a tank is in an underground area).", "BELOW_APSA_THRESHOLD")
        if (self.conditionally_exempt and capacity is not None
                and capacity >= CONDITIONAL_EXEMPTION_LIMIT):
            check.warning("conditionallyExempt", "The conditional exemption is for less than "
                          f"{CONDITIONAL_EXEMPTION_LIMIT:,} gallons; check the capacity or "
                          "the exemption.", "INCONSISTENT")
        if self.conditionally_exempt is False and self.spcc_plan_date is None:
            check.warning("spccPlanDate", "A facility that is not conditionally exempt keeps "
                          "an SPCC plan: give the date of its certification or last five-year "
                          "review.", "SPCC_DATE_MISSING")
