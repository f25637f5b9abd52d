"""A small statewide world for the search, feed and export tests.

Two agencies (Plumas and Los Angeles), two businesses, four facilities with submitted
inventories and points, one with only a draft; users of every kind.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from common.contracts import facility as contract
from tests.submittal.conftest import Harness
from tests.submittal.flows import FACILITY_INFORMATION, SUBMIT, ok, save, start

QUINCY = (39.9368, -120.9472)
PORTOLA = (39.8105, -120.4691)
LOS_ANGELES = (34.0522, -118.2437)
GREENVILLE = (40.1396, -120.9511)

AMMONIA = {"commonName": "Anhydrous ammonia", "chemicalName": "Ammonia",
           "casNumber": "7664-41-7", "ehs": True, "physicalState": "GAS",
           "maximumDailyAmount": 1500, "units": "POUNDS",
           "hazardCategories": ["ACUTE_TOXICITY", "CORROSIVE_TO_METAL"]}
DIESEL = {"commonName": "Diesel fuel", "casNumber": "68476-34-6", "ehs": False,
          "physicalState": "LIQUID", "maximumDailyAmount": 1000, "units": "GALLONS",
          "density": 7.1, "densityUnits": "POUNDS_PER_GALLON", "hazardCategories": ["FLAMMABLE"]}
SECRET = {"commonName": "Proprietary blend X", "chemicalName": "Acetone",
          "casNumber": "67-64-1", "tradeSecret": True, "ehs": False, "physicalState": "LIQUID",
          "maximumDailyAmount": 100, "units": "GALLONS", "hazardCategories": ["FLAMMABLE"],
          "location": "Vault B", "locationConfidential": True}
CHLORINE = {"commonName": "Chlorine", "casNumber": "7782-50-5", "ehs": True,
            "physicalState": "GAS", "maximumDailyAmount": 2000, "units": "POUNDS",
            "hazardCategories": ["OXIDIZER", "ACUTE_TOXICITY"]}
GASOLINE = {"commonName": "Gasoline, unleaded", "casNumber": "86290-81-5", "ehs": False,
            "physicalState": "LIQUID", "maximumDailyAmount": 5000, "units": "GALLONS",
            "hazardCategories": ["FLAMMABLE"]}
SMALL_AMMONIA = {**AMMONIA, "maximumDailyAmount": 300}
PROPANE = {"commonName": "Propane", "casNumber": "74-98-6", "ehs": False,
           "physicalState": "GAS", "maximumDailyAmount": 3000, "units": "CUBIC_FEET",
           "hazardCategories": ["FLAMMABLE", "GAS_UNDER_PRESSURE"]}
SULFURIC = {"commonName": "Sulfuric acid", "casNumber": "7664-93-9", "ehs": True,
            "physicalState": "LIQUID", "maximumDailyAmount": 900, "units": "POUNDS",
            "hazardCategories": ["SKIN_CORROSION_IRRITATION"]}
SITE_MAP = {"option": "STORED_AT_FACILITY", "comment": "In the office"}

SEARCH = """query($f: HazardousMaterialSearchFilter, $sort: HazardousMaterialSearchSort,
  $units: Units, $first: Int, $after: String) {
  hazardousMaterialSearch(filter: $f, sort: $sort, amountUnits: $units, first: $first,
                          after: $after) {
    totalCount amountNotConvertible pageInfo { hasNextPage endCursor }
    edges { cursor node { facility { id } latitude longitude distanceMiles complianceStatus
      inventoryStatus matchingMaterialCount inventory { id element }
      materials { position commonName chemicalName casNumber tradeSecret ehs physicalState
        hazardCategories maximumDailyAmount units amountInUnits conversionProblem withheld } } }
  } }"""


@dataclass
class Site:
    id: str
    cers_id: int
    org: str
    agency: str
    county: str
    county_id: int
    point: tuple[float, float]


@dataclass
class SearchWorld:
    h: Harness
    plumas: str
    la: str
    org: str
    other_org: str
    sites: dict[str, Site] = field(default_factory=dict)

    def token(self, who: str) -> str:
        portals = {"state": "state", "insp-plumas": "regulator", "insp-la": "regulator",
                   "state-insp": "state"}
        return self.h.token(who, portals.get(who, "business"))

    async def search(self, who: str, flt: dict[str, Any] | None = None,
                     **variables: Any) -> dict[str, Any]:
        body = await self.h.gql(SEARCH, self.token(who), f=flt, **variables)
        return ok(body, "hazardousMaterialSearch")

    async def names(self, who: str, flt: dict[str, Any] | None = None,
                    **variables: Any) -> list[str]:
        result = await self.search(who, flt, **variables)
        if not result["pageInfo"]["hasNextPage"] and variables.get("after") is None:
            # The total counts exactly what the pages list, for every filter and scope.
            assert result["totalCount"] == len(result["edges"]), flt
        by_id = {s.id: name for name, s in self.sites.items()}
        return [by_id[e["node"]["facility"]["id"]] for e in result["edges"]]


def facility_snapshot(site: Site, name: str, *, due: dt.date = dt.date(2030, 3, 1),
                      update_due_by: dt.date | None = None) -> contract.Facility:
    return contract.Facility(
        facility_id=site.id, cers_id=site.cers_id, organization_id=site.org,
        agency_id=site.agency, county_id=site.county_id, annual_due_date=due,
        update_due_by=update_due_by,
        record=contract.FacilityRecord(
            name=name, county=site.county, city=None,
            site_address={"street": f"{site.cers_id} Main St", "city": "Town", "zip": "95971"},
            mailing_address={}, contacts={}, owner_operator={}))


async def add_site(w: SearchWorld, name: str, org: str, agency: str, county: str,
                   county_id: int, point: tuple[float, float], **dates: Any) -> Site:
    site = Site(str(uuid.uuid4()), 10000001 + len(w.sites), org, agency, county, county_id,
                point)
    w.sites[name] = site
    await w.h.publish(contract.FACILITY_CREATED, site.id, contract.FacilityCreated(
        facility=facility_snapshot(site, name, **dates)).model_dump(mode="json"))
    return site


async def submit(w: SearchWorld, who: str, site: Site, materials: list[dict[str, Any]] | None,
                 point: tuple[float, float] | None = None) -> None:
    """Draft and submit Facility Information (with the point) and/or an inventory."""
    token = w.token(who)
    if point is not None:
        info = {**FACILITY_INFORMATION, "geographicLocation": {
            "latitude": point[0], "longitude": point[1], "datum": "WGS84"}}
        draft = await start(w.h, token, site.id, "FACILITY_INFORMATION")
        result = await save(w.h, token, draft, info)
        assert [e for e in result["userErrors"] if e["severity"] == "ERROR"] == [], result
    if materials is not None:
        draft = await start(w.h, token, site.id, "HAZARDOUS_MATERIALS_INVENTORY")
        result = await save(w.h, token, draft, {"materials": materials, "siteMap": SITE_MAP})
        assert [e for e in result["userErrors"] if e["severity"] == "ERROR"] == [], result
    submitted = ok(await w.h.gql(SUBMIT, token, f=site.id), "submitDrafts")
    assert submitted["userErrors"] == [], submitted


async def build(h: Harness) -> SearchWorld:
    w = SearchWorld(h, plumas=str(uuid.uuid4()), la=str(uuid.uuid4()),
                    org=await h.business("Acme Fuel"), other_org=await h.business("Other Co"))
    today = dt.date.today()
    f1 = await add_site(w, "quincy", w.org, w.plumas, "Plumas", 32, QUINCY)
    f2 = await add_site(w, "portola", w.org, w.plumas, "Plumas", 32, PORTOLA,
                        due=today + dt.timedelta(days=10))
    f3 = await add_site(w, "los-angeles", w.org, w.la, "Los Angeles", 19, LOS_ANGELES,
                        due=today - dt.timedelta(days=5))
    f4 = await add_site(w, "greenville", w.other_org, w.plumas, "Plumas", 32, GREENVILLE,
                        update_due_by=today + dt.timedelta(days=20))
    draft_only = await add_site(w, "draft-only", w.other_org, w.plumas, "Plumas", 32, QUINCY)
    await h.member(w.org, "lead", "LEAD_USER")
    await h.member(w.other_org, "other-lead", "LEAD_USER")
    await h.member(w.org, "state-insp", "VIEWER")
    await h.staff(w.plumas, "insp-plumas", "INSPECTOR")
    await h.staff(w.la, "insp-la", "INSPECTOR")
    await h.settle()
    await submit(w, "lead", f1, [AMMONIA, DIESEL, SECRET], QUINCY)
    await submit(w, "lead", f2, [CHLORINE, GASOLINE], PORTOLA)
    await submit(w, "lead", f3, [SMALL_AMMONIA, PROPANE], LOS_ANGELES)
    await submit(w, "other-lead", f4, [SULFURIC], GREENVILLE)
    # A draft is never searched.
    draft = await start(h, w.token("other-lead"), draft_only.id, "HAZARDOUS_MATERIALS_INVENTORY")
    await save(h, w.token("other-lead"), draft, {"materials": [CHLORINE], "siteMap": SITE_MAP})
    return w
