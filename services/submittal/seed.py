"""Demo data: a full, submitted HMBP for each facility of the demo dataset.

The read model is built from facility events, so seeding happens when a demo facility arrives
(``facility.facility.created`` with ``demo: true``), inside that event's transaction: exactly
once per facility, only when DEMO is on, and never for a facility someone adds to the demo
business later. The HMBP is submitted by the account that made the facility (the demo business
account), with the same events a real submission sends, so the facility service sees it as
certified and its history names a real person.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.contracts import submittal as contract
from common.contracts.facility import FacilityCreated
from common.events.envelope import Envelope
from common.events.outbox import record_event
from services.submittal.adapters.tables import EVENTS, Element, FacilityView, now
from services.submittal.domain.changes import classify
from services.submittal.domain.element_data import parse
from services.submittal.domain.elements import HMBP, ElementType
from services.submittal.domain.facility_info import FacilityInformation, prefill
from services.submittal.service_layer import changes
from services.submittal.service_layer.events import facility_information_values

DEMO_BUSINESS = "Feather River Fuel & Supply"

# (common name, CAS, EHS, type, state, max, avg, units, location, containers, fire classes)
MATERIALS: list[tuple[Any, ...]] = [
    ("Diesel fuel", "68476-34-6", False, "MIXTURE", "LIQUID", 12000, 8000, "GALLONS",
     "Fuel island, north AST", "ABOVE_GROUND_TANK", "3"),
    ("Gasoline, unleaded", "86290-81-5", False, "MIXTURE", "LIQUID", 20000, 12000, "GALLONS",
     "Fuel island, UST 1", "UNDERGROUND_TANK", "10"),
    ("Propane", "74-98-6", False, "PURE", "GAS", 30000, 18000, "CUBIC_FEET",
     "Propane yard, 1000-gal tank", "ABOVE_GROUND_TANK", "15"),
    ("Sulfuric acid (lead-acid batteries)", "7664-93-9", True, "MIXTURE", "LIQUID", 900, 600,
     "POUNDS", "Battery room", "OTHER", "5"),
    ("Lead (lead-acid batteries)", "7439-92-1", False, "PURE", "SOLID", 4000, 3000, "POUNDS",
     "Battery room", "OTHER", "31"),
    ("Motor oil", "64742-65-0", False, "MIXTURE", "LIQUID", 880, 500, "GALLONS",
     "Lube shop, drum rack", "STEEL_DRUM", "4"),
    ("Antifreeze (ethylene glycol)", "107-21-1", False, "MIXTURE", "LIQUID", 330, 200,
     "GALLONS", "Lube shop, drum rack", "PLASTIC_DRUM", "4"),
    ("Kerosene", "8008-20-6", False, "MIXTURE", "LIQUID", 550, 300, "GALLONS",
     "Fuel island, south AST", "ABOVE_GROUND_TANK", "2"),
    ("Acetylene", "74-86-2", False, "PURE", "GAS", 600, 400, "CUBIC_FEET", "Shop, welding cart",
     "CYLINDER", "8"),
    ("Oxygen, compressed", "7782-44-7", False, "PURE", "GAS", 1200, 800, "CUBIC_FEET",
     "Shop, welding cart", "CYLINDER", "21"),
    ("Nitrogen, compressed", "7727-37-9", False, "PURE", "GAS", 900, 600, "CUBIC_FEET",
     "Tire bay", "CYLINDER", "39"),
    ("Carbon dioxide", "124-38-9", False, "PURE", "GAS", 500, 300, "CUBIC_FEET",
     "Store, beverage cooler", "CYLINDER", "39"),
    ("Argon", "7440-37-1", False, "PURE", "GAS", 400, 250, "CUBIC_FEET", "Shop, welding cart",
     "CYLINDER", "39"),
    ("Hydraulic oil", "64742-54-7", False, "MIXTURE", "LIQUID", 275, 150, "GALLONS",
     "Shop, lift room", "TOTE_BIN", "4"),
    ("Used oil", None, False, "WASTE", "LIQUID", 500, 300, "GALLONS", "Lube shop, used oil tank",
     "ABOVE_GROUND_TANK", "4"),
    ("Sodium hydroxide solution", "1310-73-2", False, "MIXTURE", "LIQUID", 110, 55, "GALLONS",
     "Car wash equipment room", "PLASTIC_DRUM", "5"),
    ("Hydrochloric acid", "7647-01-0", False, "MIXTURE", "LIQUID", 60, 30, "GALLONS",
     "Car wash equipment room", "PLASTIC_DRUM", "5"),
    ("Isopropyl alcohol", "67-63-0", False, "PURE", "LIQUID", 60, 30, "GALLONS",
     "Store, back room", "CAN", "10"),
    ("Acetone", "67-64-1", False, "PURE", "LIQUID", 55, 25, "GALLONS", "Shop, flammables cabinet",
     "CAN", "10"),
    ("Windshield washer fluid (methanol)", "67-56-1", False, "MIXTURE", "LIQUID", 400, 200,
     "GALLONS", "Store, aisle 4", "PLASTIC_BOTTLE", "10"),
    ("Toluene", "108-88-3", False, "PURE", "LIQUID", 55, 20, "GALLONS",
     "Shop, flammables cabinet", "CAN", "10"),
    ("Xylene", "1330-20-7", False, "PURE", "LIQUID", 55, 20, "GALLONS",
     "Shop, flammables cabinet", "CAN", "11"),
    ("Anhydrous ammonia", "7664-41-7", True, "PURE", "GAS", 1500, 900, "POUNDS",
     "Farm supply yard, nurse tanks", "ABOVE_GROUND_TANK", "31"),
    ("Calcium hypochlorite (pool chlorine)", "7778-54-3", False, "MIXTURE", "SOLID", 800, 400,
     "POUNDS", "Store, pool aisle", "BOX", "18"),
    ("Sodium hypochlorite solution", "7681-52-9", False, "MIXTURE", "LIQUID", 165, 80, "GALLONS",
     "Store, pool aisle", "PLASTIC_BOTTLE", "5"),
    ("Ethanol (E85 additive)", "64-17-5", False, "PURE", "LIQUID", 1000, 500, "GALLONS",
     "Fuel island, blend tank", "ABOVE_GROUND_TANK", "10"),
    ("Butane", "106-97-8", False, "PURE", "GAS", 300, 150, "CUBIC_FEET", "Store, camping aisle",
     "CAN", "8"),
    ("Stoddard solvent (parts washer)", "8052-41-3", False, "MIXTURE", "LIQUID", 110, 80,
     "GALLONS", "Shop, parts washer", "STEEL_DRUM", "2"),
    ("Brake fluid (diethylene glycol)", "111-46-6", False, "MIXTURE", "LIQUID", 60, 30,
     "GALLONS", "Lube shop, shelf B", "PLASTIC_BOTTLE", "4"),
    ("Diesel exhaust fluid (urea)", "57-13-6", False, "MIXTURE", "LIQUID", 660, 400, "GALLONS",
     "Fuel island, DEF tote", "TOTE_BIN", "39"),
    ("Ammonium nitrate fertilizer", "6484-52-2", False, "PURE", "SOLID", 8000, 4000, "POUNDS",
     "Farm supply warehouse", "BAG", "17"),
    ("Glyphosate herbicide", "1071-83-6", False, "MIXTURE", "LIQUID", 110, 60, "GALLONS",
     "Farm supply warehouse, locked cage", "PLASTIC_DRUM", "27"),
]


# Pounds per gallon of the demo liquids whose weight a search by pounds should find.
DENSITIES = {"68476-34-6": 7.1, "86290-81-5": 6.1, "7681-52-9": 10.0, "7647-01-0": 9.8,
             "67-56-1": 6.6, "64-17-5": 6.6, "67-64-1": 6.6}
# Where the demo sites are (decimal degrees, town centres in Plumas County).
POINTS = {"quincy": (39.9368, -120.9472), "portola": (39.8105, -120.4691),
          "chester": (40.3063, -121.2319), "greenville": (40.1396, -120.9511)}


def inventory() -> dict[str, Any]:
    materials = []
    for name, cas, ehs, hm_type, state, peak, avg, units, where, container, fire in MATERIALS:
        material: dict[str, Any] = {
            "commonName": name, "ehs": ehs, "hmType": hm_type, "physicalState": state,
            "maximumDailyAmount": peak, "averageDailyAmount": avg, "units": units,
            "largestContainer": peak / 2, "location": where, "daysOnSite": 365,
            "containerTypes": [container], "storagePressure": "AMBIENT",
            "storageTemperature": "AMBIENT", "fireCodeHazardClasses": [int(fire)],
            "mapNumber": "1",
        }
        if cas:
            material["casNumber"] = cas
        if cas in DENSITIES:
            material.update(density=DENSITIES[cas], densityUnits="POUNDS_PER_GALLON")
        if hm_type == "WASTE":
            material.update(annualWasteAmount=3000, stateWasteCode="221")
        materials.append(material)
    return {"materials": materials,
            "siteMap": {"option": "STORED_AT_FACILITY", "comment": "Posted in the office."}}


PLANS = {
    "emergencyResponsePlan": {"option": "STORED_AT_FACILITY",
                              "comment": "Binder in the station office."},
    "employeeTrainingPlan": {"option": "STORED_AT_FACILITY",
                             "comment": "Binder in the station office."},
}


def facility_information(facility: FacilityView) -> dict[str, Any]:
    base = prefill({"name": facility.name, **facility.record}).to_json()
    contact = {"name": "Dana Whitfield", "title": "Station manager", "phone": "530-555-0142",
               "phone24Hour": "530-555-0199",
               "address": {"street": "410 Main St", "city": "Quincy", "state": "CA",
                           "zipCode": "95971"}}
    owner = base.get("ownerOperator", {})
    owner_operator = {
        "phone": "530-555-0142", "naicsCode": "457110", "numberOfEmployees": 14,
        "mailingAddress": owner.get("mailingAddress") or contact["address"],
        "ownerName": owner.get("ownerName") or DEMO_BUSINESS,
        "ownerPhone": owner.get("ownerPhone") or "530-555-0100",
        "ownerAddress": contact["address"],
        "operatorName": owner.get("operatorName") or DEMO_BUSINESS,
        "operatorPhone": owner.get("operatorPhone") or "530-555-0142",
        "environmentalContact": {**contact, **(owner.get("environmentalContact") or {})},
        "primaryEmergencyContact": contact,
        "secondaryEmergencyContact": {**contact, "name": "Luis Ortega", "title": "Assistant"},
        "billingContact": {**contact, **(owner.get("billingContact") or {})},
        "signer": {"name": "Dana Whitfield", "title": "Station manager"},
    }
    activities = {
        "businessName": facility.name or DEMO_BUSINESS, "epaId": "CAL000412345",
        "hazardousMaterialsOnSite": True, "calArpRegulatedSubstances": False,
        "ownOrOperateUst": True, "ownOrOperateApst": True, "hazardousWasteGenerator": True,
        "recyclesMaterials": False, "onsiteHazardousWasteTreatment": False,
        "financialAssurance": False, "remoteWasteConsolidation": False,
        "hazardousWasteTankClosure": False, "rcraLargeQuantityGenerator": False,
        "householdHazardousWasteCollection": False,
    }
    data: dict[str, Any] = {"businessActivities": activities, "ownerOperator": owner_operator}
    city = str(facility.record.get("city") or "").lower()
    if city in POINTS:
        data["geographicLocation"] = {"latitude": POINTS[city][0],
                                      "longitude": POINTS[city][1], "datum": "WGS84"}
    return data


async def seed_facility(session: AsyncSession, facility: FacilityView, created: Envelope) -> None:
    """Submit a complete HMBP for a facility the demo dataset made (nothing for any other), as
    the demo account that made it."""
    event = FacilityCreated.model_validate(created.data)
    account = created.actor
    if not event.demo or account is None:
        return
    existing = await session.execute(
        select(col(Element.id)).where(col(Element.facility_id) == facility.id).limit(1))
    if existing.first() is not None:
        return  # seeded before (a resync replays facility.created)
    stamp = now()
    data = {
        ElementType.FACILITY_INFORMATION: facility_information(facility),
        ElementType.HAZARDOUS_MATERIALS_INVENTORY: inventory(),
        ElementType.EMERGENCY_RESPONSE_TRAINING_PLANS: PLANS,
    }
    rows = []
    for element in HMBP:
        model = parse(element, data[element])
        change = classify(None, model)
        row = Element(facility_id=facility.id, element_type=element.value, status="SUBMITTED",
                      data=model.to_json(), created_by=account, created_at=stamp,
                      updated_at=stamp, submitted_by=account, submitted_at=stamp,
                      change_from_previous=change.value)
        session.add(row)
        await session.flush()
        info = facility_information_values(model) if isinstance(model, FacilityInformation) \
            else None
        payload = contract.ElementSubmitted(
            facility_id=facility.id, organization_id=facility.organization_id, element_id=row.id,
            element=element.value,
            change_from_previous=change.value,
            submitted_by=account, submitted_at=stamp, facility_information=info)
        envelope = await record_event(session, EVENTS, type=contract.ELEMENT_SUBMITTED,
                                      aggregate_id=facility.id,
                                      data=payload.model_dump(mode="json"), actor=account)
        await changes.recorded(session, facility, envelope)
        rows.append(row)
    certified = contract.HmbpCertified(
        facility_id=facility.id, organization_id=facility.organization_id, kind="SUBMISSION",
        certified_by=account, certified_at=stamp, element_ids=[r.id for r in rows])
    envelope = await record_event(session, EVENTS, type=contract.HMBP_CERTIFIED,
                                  aggregate_id=facility.id, data=certified.model_dump(mode="json"),
                                  actor=account)
    await changes.recorded(session, facility, envelope)
