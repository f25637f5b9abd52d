"""A statewide dataset: 150,000 facilities in 58 counties, 2,000,000 inventory rows.

    python -m bench dataset [--facilities 150000] [--materials 2000000] [--fresh]
        [--facility-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_facility]
        [--submittal-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_submittal]

Facilities are spread over the counties in proportion to their 2020 census population, each
at a random point inside its county's boundary (bench/data/ca_counties.json), with one agency
per county. Inventories draw from 60 real, common materials (CAS numbers with correct check
digits; densities where a business would know them). Both databases are migrated by the
services' own Alembic revisions; the rows are built by the services' own code (the inventory
is validated by the HMI model, search rows come from ``material_row``) and bulk-loaded with
PostgreSQL COPY, search indexes built after the load. Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from services.submittal.domain.cas import cas_problem
from services.submittal.domain.geo import counties
from services.submittal.domain.hmi import HazardousMaterialsInventory
from services.submittal.domain.search import HAZARD_BITS, NAME_SEPARATOR, material_row

HERE = Path(__file__).resolve().parent
FACILITY_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_facility"
SUBMITTAL_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_submittal"
BATCH = 5000
NAMESPACE = uuid.UUID("6f1c3c52-5a0e-4c1f-9d0b-3f1a2b4c5d6e")
LA_INSPECTOR = "bench-la-inspector"
LA_COUNTY = 19

POPULATION_2020 = {
    "Alameda": 1682353, "Alpine": 1204, "Amador": 40474, "Butte": 211632, "Calaveras": 45292,
    "Colusa": 21839, "Contra Costa": 1165927, "Del Norte": 27743, "El Dorado": 191185,
    "Fresno": 1008654, "Glenn": 28917, "Humboldt": 136463, "Imperial": 179702, "Inyo": 19016,
    "Kern": 909235, "Kings": 152486, "Lake": 68163, "Lassen": 32730, "Los Angeles": 10014009,
    "Madera": 156255, "Marin": 262321, "Mariposa": 17131, "Mendocino": 91601, "Merced": 281202,
    "Modoc": 8700, "Mono": 13195, "Monterey": 439035, "Napa": 138019, "Nevada": 102241,
    "Orange": 3186989, "Placer": 404739, "Plumas": 19790, "Riverside": 2418185,
    "Sacramento": 1585055, "San Benito": 64209, "San Bernardino": 2181654,
    "San Diego": 3298634, "San Francisco": 873965, "San Joaquin": 779233,
    "San Luis Obispo": 282424, "San Mateo": 764442, "Santa Barbara": 448229,
    "Santa Clara": 1936259, "Santa Cruz": 270861, "Shasta": 182155, "Sierra": 3236,
    "Siskiyou": 44076, "Solano": 453491, "Sonoma": 488863, "Stanislaus": 552878,
    "Sutter": 99633, "Tehama": 65829, "Trinity": 16112, "Tulare": 473117, "Tuolumne": 55620,
    "Ventura": 843843, "Yolo": 216403, "Yuba": 81575,
}


@dataclass(frozen=True)
class Spec:
    common: str
    chemical: str
    cas: str | None
    ehs: bool
    state: str
    units: str
    low: float
    high: float
    weight: float
    hazards: tuple[str, ...] = ()
    density: float | None = None  # pounds per gallon
    hm_type: str = "PURE"


F, T, CORR, OX = "FLAMMABLE", "ACUTE_TOXICITY", "SKIN_CORROSION_IRRITATION", "OXIDIZER"
GAS, CANCER = "GAS_UNDER_PRESSURE", "CARCINOGENICITY"
MATERIALS = (
    Spec("Diesel fuel", "Fuels, diesel", "68476-34-6", False, "LIQUID", "GALLONS", 50, 20000,
         30, (F,), 7.1, "MIXTURE"),
    Spec("Gasoline, unleaded", "Gasoline", "86290-81-5", False, "LIQUID", "GALLONS", 100,
         30000, 18, (F, CANCER), 6.1, "MIXTURE"),
    Spec("Motor oil", "Lubricating oils (petroleum)", "64742-65-0", False, "LIQUID", "GALLONS",
         55, 2000, 28, (F,), 7.3, "MIXTURE"),
    Spec("Hydraulic oil", "Distillates (petroleum), hydrotreated", "64742-54-7", False,
         "LIQUID", "GALLONS", 55, 1500, 16, (), 7.3, "MIXTURE"),
    Spec("Used oil", "Used oil", None, False, "LIQUID", "GALLONS", 55, 3000, 20, (F,), 7.4,
         "WASTE"),
    Spec("Propane", "Propane", "74-98-6", False, "GAS", "GALLONS", 60, 30000, 22, (F, GAS), 4.2),
    Spec("Liquefied petroleum gas", "Petroleum gases, liquefied", "68476-85-7", False, "GAS",
         "GALLONS", 60, 10000, 5, (F, GAS), 4.2, "MIXTURE"),
    Spec("Oxygen, compressed", "Oxygen", "7782-44-7", False, "GAS", "CUBIC_FEET", 200, 20000,
         18, (OX, GAS)),
    Spec("Acetylene", "Acetylene", "74-86-2", False, "GAS", "CUBIC_FEET", 200, 5000, 14,
         (F, GAS)),
    Spec("Nitrogen, compressed", "Nitrogen", "7727-37-9", False, "GAS", "CUBIC_FEET", 200,
         50000, 12, (GAS, "SIMPLE_ASPHYXIANT")),
    Spec("Carbon dioxide", "Carbon dioxide", "124-38-9", False, "GAS", "CUBIC_FEET", 200, 10000,
         14, (GAS, "SIMPLE_ASPHYXIANT")),
    Spec("Argon", "Argon", "7440-37-1", False, "GAS", "CUBIC_FEET", 200, 8000, 8,
         (GAS, "SIMPLE_ASPHYXIANT")),
    Spec("Helium", "Helium", "7440-59-7", False, "GAS", "CUBIC_FEET", 200, 5000, 4, (GAS,)),
    Spec("Hydrogen", "Hydrogen", "1333-74-0", False, "GAS", "CUBIC_FEET", 200, 20000, 3,
         (F, GAS)),
    Spec("Nitrous oxide", "Nitrous oxide", "10024-97-2", False, "GAS", "CUBIC_FEET", 200,
         3000, 2, (OX, GAS)),
    Spec("Lead-acid batteries (lead)", "Lead", "7439-92-1", False, "SOLID", "POUNDS", 500,
         50000, 15, (CANCER, "REPRODUCTIVE_TOXICITY")),
    Spec("Sulfuric acid", "Sulfuric acid", "7664-93-9", True, "LIQUID", "POUNDS", 500, 20000,
         14, ("CORROSIVE_TO_METAL", CORR)),
    Spec("Anhydrous ammonia", "Ammonia", "7664-41-7", True, "GAS", "POUNDS", 100, 40000, 4,
         (T, "CORROSIVE_TO_METAL", CORR, GAS)),
    Spec("Chlorine", "Chlorine", "7782-50-5", True, "GAS", "POUNDS", 100, 18000, 2,
         (OX, T, GAS)),
    Spec("Sodium hypochlorite solution", "Sodium hypochlorite", "7681-52-9", False, "LIQUID",
         "GALLONS", 55, 10000, 12, (CORR,), 10.0, "MIXTURE"),
    Spec("Calcium hypochlorite", "Calcium hypochlorite", "7778-54-3", False, "SOLID", "POUNDS",
         500, 5000, 5, (OX, CORR)),
    Spec("Hydrochloric acid", "Hydrogen chloride", "7647-01-0", False, "LIQUID", "GALLONS", 55,
         5000, 6, ("CORROSIVE_TO_METAL", CORR), 9.8, "MIXTURE"),
    Spec("Sodium hydroxide", "Sodium hydroxide", "1310-73-2", False, "SOLID", "POUNDS", 500,
         20000, 7, ("CORROSIVE_TO_METAL", CORR)),
    Spec("Potassium hydroxide", "Potassium hydroxide", "1310-58-3", False, "SOLID", "POUNDS",
         500, 5000, 2, (CORR,)),
    Spec("Hydrogen peroxide", "Hydrogen peroxide", "7722-84-1", True, "LIQUID", "POUNDS", 500,
         10000, 3, (OX, CORR)),
    Spec("Nitric acid", "Nitric acid", "7697-37-2", True, "LIQUID", "POUNDS", 500, 5000, 2,
         (OX, "CORROSIVE_TO_METAL", CORR)),
    Spec("Phosphoric acid", "Phosphoric acid", "7664-38-2", False, "LIQUID", "GALLONS", 55,
         5000, 3, (CORR,), 14.1, "MIXTURE"),
    Spec("Acetone", "Acetone", "67-64-1", False, "LIQUID", "GALLONS", 55, 2000, 8, (F,), 6.6),
    Spec("Methanol", "Methanol", "67-56-1", False, "LIQUID", "GALLONS", 55, 5000, 5, (F, T),
         6.6),
    Spec("Ethanol", "Ethanol", "64-17-5", False, "LIQUID", "GALLONS", 55, 10000, 4, (F,), 6.6),
    Spec("Isopropyl alcohol", "Propan-2-ol", "67-63-0", False, "LIQUID", "GALLONS", 55, 1000,
         7, (F,), 6.5),
    Spec("Toluene", "Toluene", "108-88-3", False, "LIQUID", "GALLONS", 55, 2000, 4,
         (F, "REPRODUCTIVE_TOXICITY"), 7.2),
    Spec("Xylene", "Xylenes", "1330-20-7", False, "LIQUID", "GALLONS", 55, 2000, 4, (F,), 7.2,
         "MIXTURE"),
    Spec("Antifreeze (ethylene glycol)", "Ethane-1,2-diol", "107-21-1", False, "LIQUID",
         "GALLONS", 55, 2000, 14, (T,), 9.3, "MIXTURE"),
    Spec("Brake fluid (diethylene glycol)", "2,2'-Oxydiethanol", "111-46-6", False, "LIQUID",
         "GALLONS", 55, 500, 4, (), 9.3, "MIXTURE"),
    Spec("Kerosene", "Kerosine (petroleum)", "8008-20-6", False, "LIQUID", "GALLONS", 55, 5000,
         4, (F,), 6.8, "MIXTURE"),
    Spec("Stoddard solvent", "Stoddard solvent", "8052-41-3", False, "LIQUID", "GALLONS", 55,
         1000, 4, (F,), 6.4, "MIXTURE"),
    Spec("Mineral spirits", "Naphtha (petroleum), hydrotreated heavy", "64742-88-7", False,
         "LIQUID", "GALLONS", 55, 1000, 5, (F,), 6.4, "MIXTURE"),
    Spec("Tetrachloroethylene", "Tetrachloroethene", "127-18-4", False, "LIQUID", "GALLONS",
         55, 1000, 2, (CANCER,), 13.5),
    Spec("Trichloroethylene", "Trichloroethene", "79-01-6", False, "LIQUID", "GALLONS", 55, 500,
         1, (CANCER,), 12.2),
    Spec("Methylene chloride", "Dichloromethane", "75-09-2", False, "LIQUID", "GALLONS", 55,
         500, 1, (CANCER,), 11.1),
    Spec("Ammonium nitrate", "Ammonium nitrate", "6484-52-2", False, "SOLID", "POUNDS", 500,
         50000, 2, (OX,)),
    Spec("Urea", "Urea", "57-13-6", False, "SOLID", "POUNDS", 500, 50000, 3, ()),
    Spec("Glyphosate herbicide", "Glyphosate", "1071-83-6", False, "LIQUID", "GALLONS", 55,
         2000, 3, (), 9.5, "MIXTURE"),
    Spec("Paraquat dichloride", "Paraquat dichloride", "1910-42-5", True, "LIQUID", "POUNDS",
         10, 2000, 0.5, (T,)),
    Spec("Formaldehyde solution", "Formaldehyde", "50-00-0", True, "LIQUID", "POUNDS", 100,
         5000, 1, (T, CANCER)),
    Spec("Sulfur dioxide", "Sulfur dioxide", "7446-09-5", True, "GAS", "POUNDS", 100, 10000,
         0.5, (T, GAS)),
    Spec("Hydrogen sulfide", "Hydrogen sulfide", "7783-06-4", True, "GAS", "POUNDS", 10, 1000,
         0.3, (F, T, GAS)),
    Spec("Hydrofluoric acid", "Hydrogen fluoride", "7664-39-3", True, "LIQUID", "POUNDS", 10,
         2000, 0.5, (T, CORR)),
    Spec("Ethylene oxide", "Oxirane", "75-21-8", True, "GAS", "POUNDS", 10, 2000, 0.3,
         (F, T, CANCER, GAS)),
    Spec("Methyl bromide", "Bromomethane", "74-83-9", True, "GAS", "POUNDS", 10, 5000, 0.4,
         (T, GAS)),
    Spec("Chloropicrin", "Trichloronitromethane", "76-06-2", True, "LIQUID", "POUNDS", 10,
         5000, 0.4, (T,)),
    Spec("Sodium cyanide", "Sodium cyanide", "143-33-9", True, "SOLID", "POUNDS", 10, 2000,
         0.2, (T,)),
    Spec("Hydrazine", "Hydrazine", "302-01-2", True, "LIQUID", "POUNDS", 10, 500, 0.1,
         (F, T, CANCER)),
    Spec("Phosphine", "Phosphine", "7803-51-2", True, "GAS", "POUNDS", 1, 100, 0.1,
         (F, T, GAS)),
    Spec("Mercury", "Mercury", "7439-97-6", False, "LIQUID", "POUNDS", 1, 100, 0.5,
         ("REPRODUCTIVE_TOXICITY",)),
    Spec("Copper sulfate", "Copper(II) sulfate", "7758-98-7", False, "SOLID", "POUNDS", 500,
         5000, 1, ()),
    Spec("Copper", "Copper", "7440-50-8", False, "SOLID", "POUNDS", 500, 20000, 1, ()),
    Spec("Portland cement", "Cement, portland", "65997-15-1", False, "SOLID", "POUNDS", 1000,
         100000, 3, (CORR,), None, "MIXTURE"),
    Spec("Chlorine dioxide", "Chlorine dioxide", "10049-04-4", False, "GAS", "POUNDS", 10,
         1000, 0.3, (OX, T, GAS)),
)


def _check_materials() -> None:
    for spec in MATERIALS:
        assert spec.cas is None or cas_problem(spec.cas) is None, spec
        assert all(h in {c.value for c in HAZARD_BITS} for h in spec.hazards), spec


def _shapes() -> dict[int, list[list[tuple[float, float]]]]:
    data = json.loads((HERE / "data" / "ca_counties.json").read_text())
    return {int(k): [[(p[0], p[1]) for p in ring] for ring in v]
            for k, v in data["counties"].items()}


def _inside(lon: float, lat: float, ring: list[tuple[float, float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


class Places:
    """Random points inside a county's boundary (rejection sampling in its box)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.shapes = _shapes()
        self.boxes = {c.id: c.box for c in counties().values()}

    def point(self, county: int) -> tuple[float, float]:
        box, rings = self.boxes[county], self.shapes[county]
        for _ in range(10_000):
            lat = self.rng.uniform(box.min_latitude, box.max_latitude)
            lon = self.rng.uniform(box.min_longitude, box.max_longitude)
            if any(_inside(lon, lat, ring) for ring in rings):
                return round(lat, 6), round(lon, 6)
        raise RuntimeError(f"no point found inside county {county}")


def _ids(kind: str, n: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}-{n}"))


def agency_id(county: int) -> str:
    return _ids("agency", county)


@dataclass
class Facility:
    n: int
    id: str
    cers_id: int
    organization_id: str
    organization_n: int
    county: int
    point: tuple[float, float]
    due: date
    update_due_by: date | None
    created_at: datetime
    submitted_at: datetime
    materials: list[dict[str, Any]]


def facilities(count: int, materials: int, seed: int) -> Iterator[Facility]:
    rng = random.Random(seed)
    places = Places(rng)
    by_name = {c.name: c.id for c in counties().values()}
    county_ids = [by_name[name] for name in POPULATION_2020]
    weights = list(POPULATION_2020.values())
    sizes = [rng.randint(3, 23) for _ in range(count)]
    difference = materials - sum(sizes)
    while difference:
        i = rng.randrange(count)
        step = 1 if difference > 0 else -1
        if 1 <= sizes[i] + step <= 60:
            sizes[i] += step
            difference -= step
    spec_weights = [s.weight for s in MATERIALS]
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    organizations = max(1, count * 2 // 3)
    for n in range(count):
        county = rng.choices(county_ids, weights)[0]
        created = now - timedelta(days=400 + rng.random() * 2000)
        # Submissions over the last year; the most recent ones within the last hour.
        age = timedelta(seconds=rng.random() * 3600) if rng.random() < 0.02 else timedelta(
            days=rng.random() * 365)
        chosen: list[Spec] = []
        while len(chosen) < min(sizes[n], len(MATERIALS)):
            spec = rng.choices(MATERIALS, spec_weights)[0]
            if spec not in chosen:
                chosen.append(spec)
        rows = [_material(rng, spec) for spec in chosen]
        rows += [_material(rng, rng.choice(MATERIALS)) for _ in range(sizes[n] - len(chosen))]
        org = n * organizations // count
        yield Facility(
            n=n, id=_ids("facility", n), cers_id=10_000_001 + n,
            organization_id=_ids("org", org), organization_n=org, county=county,
            point=places.point(county),
            due=today + timedelta(days=rng.randint(-60, 365)),
            update_due_by=today + timedelta(days=rng.randint(1, 30))
            if rng.random() < 0.03 else None,
            created_at=created, submitted_at=now - age, materials=rows)


def _material(rng: random.Random, spec: Spec) -> dict[str, Any]:
    amount = round(math.exp(rng.uniform(math.log(spec.low), math.log(spec.high))))
    material: dict[str, Any] = {
        "commonName": spec.common, "chemicalName": spec.chemical, "ehs": spec.ehs,
        "hmType": spec.hm_type, "physicalState": spec.state, "maximumDailyAmount": amount,
        "averageDailyAmount": round(amount * rng.uniform(0.3, 0.9)), "units": spec.units,
        "daysOnSite": 365, "hazardCategories": list(spec.hazards),
        "location": rng.choice(("Warehouse", "Yard", "Shop", "Tank farm", "Loading dock")),
    }
    if spec.cas:
        material["casNumber"] = spec.cas
    if spec.density and spec.units == "GALLONS" and rng.random() < 0.7:
        material.update(density=spec.density, densityUnits="POUNDS_PER_GALLON")
    if spec.hm_type == "WASTE":
        material.update(annualWasteAmount=amount * 4, stateWasteCode="221")
    if rng.random() < 0.005:
        material["tradeSecret"] = True
    if rng.random() < 0.01:
        material["locationConfidential"] = True
    return material


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _recreate(url: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = await asyncpg.connect(host=target.host, port=target.port or 5432,
                                  user=target.username, database="postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{target.database}"')
    finally:
        await admin.close()


async def exists(submittal_url: str) -> int:
    """Facilities loaded in the submittal database (0 when it is missing or empty)."""
    import asyncpg

    try:
        conn = await asyncpg.connect(_dsn(submittal_url))
    except (OSError, asyncpg.PostgresError):
        return 0
    try:
        return int(await conn.fetchval("SELECT count(*) FROM search_facilities"))
    except asyncpg.PostgresError:
        return 0
    finally:
        await conn.close()


def _record(f: Facility) -> dict[str, Any]:
    street = f"{1 + f.n % 9899} {('Main', 'Oak', 'Industrial', 'Commerce', 'Harbor')[f.n % 5]} St"
    return {"name": f"Facility {f.cers_id}", "siteAddress": {
        "street": street, "city": counties()[f.county].name, "state": "CA", "zipCode": "90000"},
        "county": counties()[f.county].name, "city": None, "mailingAddress": {}, "contacts": {},
        "ownerOperator": {}}


def _facility_information(f: Facility) -> dict[str, Any]:
    return {"businessActivities": {"businessName": f"Facility {f.cers_id}",
                                   "hazardousMaterialsOnSite": True},
            "geographicLocation": {"latitude": f.point[0], "longitude": f.point[1],
                                   "datum": "WGS84"}}


async def load(facility_url: str, submittal_url: str, count: int, materials: int,
               seed: int) -> None:
    import asyncpg

    from services.facility.migrate import migrate as migrate_facility
    from services.submittal.migrate import migrate as migrate_submittal

    _check_materials()
    started = time.perf_counter()
    for url in (facility_url, submittal_url):
        await _recreate(url)
    await migrate_facility(facility_url)
    await migrate_submittal(submittal_url)
    fac = await asyncpg.connect(_dsn(facility_url))
    sub = await asyncpg.connect(_dsn(submittal_url))
    try:
        indexes = await _drop_search_indexes(sub)
        await _agencies(fac, sub)
        position = 0
        batch: list[Facility] = []
        done = 0
        for facility in facilities(count, materials, seed):
            batch.append(facility)
            if len(batch) == BATCH:
                position = await _write(fac, sub, batch, position, count * 3)
                done += len(batch)
                batch = []
                print(f"  {done:,} facilities ({time.perf_counter() - started:.0f}s)",
                      flush=True)
        if batch:
            position = await _write(fac, sub, batch, position, count * 3)
        await sub.execute("UPDATE feed_counter SET last_position = $1", position)
        print(f"  building {len(indexes)} search indexes", flush=True)
        for statement in indexes:
            await sub.execute(statement)
        for conn in (fac, sub):
            await conn.execute("VACUUM ANALYZE")
    finally:
        await fac.close()
        await sub.close()
    print(f"dataset: {count:,} facilities, {materials:,} materials in "
          f"{time.perf_counter() - started:.0f}s", flush=True)


async def _drop_search_indexes(sub: Any) -> list[str]:
    """Drop search_materials' secondary indexes; return the statements that rebuild them."""
    rows = await sub.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
                           "'search_materials' AND indexname <> 'search_materials_pkey'")
    for row in rows:
        await sub.execute(f'DROP INDEX "{row["indexname"]}"')
    return [row["indexdef"] for row in rows]


async def _agencies(fac: Any, sub: Any) -> None:
    now = datetime.now(UTC)
    await fac.copy_records_to_table("agencies", columns=[
        "id", "name", "kind", "default_due_month", "default_due_day", "created_at"], records=[
        (agency_id(c.id), f"{c.name} County CUPA", "CUPA", 3, 1, now)
        for c in counties().values()])
    await fac.copy_records_to_table("agency_jurisdictions", columns=[
        "id", "agency_id", "county_id", "city", "city_key"], records=[
        (_ids("jurisdiction", c.id), agency_id(c.id), c.id, None, "")
        for c in counties().values()])
    await fac.copy_records_to_table("agency_staff", columns=[
        "id", "agency_id", "user_id", "email", "email_key", "role", "granted_at"], records=[
        (_ids("staff", LA_COUNTY), agency_id(LA_COUNTY), LA_INSPECTOR, "la@bench.test",
         "la@bench.test", "INSPECTOR", now)])
    await sub.copy_records_to_table("rm_staff", columns=["agency_id", "user_id", "role"],
                                    records=[(agency_id(LA_COUNTY), LA_INSPECTOR, "INSPECTOR")])


def feed_time(position: int, total: int) -> datetime:
    now = datetime.now(UTC)
    recent = max(1, total // 100)
    if position > total - recent:
        return now - timedelta(hours=1) * (total - position) / recent
    return now - timedelta(hours=1) - timedelta(days=365) * (total - recent - position) / total


async def _write(fac: Any, sub: Any, batch: list[Facility], position: int,
                 total_events: int) -> int:
    orgs = {f.organization_n: f.organization_id for f in batch}
    known = {r["id"] for r in await fac.fetch(
        "SELECT id FROM organizations WHERE id = ANY($1::varchar[])", list(orgs.values()))}
    new_orgs = [(oid, n) for n, oid in orgs.items() if oid not in known]
    now = datetime.now(UTC)
    await fac.copy_records_to_table("organizations", columns=[
        "id", "name", "org_code", "created_at", "updated_at"], records=[
        (oid, f"Business {n}", 10_000_001 + n, now, now) for oid, n in new_orgs])
    await sub.copy_records_to_table("rm_organizations", columns=["id", "name"],
                                    records=[(oid, f"Business {n}") for oid, n in new_orgs])
    await fac.copy_records_to_table("facilities", columns=[
        "id", "cers_id", "organization_id", "agency_id", "name", "county_id", "city", "city_key",
        "site_address", "mailing_address", "contacts", "owner_operator", "address_key",
        "annual_due_date", "due_date_overridden", "update_due_by", "created_at", "updated_at",
    ], records=[(
        f.id, f.cers_id, f.organization_id, agency_id(f.county), f"Facility {f.cers_id}",
        f.county, None, "", json.dumps(_record(f)["siteAddress"]), "{}", "{}", "{}",
        f"{f.cers_id}|{f.county}", f.due, False, f.update_due_by, f.created_at, f.created_at)
        for f in batch])
    await sub.copy_records_to_table("rm_facilities", columns=[
        "id", "organization_id", "agency_id", "cers_id", "name", "record", "updated_at"],
        records=[(f.id, f.organization_id, agency_id(f.county), f.cers_id,
                  f"Facility {f.cers_id}", json.dumps(_record(f)), now) for f in batch])
    elements, search_facilities, search_materials, feed = [], [], [], []
    events: list[tuple[datetime, str, Facility, str | None]] = []
    for f in batch:
        info_id, inventory_id = _ids("fi", f.n), _ids("hmi", f.n)
        inventory = HazardousMaterialsInventory.model_validate(
            {"materials": f.materials, "siteMap": {"option": "STORED_AT_FACILITY"}})
        status = "ACCEPTED" if f.n % 3 == 0 else "SUBMITTED"
        for element_id, kind, data in (
                (info_id, "FACILITY_INFORMATION", _facility_information(f)),
                (inventory_id, "HAZARDOUS_MATERIALS_INVENTORY", inventory.to_json())):
            elements.append((element_id, f.id, kind, status, json.dumps(data), "BLANK",
                             f.submitted_at, f.submitted_at, f.submitted_at, "SIGNIFICANT",
                             False))
            events.append((f.submitted_at, "submittal.element.submitted", f, element_id))
        events.append((f.created_at, "facility.facility.created", f, None))
        agency = agency_id(f.county)
        rows = [material_row(i, material).values
                for i, material in enumerate(inventory.materials)]
        search_facilities.append((
            f.id, f.cers_id, f.organization_id, agency, f.county, f.due, f.update_due_by,
            f.point[0], f.point[1], info_id, inventory_id, status, f.submitted_at,
            len(inventory.materials), NAME_SEPARATOR.join(v["name_key"] for v in rows),
            NAME_SEPARATOR.join(v["name_key"] for v in rows if not v["trade_secret"])))
        for i, values in enumerate(rows):
            search_materials.append((
                f.id, inventory_id, i, f.cers_id, f.organization_id, agency, f.county, f.due,
                f.update_due_by, f.point[0], f.point[1], status,
                *(values[c] for c in _MATERIAL_COLUMNS)))
    await sub.copy_records_to_table("elements", columns=[
        "id", "facility_id", "element_type", "status", "data", "based_on", "created_at",
        "updated_at", "submitted_at", "change_from_previous", "no_change_certification"],
        records=elements)
    await sub.copy_records_to_table("search_facilities", columns=[
        "facility_id", "cers_id", "organization_id", "agency_id", "county_id",
        "annual_due_date", "update_due_by", "latitude", "longitude", "location_element_id",
        "inventory_element_id", "inventory_status", "inventory_submitted_at",
        "material_count", "names", "public_names"], records=search_facilities)
    await sub.copy_records_to_table("search_materials", columns=[
        "facility_id", "element_id", "position", "cers_id", "organization_id", "agency_id",
        "county_id", "annual_due_date", "update_due_by", "latitude", "longitude",
        "inventory_status", *_MATERIAL_COLUMNS], records=search_materials)
    # The feed is in commit order, so its times rise with its positions: the year before the
    # last hour, then the last 1% of the entries within the last hour (what an hour-old cursor
    # catches up on).
    for _, kind, f, element_id in sorted(events, key=lambda e: e[0]):
        position += 1
        occurred = feed_time(position, total_events)
        data = ({"facility_id": f.id, "element_id": element_id, "submitted_at":
                 occurred.isoformat()} if element_id else {"facility": {"facility_id": f.id,
                                                                       "cers_id": f.cers_id}})
        feed.append((position, str(uuid.uuid5(NAMESPACE, f"event-{kind}-{f.n}-{element_id}")),
                     kind, f.id, f.cers_id, f.organization_id, agency_id(f.county), occurred,
                     json.dumps(data)))
    await sub.copy_records_to_table("feed_entries", columns=[
        "position", "event_id", "type", "facility_id", "cers_id", "organization_id",
        "agency_id", "occurred_at", "data"], records=feed)
    return position


_MATERIAL_COLUMNS = (
    "cas_number", "common_name", "chemical_name", "common_key", "chemical_key", "name_key",
    "trade_secret", "location_confidential", "ehs", "physical_state", "hm_type", "hazard_mask",
    "maximum_daily_amount", "units", "pounds", "gallons", "cubic_feet",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--facilities", type=int, default=150_000)
    parser.add_argument("--materials", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--facility-url", default=FACILITY_URL)
    parser.add_argument("--submittal-url", default=SUBMITTAL_URL)
    parser.add_argument("--fresh", action="store_true",
                        help="rebuild even when the submittal database already has a dataset")
    args = parser.parse_args()
    if not args.fresh:
        loaded = asyncio.run(exists(args.submittal_url))
        if loaded >= args.facilities:
            print(f"dataset already loaded ({loaded:,} facilities); --fresh rebuilds it")
            return
    asyncio.run(load(args.facility_url, args.submittal_url, args.facilities, args.materials,
                     args.seed))


BENCHMARK = False  # ``make bench`` runs it only through bench.search, when no dataset exists

if __name__ == "__main__":
    main()
