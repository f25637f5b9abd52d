"""Hazardous Materials Inventory (SE 2): one record per material, plus the site map.

Fields and rules follow DESIGN §5 and DATA-DICTIONARY §3.
"""

from __future__ import annotations

from enum import StrEnum

from services.submittal.domain.cas import cas_problem
from services.submittal.domain.documents import DocumentSlot, check_slot
from services.submittal.domain.issues import Checker
from services.submittal.domain.model import Model


class HmType(StrEnum):
    PURE = "PURE"
    MIXTURE = "MIXTURE"
    WASTE = "WASTE"


class PhysicalState(StrEnum):
    SOLID = "SOLID"
    LIQUID = "LIQUID"
    GAS = "GAS"


class Units(StrEnum):
    GALLONS = "GALLONS"
    CUBIC_FEET = "CUBIC_FEET"
    POUNDS = "POUNDS"
    TONS = "TONS"


class DensityUnits(StrEnum):
    POUNDS_PER_GALLON = "POUNDS_PER_GALLON"
    POUNDS_PER_CUBIC_FOOT = "POUNDS_PER_CUBIC_FOOT"


class StoragePressure(StrEnum):
    AMBIENT = "AMBIENT"
    ABOVE_AMBIENT = "ABOVE_AMBIENT"
    BELOW_AMBIENT = "BELOW_AMBIENT"


class StorageTemperature(StrEnum):
    AMBIENT = "AMBIENT"
    ABOVE_AMBIENT = "ABOVE_AMBIENT"
    BELOW_AMBIENT = "BELOW_AMBIENT"
    CRYOGENIC = "CRYOGENIC"


class ContainerType(StrEnum):
    ABOVE_GROUND_TANK = "ABOVE_GROUND_TANK"
    UNDERGROUND_TANK = "UNDERGROUND_TANK"
    TANK_INSIDE_BUILDING = "TANK_INSIDE_BUILDING"
    STEEL_DRUM = "STEEL_DRUM"
    PLASTIC_DRUM = "PLASTIC_DRUM"
    CAN = "CAN"
    CARBOY = "CARBOY"
    SILO = "SILO"
    FIBER_DRUM = "FIBER_DRUM"
    BAG = "BAG"
    BOX = "BOX"
    CYLINDER = "CYLINDER"
    GLASS_BOTTLE = "GLASS_BOTTLE"
    PLASTIC_BOTTLE = "PLASTIC_BOTTLE"
    TOTE_BIN = "TOTE_BIN"
    TANK_TRUCK = "TANK_TRUCK"
    TANK_CAR = "TANK_CAR"
    OTHER = "OTHER"


class HazardCategory(StrEnum):
    """Federal (GHS-aligned) physical and health hazard classes, DATA-DICTIONARY 216f-cc."""

    FLAMMABLE = "FLAMMABLE"
    GAS_UNDER_PRESSURE = "GAS_UNDER_PRESSURE"
    EXPLOSIVE = "EXPLOSIVE"
    SELF_HEATING = "SELF_HEATING"
    PYROPHORIC = "PYROPHORIC"
    OXIDIZER = "OXIDIZER"
    ORGANIC_PEROXIDE = "ORGANIC_PEROXIDE"
    SELF_REACTIVE = "SELF_REACTIVE"
    PYROPHORIC_GAS = "PYROPHORIC_GAS"
    CORROSIVE_TO_METAL = "CORROSIVE_TO_METAL"
    WATER_REACTIVE_FLAMMABLE_GAS = "WATER_REACTIVE_FLAMMABLE_GAS"
    COMBUSTIBLE_DUST = "COMBUSTIBLE_DUST"
    PHYSICAL_HAZARD_NOT_OTHERWISE_CLASSIFIED = "PHYSICAL_HAZARD_NOT_OTHERWISE_CLASSIFIED"
    CARCINOGENICITY = "CARCINOGENICITY"
    ACUTE_TOXICITY = "ACUTE_TOXICITY"
    REPRODUCTIVE_TOXICITY = "REPRODUCTIVE_TOXICITY"
    SKIN_CORROSION_IRRITATION = "SKIN_CORROSION_IRRITATION"
    RESPIRATORY_SKIN_SENSITIZATION = "RESPIRATORY_SKIN_SENSITIZATION"
    SERIOUS_EYE_DAMAGE_IRRITATION = "SERIOUS_EYE_DAMAGE_IRRITATION"
    SPECIFIC_TARGET_ORGAN_TOXICITY = "SPECIFIC_TARGET_ORGAN_TOXICITY"
    ASPIRATION_HAZARD = "ASPIRATION_HAZARD"
    GERM_CELL_MUTAGENICITY = "GERM_CELL_MUTAGENICITY"
    SIMPLE_ASPHYXIANT = "SIMPLE_ASPHYXIANT"
    HEALTH_HAZARD_NOT_OTHERWISE_CLASSIFIED = "HEALTH_HAZARD_NOT_OTHERWISE_CLASSIFIED"


class Component(Model):
    percent: float | None = None
    name: str | None = None
    cas_number: str | None = None
    ehs: bool | None = None


class HazardousMaterial(Model):
    chemical_name: str | None = None
    common_name: str | None = None
    cas_number: str | None = None
    trade_secret: bool = False
    ehs: bool | None = None
    hm_type: HmType | None = None
    physical_state: PhysicalState | None = None
    location: str | None = None
    location_confidential: bool = False
    map_number: str | None = None
    grid_number: str | None = None
    largest_container: float | None = None
    container_types: tuple[ContainerType, ...] = ()
    storage_pressure: StoragePressure | None = None
    storage_temperature: StorageTemperature | None = None
    average_daily_amount: float | None = None
    maximum_daily_amount: float | None = None
    units: Units | None = None
    # Lets amounts convert between weight and volume (search by an amount in any unit).
    density: float | None = None
    density_units: DensityUnits | None = None
    days_on_site: int | None = None
    annual_waste_amount: float | None = None
    state_waste_code: str | None = None
    fire_code_hazard_classes: tuple[int, ...] = ()
    hazard_categories: tuple[HazardCategory, ...] = ()
    components: tuple[Component, ...] = ()

    def diff_key(self) -> str:
        """The same material from one submission to the next: its CAS number (else its name)
        at the same location, ignoring case."""
        identity = (self.cas_number or self.chemical_name or self.common_name or "").strip()
        return f"{identity.lower()}@{(self.location or '').strip().lower()}"


class HazardousMaterialsInventory(Model):
    materials: tuple[HazardousMaterial, ...] = ()
    site_map: DocumentSlot | None = None


def check_material(check: Checker, m: HazardousMaterial) -> None:
    check.required("commonName", m.common_name, "Common name")
    check.required("ehs", m.ehs, "EHS (extremely hazardous substance) yes/no")
    check.required("physicalState", m.physical_state, "Physical state")
    check.required("maximumDailyAmount", m.maximum_daily_amount, "Maximum daily amount")
    check.required("units", m.units, "Units")
    check.max_length("commonName", m.common_name, 500, "Common name")
    check.max_length("chemicalName", m.chemical_name, 500, "Chemical name")
    check.max_length("location", m.location, 140, "Location")
    check.max_length("mapNumber", m.map_number, 15, "Map number")
    check.max_length("gridNumber", m.grid_number, 15, "Grid number")
    if m.cas_number and (problem := cas_problem(m.cas_number)):
        check.error("casNumber", problem, "INVALID_CAS")
    for name in ("average_daily_amount", "maximum_daily_amount", "largest_container",
                 "annual_waste_amount"):
        value = getattr(m, name)
        if value is not None and value < 0:
            field = HazardousMaterial.model_fields[name].alias or name
            check.error(field, "Amounts cannot be negative.", "OUT_OF_RANGE")
    avg, peak = m.average_daily_amount, m.maximum_daily_amount
    if avg is not None and peak is not None and avg > peak:
        check.error(
            "averageDailyAmount",
            f"Average daily amount ({avg:g}) cannot exceed the maximum daily amount ({peak:g}).",
            "AVERAGE_EXCEEDS_MAXIMUM",
        )
    if m.ehs and m.units is not None and m.units is not Units.POUNDS:
        check.warning(
            "units",
            "Extremely hazardous substances should be reported in pounds.",
            "EHS_NOT_IN_POUNDS",
        )
    if m.density is not None and m.density <= 0:
        check.error("density", "Density must be greater than zero.", "OUT_OF_RANGE")
    if (m.density is None) != (m.density_units is None):
        check.error("densityUnits" if m.density_units is None else "density",
                    "Give the density together with its units (pounds per gallon or per "
                    "cubic foot).", "REQUIRED")
    if m.days_on_site is not None and not 1 <= m.days_on_site <= 365:
        check.error("daysOnSite", "Days on site must be between 1 and 365.", "OUT_OF_RANGE")
    if len(m.fire_code_hazard_classes) > 8:
        check.error("fireCodeHazardClasses", "At most 8 fire code hazard classes.", "OUT_OF_RANGE")
    for i, code in enumerate(m.fire_code_hazard_classes):
        if not 1 <= code <= 39:
            check.at("fireCodeHazardClasses").error(
                i, f"Fire code hazard class {code} is not 1-39.", "OUT_OF_RANGE"
            )
    if m.state_waste_code is not None and not (
        m.state_waste_code.isdigit() and 121 <= int(m.state_waste_code) <= 801
    ):
        check.error("stateWasteCode", "State waste code is a 3-digit code from 121 to 801.")
    if m.hm_type is HmType.WASTE:
        check.required("annualWasteAmount", m.annual_waste_amount, "Annual waste amount (waste)")
        check.required("stateWasteCode", m.state_waste_code, "State waste code (waste)")
    _check_components(check, m.components)


def _check_components(check: Checker, components: tuple[Component, ...]) -> None:
    if len(components) > 5:
        check.error("components", "At most 5 hazardous components; list the rest in the comment.",
                    "TOO_MANY_COMPONENTS")
    total = 0.0
    for i, component in enumerate(components):
        at = check.at("components", i)
        at.required("name", component.name, "Component name")
        if component.percent is None or not 0.01 <= component.percent <= 100:
            at.error("percent", "Component percent by weight must be 0.01 to 100.", "OUT_OF_RANGE")
        else:
            total += component.percent
        if component.cas_number and (problem := cas_problem(component.cas_number)):
            at.error("casNumber", problem, "INVALID_CAS")
    if total > 100.0001:
        check.error("components", f"Component percentages add up to {total:g}%, more than 100%.",
                    "COMPONENTS_OVER_100")


def check_inventory(check: Checker, inventory: HazardousMaterialsInventory) -> None:
    for i, material in enumerate(inventory.materials):
        check_material(check.at("materials", i), material)
    check_slot(check.at("siteMap"), inventory.site_map, "Site map", required=True)
