"""The UST code lists (DATA-DICTIONARY-ELEMENTS §1): our name, the CERS code and its label."""

from __future__ import annotations

from services.submittal.domain.codes import CodeList


class UstFacilityAction(CodeList):
    NEW_PERMIT = "1", "New Permit"
    RENEWAL_PERMIT = "3", "Renewal Permit"
    CONFIRMED_UPDATED = "5", "Confirmed/Updated Information"
    TEMPORARY_CLOSURE = "6", "Temporary Facility Closure"
    PERMANENT_CLOSURE = "7", "Permanent Facility Closure"
    TRANSFER_PERMIT = "9", "Transfer Permit"


class UstFacilityType(CodeList):
    MOTOR_VEHICLE_FUELING = "1", "Motor Vehicle Fueling"
    FUEL_DISTRIBUTION = "2", "Fuel Distribution"
    FARM = "3", "Farm"
    PROCESSOR = "4", "Processor"
    OTHER = "6", "Other"


class UstTankOwnerType(CodeList):
    LOCAL_AGENCY = "4", "Local Agency/District"
    COUNTY_AGENCY = "5", "County Agency"
    STATE_AGENCY = "6", "State Agency"
    FEDERAL_AGENCY = "7", "Federal Agency"
    NON_GOVERNMENT = "8", "Non-Government"


PUBLIC_OWNERS = (UstTankOwnerType.LOCAL_AGENCY, UstTankOwnerType.COUNTY_AGENCY,
                 UstTankOwnerType.STATE_AGENCY, UstTankOwnerType.FEDERAL_AGENCY)


class UstPermitHolder(CodeList):
    FACILITY_OWNER = "1", "Facility Owner"
    TANK_OWNER = "3", "Tank Owner"
    TANK_OPERATOR = "4", "Tank Operator"
    FACILITY_OPERATOR = "5", "Facility Operator"


class UstTankAction(CodeList):
    NEW_PERMIT = "1", "New Permit"
    RENEWAL_PERMIT = "3", "Renewal Permit"
    CONFIRMED_UPDATED = "5", "Confirmed/Updated Information"
    TEMPORARY_CLOSURE = "6", "Temporary UST Closure"
    PERMANENT_CLOSURE_ON_SITE = "7", "UST Permanent Closure on Site"
    REMOVAL = "8", "UST Removal"


CLOSED = (UstTankAction.PERMANENT_CLOSURE_ON_SITE, UstTankAction.REMOVAL)


class UstTankConfiguration(CodeList):
    STAND_ALONE = "1", "A Stand-alone Tank"
    COMPARTMENTED = "2", "One in a Compartmented Unit"


class UstTankUse(CodeList):
    MOTOR_VEHICLE_FUELING = "1a", "Motor Vehicle Fueling"
    MARINA_FUELING = "1b", "Marina Fueling"
    AVIATION_FUELING = "1c", "Aviation Fueling"
    CHEMICAL_PRODUCT_STORAGE = "03", "Chemical Product Storage"
    HAZARDOUS_WASTE = "04", "Hazardous Waste (includes used oil)"
    EMERGENCY_GENERATOR_FUEL = "05", "Emergency Generator Fuel"
    OTHER_GENERATOR_FUEL = "06", "Other Generator Fuel"
    UNKNOWN = "95", "Unknown"
    OTHER = "99", "Other"


class UstTankContents(CodeList):
    REGULAR_UNLEADED = "1a", "Regular Unleaded"
    PREMIUM_UNLEADED = "1b", "Premium Unleaded"
    MIDGRADE_UNLEADED = "1c", "Midgrade Unleaded"
    DIESEL = "03", "Diesel"
    JET_FUEL = "05", "Jet Fuel"
    AVIATION_GAS = "06", "Aviation Gas"
    USED_OIL = "07", "Used Oil"
    PETROLEUM_BLEND_FUEL = "08", "Petroleum Blend Fuel"
    OTHER_PETROLEUM = "09", "Other Petroleum"
    ETHANOL = "10", "Ethanol"
    OTHER_NON_PETROLEUM = "11", "Other Non-petroleum"


class UstTankType(CodeList):
    SINGLE_WALL = "01", "Single Wall"
    DOUBLE_WALL = "02", "Double Wall"
    UNKNOWN = "95", "Unknown"


class UstTankPrimaryConstruction(CodeList):
    STEEL = "01", "Steel"
    FIBERGLASS = "03", "Fiberglass"
    INTERNAL_BLADDER = "06", "Internal Bladder"
    STEEL_INTERNAL_LINING = "07", "Steel + Internal Lining"
    UNKNOWN = "95", "Unknown"
    OTHER = "99", "Other"


class UstTankSecondaryConstruction(CodeList):
    STEEL = "01", "Steel"
    FIBERGLASS = "03", "Fiberglass"
    EXTERIOR_MEMBRANE_LINER = "06", "Exterior Membrane Liner"
    JACKETED = "07", "Jacketed"
    NONE = "90", "None"
    UNKNOWN = "95", "Unknown"
    OTHER = "99", "Other"


class UstPipingSystemType(CodeList):
    PRESSURE = "01", "Pressure"
    GRAVITY = "02", "Gravity"
    CONVENTIONAL_SUCTION = "03", "Conventional Suction"
    SAFE_SUCTION = "04", "23 CCR §2636(a)(3) Suction"


class UstPipingConstruction(CodeList):
    SINGLE_WALLED = "1", "Single-walled"
    DOUBLE_WALLED = "2", "Double-walled"
    OTHER = "99", "Other"


class UstProductPipingMaterial(CodeList):
    """Code list P7."""

    STEEL = "01", "Steel"
    FIBERGLASS = "04", "Fiberglass"
    FLEXIBLE = "08", "Flexible"
    RIGID_PLASTIC = "10", "Rigid Plastic"
    NONE = "90", "None"
    UNKNOWN = "95", "Unknown"
    OTHER = "99", "Other"


class UstPipeMaterial(CodeList):
    """Code list P5 (vent, vapor-recovery and riser piping)."""

    STEEL = "01", "Steel"
    FIBERGLASS = "04", "Fiberglass"
    RIGID_PLASTIC = "10", "Rigid Plastic"
    NONE = "90", "None"
    OTHER = "99", "Other"


class UstSumpConstruction(CodeList):
    """Code list S3."""

    SINGLE_WALLED = "01", "Single-walled"
    DOUBLE_WALLED = "02", "Double-walled"
    NONE = "90", "None"


class UstUdcConstructionType(CodeList):
    SINGLE_WALLED = "01", "Single-walled"
    DOUBLE_WALLED = "02", "Double-walled"
    NO_DISPENSERS = "03", "No Dispensers"


class UstUdcMaterial(CodeList):
    STEEL = "01", "Steel"
    FIBERGLASS = "04", "Fiberglass"
    RIGID_PLASTIC = "10", "Rigid Plastic"
    CONCRETE = "15", "Concrete"
    NONE = "90", "None"
    OTHER = "99", "Other"


class UstEquipmentServiced(CodeList):
    ANNUALLY = "01", "Annually"
    OTHER = "99", "Other"


class UstSitePlotPlan(CodeList):
    NEW_PLAN_SUBMITTED = "1", "New Plan Submitted"
    PREVIOUSLY_SUBMITTED = "2", "Site Plan Previously Submitted"


class UstSecondaryContainmentState(CodeList):
    DRY = "01", "Dry"
    LIQUID_FILLED = "02", "Liquid-filled"
    PRESSURIZED = "03", "Pressurized"
    UNDER_VACUUM = "04", "Under Vacuum"


class UstLeakTestFrequency(CodeList):
    CONTINUOUS = "01", "Continuous"
    DAILY_NIGHTLY = "02", "Daily/Nightly"
    WEEKLY = "03", "Weekly"
    MONTHLY = "04", "Monthly"
    OTHER = "99", "Other"


class UstProgrammedTankTest(CodeList):
    GPH_0_1 = "01", "0.1 GPH"
    GPH_0_2 = "02", "0.2 GPH"
    OTHER = "99", "Other"


class UstGaugingTestPeriod(CodeList):
    HOURS_36 = "01", "36 Hours"
    HOURS_60 = "02", "60 Hours"


class UstTankIntegrityFrequency(CodeList):
    ANNUALLY = "01", "Annually"
    BIENNIALLY = "02", "Biennially"
    OTHER = "99", "Other"


class UstElldTesting(CodeList):
    GPH_0_2 = "01", "0.2 GPH"
    GPH_0_1 = "02", "0.1 GPH"


class UstPipeIntegrityFrequency(CodeList):
    ANNUALLY = "01", "Annually"
    EVERY_3_YEARS = "02", "Every 3 Years"
    OTHER = "03", "Other"


class UstVisualPipeFrequency(CodeList):
    DAILY = "01", "Daily"
    WEEKLY = "02", "Weekly"
    MINIMUM_MONTHLY = "03", "Minimum Monthly"


class UstUdcMonitoring(CodeList):
    CONTINUOUS = "1", "Continuous"
    FLOAT_AND_CHAIN = "2", "Float and Chain Assembly"
    ELECTRONIC_STAND_ALONE = "3", "Electronic Stand-alone"
    NO_DISPENSERS = "4", "No Dispensers"
    OTHER = "99", "Other"


class UstUdcConstruction(CodeList):
    SINGLE_WALLED = "1", "Single-walled"
    DOUBLE_WALLED = "2", "Double-walled"


class UstUdcSecondaryMonitoring(CodeList):
    LIQUID = "01", "Liquid"
    PRESSURE = "02", "Pressure"
    VACUUM = "03", "Vacuum"


class UstSignerRepresents(CodeList):
    TANK_OWNER_OPERATOR = "01", "Tank Owner/Operator"
    FACILITY_OWNER_OPERATOR = "02", "Facility Owner/Operator"
    AUTHORIZED_REPRESENTATIVE = "03", "Authorized Representative of Owner"


class UstCertifierRelationship(CodeList):
    TANK_OWNER = "01", "Tank Owner"
    TANK_OPERATOR = "02", "Tank Operator"
    CONTRACTOR = "03", "Contractor"
    PROPERTY_OWNER = "04", "Property Owner"
    OTHER_AUTHORIZED_AGENT = "05", "Other Authorized Agent of Tank Owner"
