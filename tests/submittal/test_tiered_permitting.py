"""Tiered Permitting (SE 5) rules: units, their tier's treatment combinations, financial
assurance and the documents they bring in."""

from __future__ import annotations

import copy
from typing import Any

from services.submittal.domain.changes import ChangeClass, classify
from services.submittal.domain.element_data import parse, prepare, validate
from services.submittal.domain.elements import ElementType
from services.submittal.domain.issues import Severity
from tests.submittal.samples import TIERED_PERMITTING

E = ElementType.TIERED_PERMITTING
UNIT = TIERED_PERMITTING["units"][0]
ASSURANCE = {"typeOfOperation": "CA", "estimatedClosureCost": 25_000.0,
             "mechanism": "SURETY_BOND", "mechanismId": "SB-1"}
DOCUMENTS = {"plotPlan": {"option": "STORED_AT_FACILITY"},
             "notificationOfLocalAgencies": {"option": "PROVIDED_TO_REGULATOR",
                                             "providedOn": "2026-01-02"}}


def findings(data: dict[str, Any]) -> dict[str, tuple[Severity, str]]:
    return {".".join(i.field): (i.severity, i.code) for i in validate(E, parse(E, data))}


def with_units(*units: dict[str, Any], **more: Any) -> dict[str, Any]:
    data = copy.deepcopy(TIERED_PERMITTING)
    data["units"] = list(units)
    data.update(more)
    return data


def test_a_complete_notification_has_no_findings():
    assert findings(TIERED_PERMITTING) == {}


def test_a_unit_or_a_count_of_laundry_units_is_required():
    assert findings(with_units())["units"] == (Severity.ERROR, "UNIT_OR_CECL_REQUIRED")
    laundries = with_units(facility={"ceclUnits": 2}, documents={})
    assert findings(laundries) == {}


def test_a_unit_needs_a_combination_of_its_own_tier():
    none = {**UNIT, "cesqt": {}}
    assert findings(with_units(none))["units.0.cesqt"] == (
        Severity.ERROR, "NO_TREATMENT_COMBINATION")
    wrong_tier = {**UNIT, "ca": {"sludgesDrying": True}}
    assert findings(with_units(wrong_tier))["units.0.ca"] == (
        Severity.ERROR, "NOT_APPLICABLE_FIELD")


def test_a_certified_technology_number_counts_as_a_combination():
    ct = {**UNIT, "unitType": "CEL", "cesqt": None, "cel": {"certifiedTechnologyNumber": "CT-01"}}
    assert "units.0.cel" not in findings(with_units(ct))


def test_unit_ids_are_unique():
    result = findings(with_units(UNIT, {**UNIT, "unitId": "u-1"}))
    assert result["units.1.unitId"] == (Severity.ERROR, "DUPLICATE_UNIT_ID")


def test_ranges_follow_the_data_dictionary():
    result = findings(with_units({**UNIT, "numberOfTanks": 100, "monthlyVolume": 0}))
    assert result["units.0.numberOfTanks"] == (Severity.ERROR, "OUT_OF_RANGE")
    assert result["units.0.monthlyVolume"] == (Severity.ERROR, "OUT_OF_RANGE")


def test_pbr_units_need_financial_assurance_and_their_notifications():
    pbr = {**UNIT, "unitType": "PBR", "cesqt": None, "pbr": {"crHypochlorite": True}}
    result = findings(with_units(pbr, documents={"plotPlan": {"option": "STORED_AT_FACILITY"}}))
    assert result["financialAssurances"] == (Severity.ERROR, "FINANCIAL_ASSURANCE_REQUIRED")
    assert result["documents.notificationOfLocalAgencies"] == (
        Severity.ERROR, "MISSING_DOCUMENT")
    assert result["documents.priorEnforcementHistory"] == (
        Severity.WARNING, "DOCUMENT_MAY_BE_REQUIRED")
    complete = with_units(pbr, documents=DOCUMENTS, financialAssurances=[ASSURANCE])
    assert {k: v for k, v in findings(complete).items() if v[0] is Severity.ERROR} == {}


def test_units_need_the_plot_plan():
    assert findings(with_units(UNIT, documents={}))["documents.plotPlan"] == (
        Severity.ERROR, "MISSING_DOCUMENT")


def test_financial_assurance_rules():
    exempt_too_dear = {**ASSURANCE, "exemptBelow10000": True}
    result = findings(with_units(UNIT, financialAssurances=[exempt_too_dear]))
    assert result["financialAssurances.0.exemptBelow10000"] == (Severity.ERROR, "INCONSISTENT")
    no_mechanism = {**ASSURANCE, "mechanism": None}
    result = findings(with_units(UNIT, financialAssurances=[no_mechanism]))
    assert result["financialAssurances.0.mechanism"] == (Severity.ERROR, "REQUIRED")
    exempt = {**ASSURANCE, "estimatedClosureCost": 5_000, "exemptBelow10000": True,
              "mechanism": None}
    assert not any(k.startswith("financialAssurances") for k in findings(
        with_units(UNIT, financialAssurances=[exempt])))


def test_a_shortened_review_needs_its_reason():
    data = with_units(UNIT, facility={"shortenedReview": True})
    assert findings(data)["facility.shortenedReviewReason"] == (Severity.ERROR, "REQUIRED")


def test_a_new_unit_or_a_changed_tier_is_significant():
    base = prepare(E, TIERED_PERMITTING).to_json()
    more = copy.deepcopy(base)
    more["units"].append({**UNIT, "unitId": "U-2"})
    assert classify(parse(E, base), parse(E, more)) is ChangeClass.SIGNIFICANT
    named = copy.deepcopy(base)
    named["units"][0]["unitName"] = "Rinse tank"
    assert classify(parse(E, base), parse(E, named)) is ChangeClass.HAS_CHANGES
