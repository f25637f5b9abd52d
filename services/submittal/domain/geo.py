"""Where a facility is: its reported point, California's and each county's bounding box, and
great-circle distances.

The point is the CERS geographic information of a facility (Title 27 fields 21.0001-21.0007,
``CERSGeographicPointLocationDataType`` in the EDT query schemas). County boxes come from the
Census Bureau's cartographic boundaries (services/submittal/data/county_bounds.csv, built by
bench/county_shapes.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from services.submittal.domain.issues import Checker
from services.submittal.domain.model import Model

BOUNDS_CSV = Path(__file__).resolve().parent.parent / "data" / "county_bounds.csv"
EARTH_RADIUS_MILES = 3958.7613
MILES_PER_DEGREE_LATITUDE = 69.055
# CERS: HorizontalCollectionMethod (21.0004) and GeographicReferencePoint (21.0005) codes.
COLLECTION_METHODS = (101, 103, 104, 107, 108, 109)
REFERENCE_POINTS = (101, 102, 103, 108)


class Datum(StrEnum):
    NAD27 = "NAD27"
    NAD83 = "NAD83"
    WGS84 = "WGS84"


class GeographicLocation(Model):
    """A facility's reported point, decimal degrees (west longitudes are negative)."""

    latitude: float | None = None
    longitude: float | None = None
    horizontal_accuracy_meters: float | None = None
    collection_method: int | None = None
    reference_point: int | None = None
    datum: Datum | None = None
    collection_date: dt.date | None = None


@dataclass(frozen=True)
class Box:
    min_latitude: float
    min_longitude: float
    max_latitude: float
    max_longitude: float

    def contains(self, latitude: float, longitude: float) -> bool:
        return (self.min_latitude <= latitude <= self.max_latitude
                and self.min_longitude <= longitude <= self.max_longitude)

    def describe(self) -> str:
        return (f"latitude {self.min_latitude:g} to {self.max_latitude:g}, "
                f"longitude {self.min_longitude:g} to {self.max_longitude:g}")


@dataclass(frozen=True)
class County:
    id: int
    name: str
    box: Box


@cache
def counties() -> dict[int, County]:
    with BOUNDS_CSV.open(newline="") as f:
        return {
            int(row["id"]): County(int(row["id"]), row["name"], Box(
                float(row["min_latitude"]), float(row["min_longitude"]),
                float(row["max_latitude"]), float(row["max_longitude"])))
            for row in csv.DictReader(f)
        }


@cache
def california() -> Box:
    boxes = [c.box for c in counties().values()]
    return Box(min(b.min_latitude for b in boxes), min(b.min_longitude for b in boxes),
               max(b.max_latitude for b in boxes), max(b.max_longitude for b in boxes))


def county_named(name: str | None) -> County | None:
    """The county from its name, ignoring case, spacing and a trailing "County"."""
    wanted = " ".join((name or "").lower().replace("county", " ").split())
    return next((c for c in counties().values() if c.name.lower() == wanted), None)


def check_location(check: Checker, location: GeographicLocation | None,
                   county: str | None = None) -> None:
    """The point is complete, in California and inside the facility's county's box."""
    if location is None:
        return
    lat, lon = location.latitude, location.longitude
    if (lat is None) != (lon is None):
        check.error("latitude" if lat is None else "longitude",
                    "Give both latitude and longitude, or neither.", "REQUIRED")
        return
    if location.horizontal_accuracy_meters is not None and location.horizontal_accuracy_meters < 0:
        check.error("horizontalAccuracyMeters", "Horizontal accuracy cannot be negative.",
                    "OUT_OF_RANGE")
    if location.collection_method is not None and (
            location.collection_method not in COLLECTION_METHODS):
        check.error("collectionMethod", "Collection method is one of the CERS codes "
                    f"{', '.join(map(str, COLLECTION_METHODS))}.", "OUT_OF_RANGE")
    if location.reference_point is not None and location.reference_point not in REFERENCE_POINTS:
        check.error("referencePoint", "Reference point is one of the CERS codes "
                    f"{', '.join(map(str, REFERENCE_POINTS))}.", "OUT_OF_RANGE")
    if lat is None or lon is None:
        return
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        check.error("latitude", "Latitude is -90 to 90 and longitude -180 to 180 decimal degrees.",
                    "OUT_OF_RANGE")
        return
    state = california()
    if not state.contains(lat, lon):
        hint = " (west longitudes are negative)" if lon > 0 and state.contains(lat, -lon) else ""
        check.error("latitude", f"The point {lat:g}, {lon:g} is not in California"
                    f"{hint}; California lies within {state.describe()}.", "OUTSIDE_CALIFORNIA")
        return
    found = county_named(county)
    if found is not None and not found.box.contains(lat, lon):
        check.error("latitude", f"The point {lat:g}, {lon:g} is outside {found.name} County, "
                    f"the facility's county ({found.box.describe()}).", "OUTSIDE_COUNTY")


def miles_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in statute miles."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


def box_around(latitude: float, longitude: float, miles: float) -> Box:
    """A box holding every point within ``miles`` of the centre (for an indexed prefilter)."""
    dlat = miles / MILES_PER_DEGREE_LATITUDE
    # Longitude degrees shrink towards the poles; take the widest at the box's polar edge.
    edge = min(89.9, abs(latitude) + dlat)
    dlon = miles / (MILES_PER_DEGREE_LATITUDE * math.cos(math.radians(edge)))
    return Box(latitude - dlat, longitude - dlon, latitude + dlat, longitude + dlon)
