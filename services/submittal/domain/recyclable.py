"""Recyclable Materials Report (SE 6).

In the CERS 1/10 schema the report is a document (the RMR document slot). The report's data
elements come from the legacy form (500–527, DATA-DICTIONARY-ELEMENTS §3): the reporting
period, where the recycling happens, the offsite generator and one entry per material. A
business may attach the report, fill in the materials, or both; one of them is required.
The sources give no labels for the legacy hazardous-constituent units (530, 532), so the
constituents (528–551) are left to the attached report.
"""

from __future__ import annotations

import datetime as dt

from services.submittal.domain.codes import WasteQuantityUnit
from services.submittal.domain.documents import DocumentSlot
from services.submittal.domain.form import Record, When, field
from services.submittal.domain.issues import Checker
from services.submittal.domain.model import Model

PERIOD, GENERATOR, CERTIFY = "Reporting period", "Offsite generator", "Certification"


class RecyclableMaterial(Record):
    key_field = "common_name"

    number: int | None = field("Material number", "520", ge=1, le=9_999)
    common_name: str | None = field("Common name", "521", required=True, max_length=500)
    quantity_two_years: int | None = field("Quantity during the two-year period", "522", ge=0,
                                           le=2_147_483_647, significant=True)
    quantity_unit: WasteQuantityUnit | None = field("Units of the quantity", "523")
    description: str | None = field("Description of the material", "524", max_length=150,
                                    long=True)
    process_and_beneficial_use: str | None = field(
        "Recycling process and beneficial use", "525", max_length=150, long=True)
    authorizing_provision: str | None = field("Authorizing provision of the HSC", "526",
                                              max_length=20)
    basis_for_exclusion: str | None = field("Basis for the claim to exclusion", "527",
                                            max_length=50)

    def extra_rules(self, check: Checker) -> None:
        if self.quantity_two_years is not None and self.quantity_unit is None:
            check.error("quantityUnit", "Units of the quantity is required with a quantity.",
                        "REQUIRED")


class RecyclableMaterialsDocuments(Model):
    rmr_document: DocumentSlot | None = field("Recyclable materials report", "RT 48")
    locally_collected: DocumentSlot | None = field("Locally required documents", "RT 39")
    miscellaneous_state_required: DocumentSlot | None = field(
        "Miscellaneous state-required documents", "RT 56")


class RecyclableMaterialsReport(Model):
    """The recyclable materials report (SE 6)."""

    period_begins: dt.date | None = field("Reporting period begins", "500", section=PERIOD)
    period_ends: dt.date | None = field("Reporting period ends", "501", section=PERIOD)
    onsite_recycling: bool | None = field("Recycled onsite", "502", section=PERIOD)
    offsite_recycling: bool | None = field("Recycled offsite", "503", section=PERIOD)
    offsite_generator_name: str | None = field(
        "Offsite generator name", "504", section=GENERATOR, max_length=80,
        required_when=When("offsite_recycling", (True,)))
    offsite_generator_epa_id: str | None = field("Offsite generator EPA ID", "505",
                                                 section=GENERATOR, exact_length=12)
    offsite_address: str | None = field("Address", "506", section=GENERATOR, max_length=70)
    offsite_city: str | None = field("City", "508", section=GENERATOR, max_length=60)
    offsite_state: str | None = field("State", "509", section=GENERATOR, max_length=2)
    offsite_zip_code: str | None = field("ZIP code", "514", section=GENERATOR, max_length=10)
    offsite_phone: str | None = field("Phone", "507", section=GENERATOR, max_length=25)
    certified_on: dt.date | None = field("Date certified", "515", section=CERTIFY, past=True)
    preparer_name: str | None = field("Document preparer", "516", section=CERTIFY,
                                      max_length=80)
    certifier_name: str | None = field("Certifier name", "517", section=CERTIFY, max_length=80)
    certifier_title: str | None = field("Certifier title", "518", section=CERTIFY,
                                        max_length=50)
    materials: tuple[RecyclableMaterial, ...] = field(
        "Recyclable materials", "RMM", max_items=500, item_label="Material", significant=True)
    documents: RecyclableMaterialsDocuments | None = field("Documents")

    def extra_rules(self, check: Checker) -> None:
        if (self.period_begins and self.period_ends
                and self.period_ends < self.period_begins):
            check.error("periodEnds", "The reporting period ends before it begins.",
                        "INCONSISTENT")
        report = self.documents.rmr_document if self.documents else None
        if not self.materials and (report is None or report.option is None):
            check.at("documents", "rmrDocument").error(
                "option", "Provide the recyclable materials report: attach it (or choose an "
                "alternative), or list the materials.", "REQUIRED")
