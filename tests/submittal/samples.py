"""Complete, valid data for each element declared field by field, as a client sends it."""

from __future__ import annotations

from typing import Any

OWNER = {"name": "Feather River Fuel LLC", "phone": "530-555-0100",
         "mailingAddress": "410 Main St", "city": "Quincy", "state": "CA", "zipCode": "95971"}
PLAN = {
    "equipmentServiced": "ANNUALLY", "sitePlotPlan": "PREVIOUSLY_SUBMITTED",
    "automaticTankGauging": {"panelManufacturer": "Veeder-Root", "panelModel": "TLS-450",
                             "leakTestFrequency": "MONTHLY", "programmedTankTest": "GPH_0_2"},
    "electronicLineLeakDetector": {"manufacturer": "Veeder-Root", "model": "PLLD",
                                   "programmedTesting": "GPH_0_2",
                                   "triggersPumpShutdown": True},
    "udcMonitoring": "CONTINUOUS", "udcLeakTriggersAlarm": True,
    "firstResponsibleName": "Dana Whitfield", "firstResponsibleTitle": "Station manager",
}


def tank(tank_id: str, capacity: int = 10_000, contents: str = "REGULAR_UNLEADED"
         ) -> dict[str, Any]:
    return {
        "typeOfAction": "CONFIRMED_UPDATED", "tankIdNumber": tank_id,
        "tankConfiguration": "STAND_ALONE", "capacityGallons": capacity,
        "numberOfCompartments": 1, "tankUse": "MOTOR_VEHICLE_FUELING",
        "tankContents": contents, "typeOfTank": "DOUBLE_WALL",
        "primaryConstruction": "FIBERGLASS", "secondaryConstruction": "FIBERGLASS",
        "overfillBallFloat": True, "spillBucketInstalled": True,
        "pipingSystemType": "PRESSURE", "pipingConstruction": "DOUBLE_WALLED",
        "productPipingPrimary": "FIBERGLASS", "productPipingSecondary": "FIBERGLASS",
        "udcConstructionType": "DOUBLE_WALLED", "udcMaterial": "FIBERGLASS",
        "monitoringPlan": PLAN,
    }


UST: dict[str, Any] = {
    "facility": {
        "typeOfAction": "CONFIRMED_UPDATED", "facilityType": "MOTOR_VEHICLE_FUELING",
        "indianOrTrustLand": False, "permitHolder": "TANK_OWNER",
        "tankOwnerType": "NON_GOVERNMENT", "boeNumber": "44012345",
        "propertyOwner": OWNER, "tankOwner": OWNER, "tankOperator": OWNER,
        "financialResponsibility": {"insurance": True},
    },
    "tanks": [tank("T-1"), tank("T-2", 12_000, "DIESEL")],
    "documents": {"certificationOfFinancialResponsibility": {"option": "STORED_AT_FACILITY"}},
}

TIERED_PERMITTING: dict[str, Any] = {
    "facility": {"dateCertified": "2026-01-10", "ownerOperatorName": "Dana Whitfield"},
    "units": [{
        "unitId": "U-1", "unitType": "CESQT", "numberOfTanks": 1, "numberOfContainers": 0,
        "monthlyVolume": 200, "volumeUnit": "GALLONS",
        "treatmentProcessDescription": "Neutralization of rinse water",
        "basisCaliforniaOnlyWaste": True, "residualPotw": True,
        "cesqt": {"metalsPhAdjustment": True},
    }],
    "documents": {"plotPlan": {"option": "STORED_AT_FACILITY"}},
}

RECYCLABLE_MATERIALS_REPORT: dict[str, Any] = {
    "periodBegins": "2024-01-01", "periodEnds": "2025-12-31", "onsiteRecycling": True,
    "materials": [{"commonName": "Spent fixer", "quantityTwoYears": 400,
                   "quantityUnit": "GALLONS"}],
}

REMOTE_WASTE_CONSOLIDATION: dict[str, Any] = {
    "sites": [{"address": "Mile 12, Hwy 70", "city": "Quincy",
               "descriptionOfLocations": "Pump stations along the county water line",
               "descriptionOfWaste": "Used oil and oily rags", "monthlyVolume": 40,
               "volumeUnit": "GALLONS"}],
}

HAZARDOUS_WASTE_TANK_CLOSURE: dict[str, Any] = {
    "closures": [{"tankId": "W-1", "flammableVapourTop": 1.5, "oxygenTop": 20.9,
                  "certificate": {"option": "STORED_AT_FACILITY"}}],
    "tankOwner": {"name": "Feather River Fuel LLC"},
    "certifier": {"name": "Pat Lee", "certifiedOn": "2026-01-05", "professionalEngineer": True},
}

APSA: dict[str, Any] = {
    "conditionallyExempt": False, "spccPlanDate": "2025-06-01", "totalCapacityGallons": 12_000,
    "tanksInUndergroundAreas": 0,
    "documents": {"apsaDocument": {"option": "PROVIDED_TO_REGULATOR",
                                   "providedOn": "2026-01-15"}},
}

CALARP: dict[str, Any] = {
    "documents": {"calArpDocument": {"option": "STORED_AT_FACILITY"}},
}

SAMPLES: dict[str, dict[str, Any]] = {
    "UST": UST, "TIERED_PERMITTING": TIERED_PERMITTING,
    "RECYCLABLE_MATERIALS_REPORT": RECYCLABLE_MATERIALS_REPORT,
    "REMOTE_WASTE_CONSOLIDATION": REMOTE_WASTE_CONSOLIDATION,
    "HAZARDOUS_WASTE_TANK_CLOSURE": HAZARDOUS_WASTE_TANK_CLOSURE,
    "APSA": APSA, "CALARP": CALARP,
}
# The typed field of SaveDraftInput and SubmittalElement that carries each element.
TYPED_FIELD = {
    "UST": "ust", "TIERED_PERMITTING": "tieredPermitting",
    "RECYCLABLE_MATERIALS_REPORT": "recyclableMaterialsReport",
    "REMOTE_WASTE_CONSOLIDATION": "remoteWasteConsolidation",
    "HAZARDOUS_WASTE_TANK_CLOSURE": "hazardousWasteTankClosure",
    "APSA": "apsa", "CALARP": "calArp",
}
