from __future__ import annotations

import pytest

from services.submittal.domain.cas import cas_problem
from services.submittal.domain.changes import ChangeClass, classify
from services.submittal.domain.element_data import InvalidData, parse, validate
from services.submittal.domain.elements import ElementType, Requirement, applicability
from services.submittal.domain.facility_info import prefill
from services.submittal.domain.issues import Severity

HMI = ElementType.HAZARDOUS_MATERIALS_INVENTORY

DIESEL = {
    "commonName": "Diesel fuel",
    "casNumber": "68476-34-6",
    "ehs": False,
    "physicalState": "LIQUID",
    "maximumDailyAmount": 1000,
    "averageDailyAmount": 800,
    "units": "GALLONS",
    "daysOnSite": 365,
}
SITE_MAP = {"option": "ATTACHED", "documentIds": ["doc-1"]}


def inventory(*materials: dict, site_map: dict | None = SITE_MAP) -> dict:
    data: dict = {"materials": list(materials)}
    if site_map:
        data["siteMap"] = site_map
    return data


def findings(element: ElementType, data: dict) -> dict[str, tuple[Severity, str]]:
    return {
        ".".join(i.field): (i.severity, i.code) for i in validate(element, parse(element, data))
    }


def test_a_complete_inventory_has_no_findings():
    assert findings(HMI, inventory(DIESEL)) == {}


@pytest.mark.parametrize("cas", ["7732-18-5", "64-17-5", "7664-93-9", "68476-34-6"])
def test_valid_cas_numbers_pass_the_check_digit(cas):
    assert cas_problem(cas) is None


@pytest.mark.parametrize("cas", ["7732-18-4", "64-17-6", "7664939", "abc-de-f"])
def test_a_wrong_cas_check_digit_or_form_is_an_error(cas):
    result = findings(HMI, inventory({**DIESEL, "casNumber": cas}))
    assert result["materials.0.casNumber"] == (Severity.ERROR, "INVALID_CAS")


def test_average_above_maximum_is_an_error():
    result = findings(HMI, inventory({**DIESEL, "averageDailyAmount": 1001}))
    assert result["materials.0.averageDailyAmount"] == (Severity.ERROR, "AVERAGE_EXCEEDS_MAXIMUM")


def test_an_ehs_not_in_pounds_is_only_a_warning():
    result = findings(HMI, inventory({**DIESEL, "ehs": True}))
    assert result == {"materials.0.units": (Severity.WARNING, "EHS_NOT_IN_POUNDS")}
    assert findings(HMI, inventory({**DIESEL, "ehs": True, "units": "POUNDS"})) == {}


@pytest.mark.parametrize("days", [0, 366, -1])
def test_days_on_site_outside_1_to_365_is_an_error(days):
    result = findings(HMI, inventory({**DIESEL, "daysOnSite": days}))
    assert result["materials.0.daysOnSite"] == (Severity.ERROR, "OUT_OF_RANGE")


def test_more_than_five_components_is_an_error():
    components = [{"name": f"c{i}", "percent": 10} for i in range(6)]
    result = findings(HMI, inventory({**DIESEL, "components": components}))
    assert result["materials.0.components"] == (Severity.ERROR, "TOO_MANY_COMPONENTS")


def test_components_adding_up_to_more_than_100_percent_is_an_error():
    components = [{"name": "a", "percent": 60}, {"name": "b", "percent": 50.5}]
    result = findings(HMI, inventory({**DIESEL, "components": components}))
    assert result["materials.0.components"] == (Severity.ERROR, "COMPONENTS_OVER_100")
    ok = [{"name": "a", "percent": 60, "casNumber": "64-17-5"}, {"name": "b", "percent": 40}]
    assert findings(HMI, inventory({**DIESEL, "components": ok})) == {}


def test_a_component_percent_out_of_range_is_an_error():
    result = findings(HMI, inventory({**DIESEL, "components": [{"name": "a", "percent": 0}]}))
    assert result["materials.0.components.0.percent"] == (Severity.ERROR, "OUT_OF_RANGE")


def test_unknown_units_and_enums_are_refused_when_parsing():
    with pytest.raises(InvalidData) as error:
        parse(HMI, inventory({**DIESEL, "units": "LITERS"}))
    assert error.value.issues[0].field[:3] == ["materials", "0", "units"]
    with pytest.raises(InvalidData):
        parse(HMI, inventory({**DIESEL, "physicalState": "PLASMA"}))
    with pytest.raises(InvalidData):
        parse(HMI, inventory({**DIESEL, "colour": "red"}))


def test_missing_required_fields_are_errors_naming_the_field():
    result = findings(HMI, inventory({"casNumber": "7732-18-5"}, site_map=None))
    for field in ("commonName", "ehs", "physicalState", "maximumDailyAmount", "units"):
        assert result[f"materials.0.{field}"] == (Severity.ERROR, "REQUIRED")
    assert result["siteMap.option"] == (Severity.ERROR, "REQUIRED")


def test_waste_needs_annual_amount_and_a_state_waste_code_in_range():
    result = findings(HMI, inventory({**DIESEL, "hmType": "WASTE", "stateWasteCode": "999"}))
    assert result["materials.0.annualWasteAmount"][1] == "REQUIRED"
    assert result["materials.0.stateWasteCode"][0] is Severity.ERROR


def test_fire_code_hazard_classes_are_at_most_eight_codes_from_1_to_39():
    result = findings(HMI, inventory({**DIESEL, "fireCodeHazardClasses": list(range(1, 10))}))
    assert "materials.0.fireCodeHazardClasses" in result
    result = findings(HMI, inventory({**DIESEL, "fireCodeHazardClasses": [40]}))
    assert "materials.0.fireCodeHazardClasses.0" in result


@pytest.mark.parametrize(
    ("slot", "field"),
    [
        ({"option": "ATTACHED"}, "documentIds"),
        ({"option": "EXEMPT", "comment": "no"}, "comment"),
        ({"option": "PROVIDED_TO_REGULATOR"}, "providedOn"),
        ({"option": "PROVIDED_IN_OTHER_ELEMENT"}, "otherElement"),
        ({"option": "PUBLIC_URL", "url": "x"}, "url"),
        ({"option": "STORED_AT_FACILITY", "documentIds": ["d"]}, "documentIds"),
    ],
)
def test_each_document_alternative_needs_its_own_detail(slot, field):
    result = findings(ElementType.EMERGENCY_RESPONSE_TRAINING_PLANS, {
        "emergencyResponsePlan": slot,
        "employeeTrainingPlan": {"option": "STORED_AT_FACILITY"},
    })
    assert result == {f"emergencyResponsePlan.{field}": (Severity.ERROR, result[
        f"emergencyResponsePlan.{field}"][1])}


def test_plans_met_by_alternatives_are_complete():
    assert findings(ElementType.EMERGENCY_RESPONSE_TRAINING_PLANS, {
        "emergencyResponsePlan": {"option": "EXEMPT", "comment": "Under 55 gallons total."},
        "employeeTrainingPlan": {"option": "PROVIDED_TO_REGULATOR", "providedOn": "2026-01-15"},
    }) == {}


def test_blank_facility_information_lists_every_missing_answer():
    result = findings(ElementType.FACILITY_INFORMATION, {})
    assert result["businessActivities.hazardousMaterialsOnSite"] == (Severity.ERROR, "REQUIRED")
    assert result["ownerOperator.ownerName"] == (Severity.ERROR, "REQUIRED")
    assert result["ownerOperator.primaryEmergencyContact.phone24Hour"][1] == "REQUIRED"


def test_a_hazardous_waste_generator_without_epa_id_gets_a_warning():
    result = findings(ElementType.FACILITY_INFORMATION, {
        "businessActivities": {"hazardousWasteGenerator": True}
    })
    assert result["businessActivities.epaId"] == (Severity.WARNING, "EPA_ID_MISSING")


def test_business_activities_decide_which_elements_apply():
    rules = applicability({"hazardousMaterialsOnSite": True, "ownOrOperateApst": True})
    assert rules[ElementType.FACILITY_INFORMATION] is Requirement.ALWAYS_APPLICABLE
    assert rules[HMI] is Requirement.APPLICABLE
    assert rules[ElementType.EMERGENCY_RESPONSE_TRAINING_PLANS] is Requirement.APPLICABLE
    assert rules[ElementType.APSA] is Requirement.APPLICABLE
    assert rules[ElementType.UST] is Requirement.NOT_APPLICABLE
    assert applicability(None)[HMI] is Requirement.NOT_APPLICABLE
    assert applicability({"ownOrOperateUst": True})[ElementType.UST] is Requirement.APPLICABLE


def test_prefill_copies_the_facility_record_and_ignores_unknown_fields():
    info = prefill({
        "name": "Feather River Fuel",
        "mailingAddress": {"street": "1 Main St", "city": "Quincy", "zipCode": "95971", "x": 1},
        "contacts": {"environmental": {"name": "Ann", "phone": "530-555-0100"}},
        "ownerOperator": {"ownerName": "Feather River LLC", "unknown": True},
    }).to_json()
    assert info["businessActivities"]["businessName"] == "Feather River Fuel"
    assert info["ownerOperator"]["mailingAddress"]["city"] == "Quincy"
    assert info["ownerOperator"]["environmentalContact"]["name"] == "Ann"
    assert info["ownerOperator"]["ownerName"] == "Feather River LLC"


def changed(before: dict | None, after: dict) -> ChangeClass:
    return classify(parse(HMI, before) if before is not None else None, parse(HMI, after))


def test_identical_inventory_is_no_change():
    assert changed(inventory(DIESEL), inventory(DIESEL)) is ChangeClass.NO_CHANGES


def test_a_small_quantity_change_is_has_changes():
    assert changed(inventory(DIESEL), inventory({**DIESEL, "maximumDailyAmount": 1500})) is (
        ChangeClass.HAS_CHANGES
    )


def test_a_quantity_up_by_100_percent_is_significant():
    assert changed(inventory(DIESEL), inventory({**DIESEL, "maximumDailyAmount": 2000})) is (
        ChangeClass.SIGNIFICANT
    )


def test_a_new_material_is_significant_and_a_new_ehs_very_significant():
    acid = {**DIESEL, "commonName": "Sulfuric acid", "casNumber": "7664-93-9"}
    assert changed(inventory(DIESEL), inventory(DIESEL, acid)) is ChangeClass.SIGNIFICANT
    ehs = {**acid, "ehs": True, "units": "POUNDS"}
    assert changed(inventory(DIESEL), inventory(DIESEL, ehs)) is ChangeClass.VERY_SIGNIFICANT


def test_a_tenfold_increase_is_very_significant():
    assert changed(inventory(DIESEL), inventory({**DIESEL, "maximumDailyAmount": 10000})) is (
        ChangeClass.VERY_SIGNIFICANT
    )


def test_a_first_inventory_is_significant_because_every_material_is_new():
    assert changed(None, inventory(DIESEL)) is ChangeClass.SIGNIFICANT


def test_a_new_owner_in_facility_information_is_significant():
    fi = ElementType.FACILITY_INFORMATION
    before = parse(fi, {"ownerOperator": {"ownerName": "A"}})
    assert classify(before, parse(fi, {"ownerOperator": {"ownerName": "B"}})) is (
        ChangeClass.SIGNIFICANT
    )
    assert classify(before, parse(fi, {"ownerOperator": {"ownerName": "A", "fax": "1"}})) is (
        ChangeClass.HAS_CHANGES
    )
    ust = parse(fi, {"ownerOperator": {"ownerName": "A"},
                     "businessActivities": {"ownOrOperateUst": True}})
    assert classify(before, ust) is ChangeClass.SIGNIFICANT
