"""Underground Storage Tanks (SE 4): the operating permit application (facility and tanks),
each tank's monitoring plan, installation/modification certificates and the UST documents.

Fields, codes and rules: DATA-DICTIONARY-ELEMENTS §1 (CERS number in each field's ``cers``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.submittal.domain.documents import DocumentSlot
from services.submittal.domain.form import Record, When, field
from services.submittal.domain.issues import Checker
from services.submittal.domain.model import Model
from services.submittal.domain.ust_codes import (
    CLOSED,
    PUBLIC_OWNERS,
    UstCertifierRelationship,
    UstElldTesting,
    UstEquipmentServiced,
    UstFacilityAction,
    UstFacilityType,
    UstGaugingTestPeriod,
    UstLeakTestFrequency,
    UstPermitHolder,
    UstPipeIntegrityFrequency,
    UstPipeMaterial,
    UstPipingConstruction,
    UstPipingSystemType,
    UstProductPipingMaterial,
    UstProgrammedTankTest,
    UstSecondaryContainmentState,
    UstSignerRepresents,
    UstSitePlotPlan,
    UstSumpConstruction,
    UstTankAction,
    UstTankConfiguration,
    UstTankContents,
    UstTankIntegrityFrequency,
    UstTankOwnerType,
    UstTankPrimaryConstruction,
    UstTankSecondaryConstruction,
    UstTankType,
    UstTankUse,
    UstUdcConstruction,
    UstUdcConstructionType,
    UstUdcMaterial,
    UstUdcMonitoring,
    UstUdcSecondaryMonitoring,
    UstVisualPipeFrequency,
)


def _other(flag: str, value: object = None) -> When:
    return When(flag, (value,) if value is not None else (True,))


# ---------------------------------------------------------------- facility (RT 24)


class UstContact(Model):
    """Contact C7: property owner, tank owner or tank operator."""

    name: str | None = field("Name", required=True, max_length=80)
    phone: str | None = field("Phone", required=True, max_length=25)
    mailing_address: str | None = field("Mailing address", required=True, max_length=70)
    city: str | None = field("City", required=True, max_length=60)
    state: str | None = field("State", max_length=2)
    zip_code: str | None = field("ZIP code", max_length=10)
    country: str | None = field("Country", max_length=45)


class UstFinancialResponsibility(Model):
    self_insured: bool | None = field("Self-insured", "422")
    guarantee: bool | None = field("Guarantee", "422")
    insurance: bool | None = field("Insurance", "422")
    surety_bond: bool | None = field("Surety bond", "422")
    letter_of_credit: bool | None = field("Letter of credit", "422")
    exemption: bool | None = field("Exemption", "422")
    state_fund_cfo_letter: bool | None = field("State Fund and CFO letter", "422")
    state_fund_certificate_of_deposit: bool | None = field(
        "State Fund and certificate of deposit", "422")
    local_government_mechanism: bool | None = field("Local government mechanism", "422")
    other: bool | None = field("Other mechanism", "422-99")
    other_description: str | None = field("Other mechanism, specify", "422-99a", max_length=50,
                                          required_when=_other("other"))

    def extra_rules(self, check: Checker) -> None:
        flags = [v for k, v in self if k != "other_description"]
        if not any(flags):
            check.error("selfInsured", "Tick at least one financial-responsibility mechanism.",
                        "FR_MECHANISM_REQUIRED")


class UstFacility(Model):
    type_of_action: UstFacilityAction | None = field(
        "Type of action", "400", section="Facility", required=True, significant=True)
    facility_type: UstFacilityType | None = field("UST facility type", "403", section="Facility",
                                                  required=True)
    indian_or_trust_land: bool | None = field("On Indian or trust land", "405",
                                              section="Facility", required=True)
    permit_holder: UstPermitHolder | None = field("Permit holder", "423", section="Facility",
                                                  required=True)
    tank_owner_type: UstTankOwnerType | None = field("Tank owner type", "420",
                                                     section="Facility", required=True)
    sds_office: str | None = field(
        "Supervisor of division, section or office", "406", section="Facility", max_length=80,
        required_when=When("tank_owner_type", PUBLIC_OWNERS),
        help="Public agencies only.")
    boe_number: str | None = field(
        "BOE UST storage fee account number", "421", section="Facility", required=True,
        exact_length=8, invalid_code="INVALID_BOE")
    property_owner: UstContact | None = field("Property owner", "407–412a", required=True)
    tank_owner: UstContact | None = field("Tank owner", "414–419a", required=True,
                                          significant=True)
    tank_operator: UstContact | None = field("Tank operator", "428-1–428-7", required=True)
    financial_responsibility: UstFinancialResponsibility | None = field(
        "Financial responsibility mechanisms", "422", required=True)
    date_certified: dt.date | None = field("Date certified", "424", section="Certification",
                                           past=True)
    applicant_name: str | None = field("Applicant name", "426", section="Certification",
                                       max_length=80)
    applicant_title: str | None = field("Applicant title", "427", section="Certification",
                                        max_length=50)
    applicant_phone: str | None = field("Applicant phone", "425", section="Certification",
                                        max_length=25)


# ---------------------------------------------------------------- monitoring plan (RT 27)


class ContinuousElectronicTankMonitoring(Model):
    secondary_containment: UstSecondaryContainmentState | None = field(
        "Tank secondary containment is", "490-6")
    panel_manufacturer: str | None = field("Panel manufacturer", "490-7", max_length=25)
    panel_model: str | None = field("Panel model", "490-8", max_length=35)
    leak_sensor_manufacturer: str | None = field("Leak sensor manufacturer", "490-9",
                                                 max_length=20)
    leak_sensor_model: str | None = field("Leak sensor model", "490-10", max_length=35)


class AutomaticTankGauging(Model):
    panel_manufacturer: str | None = field("ATG panel manufacturer", "490-12", max_length=25)
    panel_model: str | None = field("ATG panel model", "490-13", max_length=35)
    probe_manufacturer: str | None = field("In-tank probe manufacturer", "490-14", max_length=25)
    probe_model: str | None = field("In-tank probe model", "490-15", max_length=35)
    leak_test_frequency: UstLeakTestFrequency | None = field("Leak test frequency", "490-16")
    leak_test_frequency_other: str | None = field(
        "Leak test frequency, specify", "490-17", max_length=10,
        required_when=_other("leak_test_frequency", UstLeakTestFrequency.OTHER))
    programmed_tank_test: UstProgrammedTankTest | None = field("Programmed tank test", "490-18")
    programmed_tank_test_other: str | None = field(
        "Programmed tank test, specify", "490-19", max_length=15,
        required_when=_other("programmed_tank_test", UstProgrammedTankTest.OTHER))


class WeeklyManualTankGauging(Model):
    test_period: UstGaugingTestPeriod | None = field("Test period", "490-22", required=True)


class TankIntegrityTesting(Model):
    frequency: UstTankIntegrityFrequency | None = field("Testing frequency", "490-24",
                                                        required=True)
    frequency_other: str | None = field(
        "Testing frequency, specify", "490-25", max_length=15,
        required_when=_other("frequency", UstTankIntegrityFrequency.OTHER))


class OtherTankMonitoring(Model):
    description: str | None = field("Other tank monitoring, specify", "490-27", max_length=100,
                                    required=True)


class PipeContinuousMonitoring(Model):
    secondary_containment: UstSecondaryContainmentState | None = field(
        "Piping secondary containment is", "490-29")
    panel_manufacturer: str | None = field("Panel manufacturer", "490-30", max_length=25)
    panel_model: str | None = field("Panel model", "490-31", max_length=35)
    leak_sensor_manufacturer: str | None = field("Leak sensor manufacturer", "490-32",
                                                 max_length=20)
    leak_sensor_model: str | None = field("Leak sensor model", "490-33", max_length=35)
    leak_alarm_triggers_pump_shutdown: bool | None = field(
        "Leak alarm triggers automatic pump shutdown", "490-34")
    failure_triggers_pump_shutdown: bool | None = field(
        "Failure or disconnection triggers pump shutdown", "490-35")


class MechanicalLineLeakDetector(Model):
    manufacturer: str | None = field("MLLD manufacturer", "490-37", max_length=25)
    model: str | None = field("MLLD model", "490-38", max_length=35)


class ElectronicLineLeakDetector(Model):
    manufacturer: str | None = field("ELLD manufacturer", "490-40", max_length=25)
    model: str | None = field("ELLD model", "490-41", max_length=35)
    programmed_testing: UstElldTesting | None = field("Programmed in-line testing", "490-42")
    triggers_pump_shutdown: bool | None = field("ELLD triggers pump shutdown", "490-43")
    failure_triggers_shutdown: bool | None = field(
        "ELLD failure or disconnection triggers shutdown", "490-44")


class PipeIntegrityTesting(Model):
    frequency: UstPipeIntegrityFrequency | None = field("Testing frequency", "490-46",
                                                        required=True)
    frequency_other: str | None = field(
        "Testing frequency, specify", "490-47", max_length=10,
        required_when=_other("frequency", UstPipeIntegrityFrequency.OTHER))


class VisualPipeMonitoring(Model):
    frequency: UstVisualPipeFrequency | None = field("Monitoring frequency", "490-49",
                                                     required=True)


class OtherPipeMonitoring(Model):
    description: str | None = field("Other piping monitoring, specify", "490-53",
                                    max_length=100, required=True)


TANK_METHODS = ("continuous_electronic_monitoring", "automatic_tank_gauging",
                "monthly_statistical_inventory_reconciliation", "weekly_manual_tank_gauging",
                "tank_integrity_testing", "other_tank_monitoring")
PIPE_METHODS = ("pipe_continuous_monitoring", "mechanical_line_leak_detector",
                "electronic_line_leak_detector", "pipe_integrity_testing",
                "visual_pipe_monitoring", "suction_piping_exempt", "no_regulated_piping",
                "other_pipe_monitoring")


class UstMonitoringPlan(Model):
    equipment_serviced: UstEquipmentServiced | None = field(
        "Monitoring equipment serviced", "490-3a", section="Monitoring", required=True)
    equipment_serviced_other: str | None = field(
        "Monitoring equipment serviced, specify", "490-3b", section="Monitoring", max_length=15,
        required_when=_other("equipment_serviced", UstEquipmentServiced.OTHER))
    site_plot_plan: UstSitePlotPlan | None = field("Site plot plan", "490-4",
                                                   section="Monitoring", required=True)
    continuous_electronic_monitoring: ContinuousElectronicTankMonitoring | None = field(
        "Tank: continuous electronic monitoring", "490-5", toggle=True)
    automatic_tank_gauging: AutomaticTankGauging | None = field(
        "Tank: automatic tank gauging", "490-11", toggle=True)
    monthly_statistical_inventory_reconciliation: bool | None = field(
        "Tank: monthly statistical inventory reconciliation (SIR)", "490-20",
        section="Tank monitoring")
    weekly_manual_tank_gauging: WeeklyManualTankGauging | None = field(
        "Tank: weekly manual tank gauging", "490-21", toggle=True)
    tank_integrity_testing: TankIntegrityTesting | None = field(
        "Tank: tank integrity testing", "490-23", toggle=True)
    other_tank_monitoring: OtherTankMonitoring | None = field(
        "Tank: other monitoring", "490-26", toggle=True)
    pipe_continuous_monitoring: PipeContinuousMonitoring | None = field(
        "Piping: continuous electronic monitoring", "490-28", toggle=True)
    mechanical_line_leak_detector: MechanicalLineLeakDetector | None = field(
        "Piping: mechanical line leak detector", "490-36", toggle=True)
    electronic_line_leak_detector: ElectronicLineLeakDetector | None = field(
        "Piping: electronic line leak detector", "490-39", toggle=True)
    pipe_integrity_testing: PipeIntegrityTesting | None = field(
        "Piping: integrity testing", "490-45", toggle=True)
    visual_pipe_monitoring: VisualPipeMonitoring | None = field(
        "Piping: visual monitoring", "490-48", toggle=True)
    suction_piping_exempt: bool | None = field(
        "Suction piping meets the exemption criteria", "490-50", section="Piping monitoring")
    no_regulated_piping: bool | None = field(
        "No regulated piping connected (HSC Div. 20 Ch. 6.7)", "490-51",
        section="Piping monitoring")
    other_pipe_monitoring: OtherPipeMonitoring | None = field(
        "Piping: other monitoring", "490-52", toggle=True)
    udc_monitoring: UstUdcMonitoring | None = field(
        "Under-dispenser containment monitoring", "490-54a", section="Under-dispenser "
        "containment (UDC) monitoring", required=True)
    udc_monitoring_other: str | None = field(
        "UDC monitoring, specify", "490-54b", section="Under-dispenser containment (UDC) "
        "monitoring", max_length=15,
        required_when=_other("udc_monitoring", UstUdcMonitoring.OTHER))
    udc_panel_manufacturer: str | None = field(
        "UDC panel manufacturer", "490-55", section="Under-dispenser containment (UDC) "
        "monitoring", max_length=25)
    udc_panel_model: str | None = field(
        "UDC panel model", "490-56", section="Under-dispenser containment (UDC) monitoring",
        max_length=35)
    udc_leak_sensor_manufacturer: str | None = field(
        "UDC leak sensor manufacturer", "490-57", section="Under-dispenser containment (UDC) "
        "monitoring", max_length=20)
    udc_leak_sensor_model: str | None = field(
        "UDC leak sensor model", "490-58", section="Under-dispenser containment (UDC) "
        "monitoring", max_length=35)
    udc_leak_triggers_alarm: bool | None = field(
        "A UDC leak triggers an alarm", "490-59", section="Under-dispenser containment (UDC) "
        "monitoring")
    udc_leak_triggers_shutdown: bool | None = field(
        "A UDC leak triggers shutdown", "490-60", section="Under-dispenser containment (UDC) "
        "monitoring")
    udc_failure_triggers_shutdown: bool | None = field(
        "Sensor failure or disconnection triggers pump shutdown", "490-61",
        section="Under-dispenser containment (UDC) monitoring")
    udc_monitoring_stops_flow: bool | None = field(
        "Monitoring stops the flow at the dispenser", "490-62",
        section="Under-dispenser containment (UDC) monitoring")
    udc_construction: UstUdcConstruction | None = field(
        "UDC construction", "490-63", section="Under-dispenser containment (UDC) monitoring")
    udc_secondary_containment_monitoring: UstUdcSecondaryMonitoring | None = field(
        "UDC secondary containment monitoring", "490-64a",
        section="Under-dispenser containment (UDC) monitoring")
    udc_secondary_leak_triggers_alarm: bool | None = field(
        "A leak within the UDC secondary containment triggers an alarm", "490-64b",
        section="Under-dispenser containment (UDC) monitoring")
    eld_testing: bool | None = field("Enhanced leak detection (ELD) testing", "490-65",
                                     section="Testing")
    secondary_containment_testing: bool | None = field(
        "Secondary containment tested every 36 months", "490-66", section="Testing")
    spill_bucket_testing: bool | None = field("Spill buckets tested annually", "490-67",
                                              section="Testing")
    alarm_logs: bool | None = field("Alarm logs", "490-68a", section="Records kept")
    visual_inspection_records: bool | None = field("Visual inspection records", "490-68b",
                                                   section="Records kept")
    tank_integrity_testing_results: bool | None = field("Tank integrity testing results",
                                                        "490-68c", section="Records kept")
    sir_testing_results: bool | None = field("SIR testing results", "490-68d",
                                             section="Records kept")
    tank_gauging_results: bool | None = field("Tank gauging results", "490-68e",
                                              section="Records kept")
    atg_testing_results: bool | None = field("ATG testing results", "490-68f",
                                             section="Records kept")
    corrosion_protection_logs: bool | None = field("Corrosion protection 60-day logs",
                                                   "490-68g", section="Records kept")
    maintenance_calibration_records: bool | None = field(
        "Equipment maintenance and calibration records", "490-68h", section="Records kept")
    personnel_familiar_with_training: bool | None = field(
        "Personnel are familiar with the training documents", "490-69a", section="Training")
    training_monitoring_plan: bool | None = field("UST monitoring plan", "490-69b",
                                                  section="Training")
    training_operating_manuals: bool | None = field("Operating manuals", "490-69c",
                                                    section="Training")
    training_ca_ust_regulations: bool | None = field("California UST regulations", "490-69d",
                                                     section="Training")
    training_ca_ust_law: bool | None = field("California UST law", "490-69e",
                                             section="Training")
    training_swrcb_handbook: bool | None = field(
        "SWRCB handbook for tank owners (manual gauging, SIR)", "490-69f", section="Training")
    training_swrcb_atg: bool | None = field(
        "SWRCB \"Understanding automatic tank gauging systems\"", "490-69g", section="Training")
    training_other: bool | None = field("Other training document", "490-69h",
                                        section="Training")
    training_other_description: str | None = field(
        "Other training document, specify", "490-69i", section="Training", max_length=100,
        required_when=_other("training_other"))
    designated_operator_training: bool | None = field("Designated operator training", "490-70",
                                                      section="Training")
    comments: str | None = field("Comments", "490-71", section="Training", max_length=300,
                                 long=True)
    first_responsible_name: str | None = field(
        "First person responsible for monitoring: name", "490-72",
        section="Persons responsible for monitoring", required=True, max_length=80)
    first_responsible_title: str | None = field(
        "First person responsible for monitoring: title", "490-73",
        section="Persons responsible for monitoring", required=True, max_length=50)
    second_responsible_name: str | None = field(
        "Second person responsible: name", "490-74",
        section="Persons responsible for monitoring", max_length=80)
    second_responsible_title: str | None = field(
        "Second person responsible: title", "490-75",
        section="Persons responsible for monitoring", max_length=50)
    signer_represents: UstSignerRepresents | None = field("Signer represents", "490-76",
                                                          section="Signature")
    signature_date: dt.date | None = field("Signature date", "490-77", section="Signature",
                                           past=True)
    applicant_name: str | None = field("Applicant name", "490-78", section="Signature",
                                       max_length=80)
    applicant_title: str | None = field("Applicant title", "490-79", section="Signature",
                                        max_length=50)

    def tank_monitored(self) -> bool:
        return any(getattr(self, name) for name in TANK_METHODS)

    def piping_monitored(self) -> bool:
        return any(getattr(self, name) for name in PIPE_METHODS)


# ---------------------------------------------------------------- tank (RT 25)


def _specify(label: str, cers: str, flag: str, value: object, section: str) -> Any:
    return field(f"{label}, specify", cers, section=section, max_length=35,
                 required_when=_other(flag, value))


TANK, USE, BUILT, PROTECT, PIPING, UDC, CERTIFY = (
    "Tank", "Use and contents", "Tank construction", "Corrosion, spill and overfill protection",
    "Piping", "Under-dispenser containment (UDC)", "Certification")


class UstTank(Record):
    key_field = "tank_id_number"

    type_of_action: UstTankAction | None = field("Type of action", "430", section=TANK,
                                                 required=True, significant=True)
    permanently_closed_on: dt.date | None = field(
        "Date UST permanently closed", "430-a", section=TANK, past=True,
        required_when=When("type_of_action", CLOSED))
    existing_ust_discovered_on: dt.date | None = field("Date existing UST discovered", "430-b",
                                                       section=TANK, past=True)
    tank_id_number: str | None = field("Tank ID", "432", section=TANK, required=True,
                                       max_length=24)
    tank_manufacturer: str | None = field("Tank manufacturer", "433", section=TANK,
                                          max_length=30)
    tank_configuration: UstTankConfiguration | None = field("Tank configuration", "434",
                                                            section=TANK, required=True)
    installed_on: dt.date | None = field("Date UST system installed", "435", section=TANK,
                                         past=True)
    capacity_gallons: int | None = field("Capacity (gallons)", "436", section=TANK,
                                         required=True, ge=1, le=9_999_999, significant=True)
    number_of_compartments: int | None = field("Number of compartments in the unit", "437",
                                               section=TANK, required=True, ge=1, le=99)
    additional_description: str | None = field("Additional description", "438", section=TANK,
                                               max_length=500, long=True)
    tank_use: UstTankUse | None = field("Tank use", "439", section=USE, required=True,
                                        significant=True)
    other_tank_use: str | None = _specify("Tank use", "439a", "tank_use", UstTankUse.OTHER, USE)
    tank_contents: UstTankContents | None = field("Tank contents", "440", section=USE,
                                                  required=True, significant=True)
    other_petroleum: str | None = _specify("Other petroleum", "440a", "tank_contents",
                                           UstTankContents.OTHER_PETROLEUM, USE)
    other_non_petroleum: str | None = _specify("Other non-petroleum", "440b", "tank_contents",
                                               UstTankContents.OTHER_NON_PETROLEUM, USE)
    type_of_tank: UstTankType | None = field("Type of tank", "443", section=BUILT,
                                             required=True, significant=True)
    primary_construction: UstTankPrimaryConstruction | None = field(
        "Primary containment", "444", section=BUILT, required=True)
    other_primary_construction: str | None = _specify(
        "Primary containment", "444a", "primary_construction", UstTankPrimaryConstruction.OTHER,
        BUILT)
    secondary_construction: UstTankSecondaryConstruction | None = field(
        "Secondary containment", "445", section=BUILT, required=True)
    other_secondary_construction: str | None = _specify(
        "Secondary containment", "445a", "secondary_construction",
        UstTankSecondaryConstruction.OTHER, BUILT)
    cp_sacrificial_anode: bool | None = field("Corrosion protection: sacrificial anode", "448a",
                                              section=PROTECT)
    cp_impressed_current: bool | None = field("Corrosion protection: impressed current", "448b",
                                              section=PROTECT)
    cp_isolation: bool | None = field("Corrosion protection: isolation", "448c",
                                      section=PROTECT)
    spill_bucket_installed: bool | None = field("Spill bucket installed", "451-a",
                                                section=PROTECT)
    striker_plate_installed: bool | None = field("Striker plate or bottom protector installed",
                                                 "451-b", section=PROTECT)
    containment_sump: bool | None = field("Containment sump", "451-c", section=PROTECT)
    overfill_alarms: bool | None = field("Overfill prevention: audible and visual alarms",
                                         "452a", section=PROTECT)
    overfill_ball_float: bool | None = field("Overfill prevention: ball float", "452b",
                                             section=PROTECT)
    overfill_fill_tube_shutoff: bool | None = field(
        "Overfill prevention: fill-tube shut-off valve", "452c", section=PROTECT)
    overfill_exempt: bool | None = field("Exempt from overfill prevention", "452d",
                                         section=PROTECT)
    piping_system_type: UstPipingSystemType | None = field("Piping system type", "458",
                                                           section=PIPING, required=True)
    piping_construction: UstPipingConstruction | None = field(
        "Piping construction", "460", section=PIPING, required=True, significant=True)
    product_piping_primary: UstProductPipingMaterial | None = field(
        "Product/waste piping: primary containment", "464", section=PIPING,
        required_when=When("piping_system_type", tuple(UstPipingSystemType)))
    other_product_piping_primary: str | None = _specify(
        "Product/waste piping primary", "464a", "product_piping_primary",
        UstProductPipingMaterial.OTHER, PIPING)
    product_piping_secondary: UstProductPipingMaterial | None = field(
        "Product/waste piping: secondary containment", "464b", section=PIPING,
        required_when=When("piping_construction", (UstPipingConstruction.DOUBLE_WALLED,)))
    other_product_piping_secondary: str | None = _specify(
        "Product/waste piping secondary", "464c", "product_piping_secondary",
        UstProductPipingMaterial.OTHER, PIPING)
    turbine_containment_sump: UstSumpConstruction | None = field(
        "Piping/turbine containment sump", "464d", section=PIPING)
    vent_piping_primary: UstPipeMaterial | None = field("Vent piping: primary", "464e",
                                                        section=PIPING)
    other_vent_piping_primary: str | None = _specify(
        "Vent piping primary", "464e1", "vent_piping_primary", UstPipeMaterial.OTHER, PIPING)
    vent_piping_secondary: UstPipeMaterial | None = field("Vent piping: secondary", "464f",
                                                          section=PIPING)
    other_vent_piping_secondary: str | None = _specify(
        "Vent piping secondary", "464f1", "vent_piping_secondary", UstPipeMaterial.OTHER, PIPING)
    vapor_recovery_primary: UstPipeMaterial | None = field(
        "Vapor-recovery piping: primary", "464g", section=PIPING)
    other_vapor_recovery_primary: str | None = _specify(
        "Vapor-recovery piping primary", "464g1", "vapor_recovery_primary",
        UstPipeMaterial.OTHER, PIPING)
    vapor_recovery_secondary: UstPipeMaterial | None = field(
        "Vapor-recovery piping: secondary", "464h", section=PIPING)
    other_vapor_recovery_secondary: str | None = _specify(
        "Vapor-recovery piping secondary", "464h1", "vapor_recovery_secondary",
        UstPipeMaterial.OTHER, PIPING)
    vent_transition_sump: UstSumpConstruction | None = field(
        "Vent piping transition sump", "464i", section=PIPING)
    riser_primary: UstPipeMaterial | None = field("Riser pipe: primary", "464j", section=PIPING)
    other_riser_primary: str | None = _specify(
        "Riser pipe primary", "464j1", "riser_primary", UstPipeMaterial.OTHER, PIPING)
    riser_secondary: UstPipeMaterial | None = field("Riser pipe: secondary", "464k",
                                                    section=PIPING)
    other_riser_secondary: str | None = _specify(
        "Riser pipe secondary", "464k1", "riser_secondary", UstPipeMaterial.OTHER, PIPING)
    udc_construction_type: UstUdcConstructionType | None = field(
        "Under-dispenser containment type", "469a", section=UDC, required=True)
    udc_material: UstUdcMaterial | None = field(
        "UDC material", "469b", section=UDC,
        required_when=When("udc_construction_type", (UstUdcConstructionType.SINGLE_WALLED,
                                                     UstUdcConstructionType.DOUBLE_WALLED)))
    other_udc_material: str | None = _specify("UDC material", "469c", "udc_material",
                                              UstUdcMaterial.OTHER, UDC)
    certified_on: dt.date | None = field("Date certified", "470", section=CERTIFY, past=True)
    applicant_name: str | None = field("Applicant name", "471", section=CERTIFY, max_length=80)
    applicant_title: str | None = field("Applicant title", "472", section=CERTIFY,
                                        max_length=50)
    monitoring_plan: UstMonitoringPlan | None = field("Monitoring plan", "490", required=True)

    def extra_rules(self, check: Checker) -> None:
        closed = self.type_of_action in CLOSED
        if (self.type_of_tank is UstTankType.DOUBLE_WALL
                and self.secondary_construction is UstTankSecondaryConstruction.NONE):
            check.error("secondaryConstruction", "A double-walled tank has a secondary "
                        "containment: choose its construction instead of None.", "INCONSISTENT")
        if (self.tank_configuration is UstTankConfiguration.COMPARTMENTED
                and self.number_of_compartments == 1):
            check.warning("numberOfCompartments", "A tank in a compartmented unit: give the "
                          "unit's number of compartments (2 or more).", "INCONSISTENT")
        protections = (self.overfill_alarms, self.overfill_ball_float,
                       self.overfill_fill_tube_shutoff, self.overfill_exempt)
        if not closed and not any(protections):
            check.warning("overfillAlarms", "Overfill prevention: tick the equipment installed, "
                          "or that the tank is exempt.", "OVERFILL_PREVENTION_MISSING")
        plan = self.monitoring_plan
        if plan is None or closed:
            return
        at = check.at("monitoringPlan")
        if not plan.tank_monitored():
            at.warning("continuousElectronicMonitoring", "No tank monitoring method is "
                       "selected; an operating UST must be monitored.", "NO_TANK_MONITORING")
        if self.piping_system_type is not None and not plan.piping_monitored():
            at.warning("pipeContinuousMonitoring", "No piping monitoring method (or exemption) "
                       "is selected for the tank's piping.", "NO_PIPING_MONITORING")
        no_dispensers = self.udc_construction_type is UstUdcConstructionType.NO_DISPENSERS
        if plan.udc_monitoring is not None and no_dispensers != (
                plan.udc_monitoring is UstUdcMonitoring.NO_DISPENSERS):
            at.warning("udcMonitoring", "UDC monitoring and the tank's under-dispenser "
                       "containment type disagree about whether there are dispensers.",
                       "INCONSISTENT")


# ---------------------------------------------------------------- certificates (RT 26)


class UstInstallationCertificate(Record):
    key_field = "contractor_name"

    contractor_name: str | None = field("Installing contractor", "482a", section="Contractor",
                                        required=True, max_length=80)
    contractor_license_number: str | None = field("Contractor licence number", "482b",
                                                  section="Contractor", max_length=20)
    icc_certification_number: str | None = field("ICC certification number", "482c",
                                                 section="Contractor", max_length=10)
    project_tank: bool | None = field("Project: tank", "483a-1", section="Project")
    project_piping: bool | None = field("Project: piping", "483a-2", section="Project")
    project_sump: bool | None = field("Project: sump", "483a-3", section="Project")
    project_under_dispenser: bool | None = field("Project: under-dispenser containment",
                                                 "483a-4", section="Project")
    project_other: bool | None = field("Project: other", "483a-5", section="Project")
    work_authorized_under_permit: str | None = field("Work authorized under permit", "483b",
                                                     section="Project", max_length=10)
    description_of_work: str | None = field("Description of work certified", "483c",
                                            section="Project", required=True, max_length=300,
                                            long=True)
    certified_on: dt.date | None = field("Date certified", "484", section="Certifier",
                                         past=True)
    certifier_name: str | None = field("Certifier name", "485", section="Certifier",
                                       max_length=80)
    certifier_title: str | None = field("Certifier title", "486", section="Certifier",
                                        max_length=50)
    certifier_phone: str | None = field("Certifier phone", "487", section="Certifier",
                                        max_length=25)
    certifier_employer: str | None = field("Certifier's employer", "488", section="Certifier",
                                           max_length=80)
    certifier_relationship: UstCertifierRelationship | None = field(
        "Certifier's relationship to the tank owner", "489", section="Certifier")

    def extra_rules(self, check: Checker) -> None:
        if not any((self.project_tank, self.project_piping, self.project_sump,
                    self.project_under_dispenser, self.project_other)):
            check.error("projectTank", "Tick at least one project type.",
                        "PROJECT_TYPE_REQUIRED")


# ---------------------------------------------------------------- documents and element


class UstDocuments(Model):
    certification_of_financial_responsibility: DocumentSlot | None = field(
        "Certification of financial responsibility", "RT 29", required=True)
    monitoring_site_plan: DocumentSlot | None = field("Monitoring site plan", "RT 28")
    response_plan: DocumentSlot | None = field("Response plan", "RT 30")
    owner_operator_agreement: DocumentSlot | None = field(
        "Written agreement between the UST owner and operator", "RT 31")
    cfo_letter: DocumentSlot | None = field("Letter from the Chief Financial Officer", "RT 32")
    designated_operator_statement: DocumentSlot | None = field(
        "Owner statement of designated UST operator compliance", "RT 33")
    locally_collected: DocumentSlot | None = field("Locally required documents", "RT 37")
    miscellaneous_state_required: DocumentSlot | None = field(
        "Miscellaneous state-required documents", "RT 54")


class UndergroundStorageTanks(Model):
    facility: UstFacility | None = field("UST facility", "RT 24", required=True)
    tanks: tuple[UstTank, ...] = field("Tanks", "RT 25", max_items=500, min_items=1,
                                       item_label="Tank", significant=True)
    installation_certificates: tuple[UstInstallationCertificate, ...] = field(
        "Certificates of installation/modification", "RT 26", max_items=100,
        item_label="Certificate")
    documents: UstDocuments | None = field("Documents", required=True)

    def extra_rules(self, check: Checker) -> None:
        seen: dict[str, int] = {}
        for i, tank in enumerate(self.tanks):
            key = (tank.tank_id_number or "").strip().lower()
            if key and key in seen:
                check.at("tanks", i).error("tankIdNumber", f"Tank ID {tank.tank_id_number} is "
                                           f"already used by tank {seen[key] + 1}.",
                                           "DUPLICATE_TANK_ID")
            seen.setdefault(key, i)
        documents = self.documents or UstDocuments()
        at = check.at("documents")
        plans = [t.monitoring_plan for t in self.tanks if t.monitoring_plan is not None]
        if (any(p.site_plot_plan is UstSitePlotPlan.NEW_PLAN_SUBMITTED for p in plans)
                and _empty_slot(documents.monitoring_site_plan)):
            at.error("monitoringSitePlan", "A monitoring plan says a new site plot plan is "
                     "submitted: provide the monitoring site plan.", "MISSING_DOCUMENT")
        fr = self.facility.financial_responsibility if self.facility else None
        if fr is not None and fr.state_fund_cfo_letter and _empty_slot(documents.cfo_letter):
            at.error("cfoLetter", "The State Fund and CFO letter mechanism needs the letter "
                     "from the Chief Financial Officer.", "MISSING_DOCUMENT")
        owner = self.facility.tank_owner if self.facility else None
        operator = self.facility.tank_operator if self.facility else None
        if (owner and operator and owner.name and operator.name
                and owner.name.strip().lower() != operator.name.strip().lower()
                and _empty_slot(documents.owner_operator_agreement)):
            at.warning("ownerOperatorAgreement", "The tank owner and operator differ: the "
                       "written agreement between them may be required.",
                       "DOCUMENT_MAY_BE_REQUIRED")
        new_tanks = any(t.type_of_action is UstTankAction.NEW_PERMIT for t in self.tanks)
        if new_tanks and not self.installation_certificates:
            check.warning("installationCertificates", "A new tank usually needs a certificate "
                          "of installation.", "FORM_MAY_BE_REQUIRED")


def _empty_slot(slot: DocumentSlot | None) -> bool:
    return slot is None or slot.option is None
