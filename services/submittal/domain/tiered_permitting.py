"""Onsite Hazardous Waste Treatment Notification / Tiered Permitting (SE 5): the facility page,
one page per treatment unit with its waste and treatment process combinations for its tier,
the certifications of financial assurance and the documents.

DATA-DICTIONARY-ELEMENTS §2. Tiers (607): CESQT, CESW, CA, PBR and CEL, each with its own
combinations; commercial laundries (CECL) are only counted (602f).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.submittal.domain.codes import CodeList, WasteQuantityUnit
from services.submittal.domain.documents import DocumentSlot
from services.submittal.domain.form import Record, When, field
from services.submittal.domain.issues import Checker
from services.submittal.domain.model import Model
from services.submittal.domain.tiered_combinations import (
    CaCombinations,
    CelCombinations,
    CesqtCombinations,
    CeswCombinations,
    Combinations,
    PbrCombinations,
)


class TreatmentTier(CodeList):
    CESQT = "a", "Conditionally Exempt Small Quantity Treatment (CESQT)"
    CESW = "b", "Conditionally Exempt Specified Wastestream (CESW)"
    CA = "c", "Conditionally Authorized (CA)"
    PBR = "d", "Permit by Rule (PBR)"
    CEL = "e", "Conditionally Exempt Limited (CEL)"


class FinancialAssuranceOperation(CodeList):
    PBR_FTU = "a", "PBR-FTU"
    CA = "b", "CA"


class ClosureAssuranceMechanism(CodeList):
    TRUST_FUND = "a", "Closure Trust Fund"
    SURETY_BOND = "b", "Surety Bond"
    LETTER_OF_CREDIT = "c", "Closure Letter of Credit"
    INSURANCE = "d", "Closure Insurance"
    FINANCIAL_TEST = "e", "Financial Test and Corporate Guarantee"
    ALTERNATIVE = "f", "Alternative Mechanism"
    MULTIPLE = "g", "Multiple Financial Mechanisms"
    CERTIFICATE_OF_DEPOSIT = "h", "Certificate of Deposit"
    SAVINGS_ACCOUNT = "i", "Savings Account"


class CertificationSigner(CodeList):
    OWNER = "a", "Owner"
    OPERATOR = "b", "Operator"


# ---------------------------------------------------------------- unit page (RT 9)

UNIT, BASIS, RESIDUALS = "Unit", "Basis for not needing a federal permit", "Residuals"
TIER_GROUPS = {TreatmentTier.CESQT: "cesqt", TreatmentTier.CESW: "cesw",
               TreatmentTier.CA: "ca", TreatmentTier.PBR: "pbr", TreatmentTier.CEL: "cel"}


def _tier(tier: TreatmentTier, label: str, cers: str) -> Any:
    return field(label, cers, shown_when=When("unit_type", (tier,)))


class TreatmentUnit(Record):
    key_field = "unit_id"

    unit_id: str | None = field("Unit ID", "606", section=UNIT, required=True, max_length=18)
    unit_type: TreatmentTier | None = field("Unit type (tier)", "607", section=UNIT,
                                            required=True, significant=True)
    unit_name: str | None = field("Unit name", "610", section=UNIT, max_length=30)
    number_of_tanks: int | None = field("Number of tanks", "608", section=UNIT, required=True,
                                        ge=0, le=99)
    number_of_containers: int | None = field("Number of containers or treatment areas", "609",
                                             section=UNIT, required=True, ge=0, le=99)
    monthly_volume: int | None = field("Monthly treatment volume", "611", section=UNIT,
                                       required=True, ge=1, le=99_999_999, significant=True)
    volume_unit: WasteQuantityUnit | None = field("Unit of measure", "612", section=UNIT,
                                                  required=True)
    specific_waste_type: str | None = field("Specific waste type treated", "613", section=UNIT,
                                            max_length=150)
    treatment_process_description: str | None = field(
        "Treatment process description", "614", section=UNIT, required=True, max_length=150,
        long=True)
    secondary_containment_installed_on: dt.date | None = field(
        "Secondary containment installation date", "617", section=UNIT, past=True)
    basis_california_only_waste: bool | None = field(
        "The waste is hazardous only under California law", "615a", section=BASIS)
    basis_wastewater_treatment: bool | None = field(
        "Wastewater treatment tanks discharging to a POTW or sewer, or under an NPDES permit",
        "615b", section=BASIS)
    basis_elementary_neutralization: bool | None = field("Elementary neutralization", "615c",
                                                         section=BASIS)
    basis_totally_enclosed: bool | None = field("Totally enclosed treatment", "615d",
                                                section=BASIS)
    basis_federal_small_quantity: bool | None = field(
        "Federal conditionally exempt small quantity generator (100 kg a month or less)",
        "615e", section=BASIS)
    basis_accumulation: bool | None = field(
        "Treatment in an accumulation tank or container within 90, 180 or 270 days", "615f",
        section=BASIS)
    basis_precious_metals: bool | None = field(
        "Recyclable materials reclaimed for silver or other precious metals", "615g",
        section=BASIS)
    basis_empty_containers: bool | None = field("Rinsing or treatment of empty containers",
                                                "615h", section=BASIS)
    basis_other: bool | None = field("Other basis", "615i", section=BASIS)
    basis_other_description: str | None = field(
        "Other basis, specify", "615i-a", section=BASIS, max_length=30,
        required_when=When("basis_other", (True,)))
    residual_potw: bool | None = field("Non-hazardous aqueous waste to a POTW or sewer",
                                       "616a", section=RESIDUALS)
    residual_npdes: bool | None = field("Non-hazardous aqueous waste under an NPDES permit",
                                        "616b", section=RESIDUALS)
    residual_solids_offsite: bool | None = field("Non-hazardous solid residues sent offsite",
                                                 "616c", section=RESIDUALS)
    residual_offsite_recycling: bool | None = field("Offsite recycling", "616d",
                                                    section=RESIDUALS)
    residual_thermal_treatment: bool | None = field("Thermal treatment", "616e",
                                                    section=RESIDUALS)
    residual_land_disposal: bool | None = field("Disposal to land", "616f", section=RESIDUALS)
    residual_further_treatment: bool | None = field("Further treatment", "616g",
                                                    section=RESIDUALS)
    residual_other: bool | None = field("Other residual management", "616h-a",
                                        section=RESIDUALS)
    residual_other_description: str | None = field(
        "Other residual management, specify", "616h", section=RESIDUALS, max_length=30,
        required_when=When("residual_other", (True,)))
    cesqt: CesqtCombinations | None = _tier(TreatmentTier.CESQT, "CESQT waste and treatment "
                                            "combinations", "627")
    cesw: CeswCombinations | None = _tier(TreatmentTier.CESW, "CESW waste and treatment "
                                          "combinations", "628")
    ca: CaCombinations | None = _tier(TreatmentTier.CA, "CA waste and treatment combinations",
                                      "629")
    pbr: PbrCombinations | None = _tier(TreatmentTier.PBR, "PBR waste and treatment "
                                        "combinations", "630")
    cel: CelCombinations | None = _tier(TreatmentTier.CEL, "CEL waste and treatment "
                                        "combinations", "631")

    def combinations(self) -> Combinations | None:
        if self.unit_type is None:
            return None
        found = getattr(self, TIER_GROUPS[self.unit_type])
        return found if isinstance(found, Combinations) else None

    def extra_rules(self, check: Checker) -> None:
        if self.unit_type is None:
            return
        chosen = self.combinations()
        if chosen is None or not chosen.any_combination():
            check.error(TIER_GROUPS[self.unit_type], "Tick at least one waste and treatment "
                        f"combination for this {self.unit_type.name} unit.",
                        "NO_TREATMENT_COMBINATION")


# ---------------------------------------------------------------- financial assurance (RT 10)

FA, EXEMPT, MECHANISM, INSTITUTION, CERTIFY = (
    "Operation", "Exemption from financial assurance", "Closure assurance mechanism",
    "Financial institution or surety", "Certification")


class FinancialAssuranceCertification(Record):
    key_field = "mechanism_id"

    type_of_operation: FinancialAssuranceOperation | None = field(
        "Type of operation", "701", section=FA, required=True)
    estimated_closure_cost: float | None = field(
        "Estimated closure cost ($)", "702", section=FA, required=True, ge=0,
        le=999_999_999_999_999, significant=True)
    exempt_below_10000: bool | None = field("Exempt: cost estimate under $10,000", "703",
                                            section=EXEMPT)
    exempt_other: bool | None = field("Exempt: other", "704", section=EXEMPT)
    exempt_other_description: str | None = field(
        "Other exemption, specify", "704a", section=EXEMPT, max_length=30,
        required_when=When("exempt_other", (True,)))
    exempt_ttu: bool | None = field("Exempt: transportable treatment unit (TTU)", "705",
                                    section=EXEMPT)
    mechanism: ClosureAssuranceMechanism | None = field("Closure assurance mechanism", "709",
                                                        section=MECHANISM)
    mechanism_dated: dt.date | None = field("Date of the mechanism", "707", section=MECHANISM)
    mechanism_id: str | None = field("Mechanism ID number", "708", section=MECHANISM,
                                     max_length=25)
    institution_name: str | None = field("Name", "710", section=INSTITUTION, max_length=80)
    institution_address: str | None = field("Address", "711", section=INSTITUTION,
                                            max_length=70)
    institution_city: str | None = field("City", "712", section=INSTITUTION, max_length=60)
    institution_state: str | None = field("State", "713", section=INSTITUTION, max_length=2)
    institution_zip_code: str | None = field("ZIP code", "714", section=INSTITUTION,
                                             max_length=10)
    institution_country: str | None = field("Country", "714a", section=INSTITUTION,
                                            max_length=45)
    signer: CertificationSigner | None = field("Signer of the certification", "715",
                                               section=CERTIFY)
    certified_on: dt.date | None = field("Date certified", "716", section=CERTIFY, past=True)
    owner_operator_name: str | None = field("Owner/operator name", "717", section=CERTIFY,
                                            max_length=80)
    owner_operator_title: str | None = field("Owner/operator title", "718", section=CERTIFY,
                                             max_length=50)

    def exempt(self) -> bool:
        return bool(self.exempt_below_10000 or self.exempt_other or self.exempt_ttu)

    def extra_rules(self, check: Checker) -> None:
        cost = self.estimated_closure_cost
        if self.exempt_below_10000 and cost is not None and cost >= 10_000:
            check.error("exemptBelow10000", f"The estimated closure cost (${cost:,.2f}) is not "
                        "under $10,000, so this exemption does not apply.", "INCONSISTENT")
        if not self.exempt() and self.mechanism is None:
            check.error("mechanism", "Without an exemption, name the closure assurance "
                        "mechanism.", "REQUIRED")


# ---------------------------------------------------------------- facility and element


class TieredPermittingFacility(Model):
    permit_facility: bool | None = field("Facility permit", "601a",
                                         section="Permits held by the facility")
    permit_interim_status: bool | None = field("Interim status", "601b",
                                               section="Permits held by the facility")
    permit_standardized: bool | None = field("Standardized permit", "601c",
                                             section="Permits held by the facility")
    permit_variance: bool | None = field("Variance", "601d",
                                         section="Permits held by the facility")
    permit_consent_agreement: bool | None = field("Consent agreement", "601e",
                                                  section="Permits held by the facility")
    shortened_review: bool | None = field("Shortened review requested", "601f",
                                          section="Review")
    shortened_review_reason: str | None = field(
        "Reason for a shortened review", "601g", section="Review", max_length=300, long=True,
        required_when=When("shortened_review", (True,)))
    cecl_units: int | None = field("Number of commercial laundry (CECL) units", "602f",
                                   section="Units", ge=1, le=999, significant=True)
    date_certified: dt.date | None = field("Date certified", "603", section="Certification",
                                           past=True)
    owner_operator_name: str | None = field("Owner/operator name", "604",
                                            section="Certification", max_length=80)
    owner_operator_title: str | None = field("Owner/operator title", "605",
                                             section="Certification", max_length=50)


class TieredPermittingDocuments(Model):
    plot_plan: DocumentSlot | None = field("Plot plan", "RT 14")
    prior_enforcement_history: DocumentSlot | None = field("Prior enforcement history",
                                                           "RT 15")
    notification_of_property_owner: DocumentSlot | None = field(
        "Notification of the property owner", "RT 20")
    notification_of_local_agencies: DocumentSlot | None = field(
        "Notification of the local agency or agencies", "RT 19")
    tank_and_container_certifications: DocumentSlot | None = field(
        "Tank and container certifications", "RT 18")
    closure_mechanism: DocumentSlot | None = field(
        "Financial assurance closure mechanism", "RT 17")
    closure_cost_estimate: DocumentSlot | None = field(
        "Written estimate of closure costs", "RT 16")
    locally_collected: DocumentSlot | None = field("Locally required documents", "RT 38")
    miscellaneous_state_required: DocumentSlot | None = field(
        "Miscellaneous state-required documents", "RT 55")


class TieredPermitting(Model):
    """Onsite hazardous waste treatment notification (SE 5)."""

    facility: TieredPermittingFacility | None = field("Treatment facility", "RT 8")
    units: tuple[TreatmentUnit, ...] = field("Treatment units", "RT 9", max_items=999,
                                             item_label="Unit", significant=True)
    financial_assurances: tuple[FinancialAssuranceCertification, ...] = field(
        "Certifications of financial assurance", "RT 10", max_items=50,
        item_label="Certification")
    documents: TieredPermittingDocuments | None = field("Documents")

    def extra_rules(self, check: Checker) -> None:
        cecl = self.facility.cecl_units if self.facility else None
        if not self.units and not cecl:
            check.error("units", "Add a treatment unit, or give the number of commercial "
                        "laundry (CECL) units.", "UNIT_OR_CECL_REQUIRED")
        seen: dict[str, int] = {}
        for i, unit in enumerate(self.units):
            key = (unit.unit_id or "").strip().lower()
            if key and key in seen:
                check.at("units", i).error("unitId", f"Unit ID {unit.unit_id} is already used "
                                           f"by unit {seen[key] + 1}.", "DUPLICATE_UNIT_ID")
            seen.setdefault(key, i)
        self._document_rules(check.at("documents"))
        tiers = {u.unit_type for u in self.units}
        needs_assurance = tiers & {TreatmentTier.CA, TreatmentTier.PBR}
        if needs_assurance and not self.financial_assurances:
            check.error("financialAssurances", "CA and PBR units need a certification of "
                        "financial assurance for closure.", "FINANCIAL_ASSURANCE_REQUIRED")

    def _document_rules(self, check: Checker) -> None:
        docs = self.documents or TieredPermittingDocuments()
        tiers = {u.unit_type for u in self.units}
        pbr = TreatmentTier.PBR in tiers
        if self.units and _empty(docs.plot_plan):
            check.error("plotPlan", "Treatment units need the plot plan.", "MISSING_DOCUMENT")
        if pbr and _empty(docs.notification_of_local_agencies):
            check.error("notificationOfLocalAgencies", "PBR units need the notification of "
                        "the local agency or agencies.", "MISSING_DOCUMENT")
        may = "DOCUMENT_MAY_BE_REQUIRED"
        if pbr and _empty(docs.prior_enforcement_history):
            check.warning("priorEnforcementHistory", "PBR units: the prior enforcement history "
                          "may be required.", may)
        if pbr and _empty(docs.notification_of_property_owner):
            check.warning("notificationOfPropertyOwner", "PBR units: the notification of the "
                          "property owner may be required.", may)
        if (pbr and any(u.number_of_tanks or u.number_of_containers for u in self.units
                        if u.unit_type is TreatmentTier.PBR)
                and _empty(docs.tank_and_container_certifications)):
            check.warning("tankAndContainerCertifications", "PBR units with tanks or "
                          "containers: their certifications may be required.", may)
        if tiers & {TreatmentTier.CA, TreatmentTier.PBR} and _empty(docs.closure_cost_estimate):
            check.warning("closureCostEstimate", "CA and PBR units: the written estimate of "
                          "closure costs may be required.", may)
        if (any(fa.mechanism is not None for fa in self.financial_assurances)
                and _empty(docs.closure_mechanism)):
            check.warning("closureMechanism", "The financial assurance closure mechanism "
                          "document may be required.", may)


def _empty(slot: DocumentSlot | None) -> bool:
    return slot is None or slot.option is None
