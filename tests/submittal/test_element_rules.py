"""APSA, CalARP, Recyclable Materials Report, Remote Waste Consolidation and HW Tank Closure:
their rules, and what the declared fields give every element (form description, changes)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from services.submittal.domain.changes import ChangeClass, classify
from services.submittal.domain.element_data import MODELS, parse, prepare, validate
from services.submittal.domain.elements import ElementType
from services.submittal.domain.issues import Severity
from services.submittal.domain.spec import form_spec
from tests.submittal.samples import SAMPLES


def findings(element: str, data: dict[str, Any]) -> dict[str, tuple[Severity, str]]:
    e = ElementType(element)
    return {".".join(i.field): (i.severity, i.code) for i in validate(e, parse(e, data))}


def sample(element: str, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SAMPLES[element])
    data.update(changes)
    return data


@pytest.mark.parametrize("element", sorted(SAMPLES))
def test_each_sample_is_complete_and_an_empty_one_is_not(element: str):
    assert findings(element, SAMPLES[element]) == {}
    assert any(s is Severity.ERROR for s, _ in findings(element, {}).values()), element


def test_apsa_needs_the_exemption_answer_and_the_capacity():
    result = findings("APSA", {})
    assert result["conditionallyExempt"] == (Severity.ERROR, "REQUIRED")
    assert result["totalCapacityGallons"] == (Severity.ERROR, "REQUIRED")
    assert findings("APSA", sample("APSA", totalCapacityGallons=0))[
        "totalCapacityGallons"] == (Severity.ERROR, "OUT_OF_RANGE")


def test_apsa_warns_below_the_threshold_and_about_an_unlikely_exemption():
    small = findings("APSA", sample("APSA", totalCapacityGallons=500))
    assert small["totalCapacityGallons"] == (Severity.WARNING, "BELOW_APSA_THRESHOLD")
    exempt = findings("APSA", sample("APSA", conditionallyExempt=True))
    assert exempt["conditionallyExempt"] == (Severity.WARNING, "INCONSISTENT")
    no_spcc = findings("APSA", sample("APSA", spccPlanDate=None))
    assert no_spcc["spccPlanDate"] == (Severity.WARNING, "SPCC_DATE_MISSING")


def test_calarp_needs_its_document():
    assert findings("CALARP", {})["documents.calArpDocument.option"] == (
        Severity.ERROR, "REQUIRED")
    exempt_without_reason = {"documents": {"calArpDocument": {"option": "EXEMPT"}}}
    assert findings("CALARP", exempt_without_reason)["documents.calArpDocument.comment"][0] is (
        Severity.ERROR)


def test_the_recyclable_materials_report_is_attached_or_its_materials_listed():
    assert findings("RECYCLABLE_MATERIALS_REPORT", {})["documents.rmrDocument.option"] == (
        Severity.ERROR, "REQUIRED")
    attached = {"documents": {"rmrDocument": {"option": "STORED_AT_FACILITY"}}}
    assert findings("RECYCLABLE_MATERIALS_REPORT", attached) == {}


def test_report_period_quantities_and_offsite_generator():
    data = sample("RECYCLABLE_MATERIALS_REPORT", periodEnds="2023-01-01", offsiteRecycling=True,
                  materials=[{"commonName": "Spent fixer", "quantityTwoYears": 10}])
    result = findings("RECYCLABLE_MATERIALS_REPORT", data)
    assert result["periodEnds"] == (Severity.ERROR, "INCONSISTENT")
    assert result["offsiteGeneratorName"] == (Severity.ERROR, "REQUIRED")
    assert result["materials.0.quantityUnit"] == (Severity.ERROR, "REQUIRED")


def test_remote_sites_need_descriptions_and_a_volume_with_units():
    result = findings("REMOTE_WASTE_CONSOLIDATION", {"sites": [{"address": "Mile 3"}]})
    for name in ("descriptionOfLocations", "descriptionOfWaste", "monthlyVolume", "volumeUnit"):
        assert result[f"sites.0.{name}"] == (Severity.ERROR, "REQUIRED")
    assert findings("REMOTE_WASTE_CONSOLIDATION", {})["sites"] == (Severity.ERROR, "REQUIRED")
    too_long = sample("REMOTE_WASTE_CONSOLIDATION")
    too_long["sites"][0]["descriptionOfLocations"] = "x" * 701
    assert findings("REMOTE_WASTE_CONSOLIDATION", too_long)["sites.0.descriptionOfLocations"] == (
        Severity.ERROR, "TOO_LONG")


def test_each_closed_tank_has_its_id_and_certificate():
    result = findings("HAZARDOUS_WASTE_TANK_CLOSURE", {"closures": [{}]})
    assert result["closures.0.tankId"] == (Severity.ERROR, "MISSING_TANK_CLOSURE_METADATA")
    assert result["closures.0.certificate.option"] == (Severity.ERROR, "REQUIRED")
    twice = sample("HAZARDOUS_WASTE_TANK_CLOSURE")
    twice["closures"].append(copy.deepcopy(twice["closures"][0]))
    assert findings("HAZARDOUS_WASTE_TANK_CLOSURE", twice)["closures.1.tankId"] == (
        Severity.ERROR, "DUPLICATE_TANK_ID")
    reading = sample("HAZARDOUS_WASTE_TANK_CLOSURE")
    reading["closures"][0]["oxygenTop"] = 120
    assert findings("HAZARDOUS_WASTE_TANK_CLOSURE", reading)["closures.0.oxygenTop"] == (
        Severity.ERROR, "OUT_OF_RANGE")


def test_a_local_agency_certifier_names_the_agency():
    data = sample("HAZARDOUS_WASTE_TANK_CLOSURE")
    data["certifier"] = {"name": "Pat", "certifiedOn": "2026-01-05",
                         "representsLocalAgency": True}
    assert findings("HAZARDOUS_WASTE_TANK_CLOSURE", data)["certifier.localAgencyName"] == (
        Severity.ERROR, "REQUIRED")


@pytest.mark.parametrize(("element", "list_field", "extra"), [
    ("REMOTE_WASTE_CONSOLIDATION", "sites", {"address": "Mile 40", "descriptionOfLocations": "x",
                                             "descriptionOfWaste": "y", "monthlyVolume": 1,
                                             "volumeUnit": "POUNDS"}),
    ("HAZARDOUS_WASTE_TANK_CLOSURE", "closures", {"tankId": "W-2",
                                                  "certificate": {"option": "EXEMPT",
                                                                  "comment": "Not needed."}}),
    ("RECYCLABLE_MATERIALS_REPORT", "materials", {"commonName": "Silver flake"}),
])
def test_a_record_added_is_significant_and_an_unchanged_copy_is_no_change(
        element: str, list_field: str, extra: dict[str, Any]):
    e = ElementType(element)
    base = prepare(e, SAMPLES[element]).to_json()
    assert classify(parse(e, base), parse(e, copy.deepcopy(base))) is ChangeClass.NO_CHANGES
    grown = copy.deepcopy(base)
    grown[list_field].append(extra)
    assert classify(parse(e, base), parse(e, grown)) is ChangeClass.SIGNIFICANT


def test_apsa_capacity_change_is_significant():
    e = ElementType.APSA
    base = parse(e, SAMPLES["APSA"])
    assert classify(base, parse(e, sample("APSA", totalCapacityGallons=20_000))) is (
        ChangeClass.SIGNIFICANT)
    assert classify(base, parse(e, sample("APSA", tanksInUndergroundAreas=1))) is (
        ChangeClass.HAS_CHANGES)


def test_form_descriptions_carry_labels_codes_lists_slots_and_required_marks():
    spec = form_spec(MODELS[ElementType.UST])
    by_name = {f["name"]: f for f in spec["fields"]}
    tanks = by_name["tanks"]
    assert (tanks["kind"], tanks["itemLabel"], tanks["keyField"], tanks["maxItems"]) == (
        "list", "Tank", "tankIdNumber", 500)
    fields = {f["name"]: f for f in tanks["fields"]}
    assert "id" not in fields
    use = fields["tankUse"]
    assert use["kind"] == "code" and use["required"] and use["cers"] == "439"
    assert {"value": "MOTOR_VEHICLE_FUELING", "code": "1a",
            "label": "Motor Vehicle Fueling"} in use["options"]
    assert fields["otherTankUse"]["requiredWhen"] == {"field": "tankUse", "values": ["OTHER"]}
    assert fields["capacityGallons"]["min"] == 1 and fields["capacityGallons"]["section"] == "Tank"
    plan = {f["name"]: f for f in fields["monitoringPlan"]["fields"]}
    assert plan["automaticTankGauging"]["toggle"] is True
    docs = {f["name"]: f for f in by_name["documents"]["fields"]}
    assert docs["certificationOfFinancialResponsibility"] == {
        "name": "certificationOfFinancialResponsibility",
        "label": "Certification of financial responsibility", "cers": "RT 29",
        "required": True, "kind": "document"}
    unit = {f["name"]: f for f in {f["name"]: f for f in form_spec(
        MODELS[ElementType.TIERED_PERMITTING])["fields"]}["units"]["fields"]}
    assert unit["pbr"]["shownWhen"] == {"field": "unitType", "values": ["PBR"]}
    assert {f["kind"] for f in form_spec(MODELS[ElementType.APSA])["fields"]} >= {
        "yesNo", "integer", "date", "group"}
