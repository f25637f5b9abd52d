"""UST (SE 4) rules, field by field: the domain without a database."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from services.submittal.domain.changes import ChangeClass, classify
from services.submittal.domain.element_data import InvalidData, parse, prepare, validate
from services.submittal.domain.elements import ElementType
from services.submittal.domain.issues import Severity
from services.submittal.domain.ust_codes import UstTankUse
from tests.submittal.samples import UST, tank

E = ElementType.UST


def findings(data: dict[str, Any]) -> dict[str, tuple[Severity, str]]:
    return {".".join(i.field): (i.severity, i.code) for i in validate(E, parse(E, data))}


def ust(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(UST)
    data.update(changes)
    return data


def with_tank(**fields: Any) -> dict[str, Any]:
    return ust(tanks=[{**tank("T-1"), **fields}])


def test_a_complete_ust_has_no_findings():
    assert findings(UST) == {}


def test_codes_are_our_names_and_the_cers_code_is_kept_alongside():
    assert UstTankUse.MOTOR_VEHICLE_FUELING.code == "1a"
    assert UstTankUse.MOTOR_VEHICLE_FUELING.label == "Motor Vehicle Fueling"
    assert UstTankUse("1a") is UstTankUse.MOTOR_VEHICLE_FUELING  # a CERS import may send codes
    stored = parse(E, with_tank(tankUse="1a")).to_json()
    assert stored["tanks"][0]["tankUse"] == "MOTOR_VEHICLE_FUELING"


def test_an_unknown_code_is_refused_with_its_path():
    with pytest.raises(InvalidData) as refused:
        parse(E, with_tank(tankUse="ROCKET_FUEL"))
    assert refused.value.issues[0].path[:3] == ("tanks", 0, "tankUse")


def test_an_empty_ust_lists_what_a_submission_needs():
    result = findings({})
    assert result["tanks"] == (Severity.ERROR, "REQUIRED")
    assert result["facility.typeOfAction"] == (Severity.ERROR, "REQUIRED")
    assert result["facility.tankOwner.name"] == (Severity.ERROR, "REQUIRED")
    assert result["facility.financialResponsibility.selfInsured"] == (
        Severity.ERROR, "FR_MECHANISM_REQUIRED")
    assert result["documents.certificationOfFinancialResponsibility.option"] == (
        Severity.ERROR, "REQUIRED")


def test_messages_say_which_tank_and_group_they_are_about():
    data = with_tank(capacityGallons=None, monitoringPlan={})
    messages = {".".join(i.field): i.message for i in validate(E, parse(E, data))}
    assert messages["tanks.0.capacityGallons"] == (
        "Tank 1 (T-1): Capacity (gallons) is required.")
    assert messages["tanks.0.monitoringPlan.sitePlotPlan"].startswith(
        "Tank 1 (T-1) › Monitoring plan: Site plot plan is required")


def test_a_closure_action_needs_its_closure_date():
    closed = with_tank(typeOfAction="REMOVAL")
    assert findings(closed)["tanks.0.permanentlyClosedOn"] == (Severity.ERROR, "REQUIRED")
    assert "tanks.0.permanentlyClosedOn" not in findings(
        with_tank(typeOfAction="REMOVAL", permanentlyClosedOn="2025-10-01"))


def test_other_needs_its_specify_text():
    result = findings(with_tank(tankUse="OTHER", tankContents="OTHER_PETROLEUM"))
    assert result["tanks.0.otherTankUse"] == (Severity.ERROR, "REQUIRED")
    assert result["tanks.0.otherPetroleum"] == (Severity.ERROR, "REQUIRED")
    assert "tanks.0.otherNonPetroleum" not in result


def test_piping_needs_its_construction():
    result = findings(with_tank(productPipingPrimary=None, productPipingSecondary=None))
    assert result["tanks.0.productPipingPrimary"] == (Severity.ERROR, "REQUIRED")
    # Double-walled piping also needs its secondary containment.
    assert result["tanks.0.productPipingSecondary"] == (Severity.ERROR, "REQUIRED")
    single = findings(with_tank(pipingConstruction="SINGLE_WALLED",
                                productPipingSecondary=None))
    assert "tanks.0.productPipingSecondary" not in single


def test_dispensers_need_their_containment_material_unless_there_are_none():
    assert findings(with_tank(udcMaterial=None))["tanks.0.udcMaterial"][1] == "REQUIRED"
    none = findings(with_tank(udcConstructionType="NO_DISPENSERS", udcMaterial=None))
    assert "tanks.0.udcMaterial" not in none
    # ... and then the plan's UDC monitoring should say "no dispensers" too.
    assert none["tanks.0.monitoringPlan.udcMonitoring"] == (Severity.WARNING, "INCONSISTENT")


def test_a_double_walled_tank_cannot_have_no_secondary_containment():
    result = findings(with_tank(secondaryConstruction="NONE"))
    assert result["tanks.0.secondaryConstruction"] == (Severity.ERROR, "INCONSISTENT")


def test_the_boe_number_has_exactly_eight_characters():
    data = ust()
    data["facility"] = {**data["facility"], "boeNumber": "4401234"}
    assert findings(data)["facility.boeNumber"] == (Severity.ERROR, "INVALID_BOE")


def test_a_public_tank_owner_names_its_supervising_office():
    data = ust()
    data["facility"] = {**data["facility"], "tankOwnerType": "COUNTY_AGENCY"}
    assert findings(data)["facility.sdsOffice"] == (Severity.ERROR, "REQUIRED")


def test_capacity_and_compartments_are_range_checked():
    result = findings(with_tank(capacityGallons=10_000_000, numberOfCompartments=0))
    assert result["tanks.0.capacityGallons"] == (Severity.ERROR, "OUT_OF_RANGE")
    assert result["tanks.0.numberOfCompartments"] == (Severity.ERROR, "OUT_OF_RANGE")


def test_tank_ids_are_unique_within_the_facility():
    result = findings(ust(tanks=[tank("T-1"), tank("t-1")]))
    assert result["tanks.1.tankIdNumber"] == (Severity.ERROR, "DUPLICATE_TANK_ID")


def test_an_operating_tank_without_monitoring_is_warned_about():
    plan = {k: v for k, v in tank("T-1")["monitoringPlan"].items()
            if k not in ("automaticTankGauging", "electronicLineLeakDetector")}
    result = findings(with_tank(monitoringPlan=plan))
    assert result["tanks.0.monitoringPlan.continuousElectronicMonitoring"] == (
        Severity.WARNING, "NO_TANK_MONITORING")
    assert result["tanks.0.monitoringPlan.pipeContinuousMonitoring"] == (
        Severity.WARNING, "NO_PIPING_MONITORING")


def test_a_new_site_plot_plan_needs_the_monitoring_site_plan_document():
    plan = {**tank("T-1")["monitoringPlan"], "sitePlotPlan": "NEW_PLAN_SUBMITTED"}
    result = findings(with_tank(monitoringPlan=plan))
    assert result["documents.monitoringSitePlan"] == (Severity.ERROR, "MISSING_DOCUMENT")


def test_the_state_fund_cfo_mechanism_needs_the_cfo_letter():
    data = ust()
    data["facility"] = {**data["facility"],
                        "financialResponsibility": {"stateFundCfoLetter": True}}
    assert findings(data)["documents.cfoLetter"] == (Severity.ERROR, "MISSING_DOCUMENT")


def test_an_installation_certificate_needs_a_project_type_and_a_description():
    result = findings(ust(installationCertificates=[{"contractorName": "Acme Tank"}]))
    assert result["installationCertificates.0.projectTank"] == (
        Severity.ERROR, "PROJECT_TYPE_REQUIRED")
    assert result["installationCertificates.0.descriptionOfWork"] == (
        Severity.ERROR, "REQUIRED")


def test_a_future_installation_date_is_a_warning_and_a_date_before_1880_an_error():
    assert findings(with_tank(installedOn="2098-01-01"))["tanks.0.installedOn"] == (
        Severity.WARNING, "DATE_IN_FUTURE")
    assert findings(with_tank(installedOn="1850-01-01"))["tanks.0.installedOn"] == (
        Severity.ERROR, "OUT_OF_RANGE")


def test_too_many_tanks_are_refused_before_any_work():
    with pytest.raises(InvalidData):
        parse(E, ust(tanks=[tank(f"T-{i}") for i in range(501)]))


def test_records_get_a_stable_id_and_a_repeated_id_is_refused():
    prepared = prepare(E, UST).to_json()
    ids = [t["id"] for t in prepared["tanks"]]
    assert all(ids) and len(set(ids)) == 2
    assert prepare(E, prepared).to_json() == prepared  # kept as they are
    twice = ust(tanks=[{**tank("T-1"), "id": "x"}, {**tank("T-2"), "id": "x"}])
    with pytest.raises(InvalidData) as refused:
        prepare(E, twice)
    assert refused.value.issues[0].code == "DUPLICATE_RECORD_ID"


def change(before: dict[str, Any], after: dict[str, Any]) -> ChangeClass:
    return classify(prepare(E, before), parse(E, after))


def test_a_tank_added_or_removed_or_a_capacity_changed_is_significant():
    base = prepare(E, UST).to_json()
    assert classify(parse(E, base), parse(E, base)) is ChangeClass.NO_CHANGES
    bigger = copy.deepcopy(base)
    bigger["tanks"][1]["capacityGallons"] = 15_000
    assert classify(parse(E, base), parse(E, bigger)) is ChangeClass.SIGNIFICANT
    added = copy.deepcopy(base)
    added["tanks"].append(tank("T-3"))
    assert classify(parse(E, base), parse(E, added)) is ChangeClass.SIGNIFICANT
    removed = copy.deepcopy(base)
    removed["tanks"].pop()
    assert classify(parse(E, base), parse(E, removed)) is ChangeClass.SIGNIFICANT
    phone = copy.deepcopy(base)
    phone["facility"]["tankOperator"]["phone"] = "530-555-0199"
    assert classify(parse(E, base), parse(E, phone)) is ChangeClass.HAS_CHANGES


def test_a_renamed_tank_is_the_same_tank_because_its_id_stays():
    from services.submittal.domain.diff import DifferenceKind, differences

    base = prepare(E, UST).to_json()
    renamed = copy.deepcopy(base)
    renamed["tanks"][0]["tankIdNumber"] = "T-1A"
    found = differences(parse(E, base), parse(E, renamed))
    assert [(d.field, d.kind, d.before, d.after) for d in found] == [
        (["tanks", "0", "tankIdNumber"], DifferenceKind.CHANGED, "T-1", "T-1A")]
    assert found[0].label == "Tank T-1A › Tank ID"
