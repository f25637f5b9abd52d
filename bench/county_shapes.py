"""Where services/submittal/data/county_bounds.csv and bench/data/ca_counties.json come from.

Both are derived once from the U.S. Census Bureau's cartographic county boundaries as the npm
package us-atlas 3.0.1 ships them (``counties-10m.json``, TopoJSON, ISC licence, public-domain
data). To rebuild them::

    npm pack us-atlas@3.0.1 && tar xzf us-atlas-3.0.1.tgz
    python -m bench.county_shapes package/counties-10m.json

California's counties are FIPS 06001, 06003, ... 06115 in alphabetical order, the same order
as CERS county ids 1-58 (county id = (FIPS county code + 1) / 2). The bounding boxes get one
quantization step of margin (about 300 m east-west, 100 m north-south).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COUNTIES = ROOT / "services" / "facility" / "data" / "counties.csv"
BOUNDS = ROOT / "services" / "submittal" / "data" / "county_bounds.csv"
SHAPES = ROOT / "bench" / "data" / "ca_counties.json"

Point = tuple[float, float]


def extract(topojson: Path) -> None:
    topology: dict[str, Any] = json.loads(topojson.read_text())
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs: list[list[Point]] = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((round(x * sx + tx, 5), round(y * sy + ty, 5)))
        arcs.append(points)

    def ring(indexes: list[int]) -> list[Point]:
        out: list[Point] = []
        for i in indexes:
            points = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
            out.extend(points if not out else points[1:])
        return out

    with COUNTIES.open(newline="") as f:
        names = {int(row["id"]): row["name"] for row in csv.DictReader(f)}
    shapes: dict[int, list[list[list[Point]]]] = {}
    for geometry in topology["objects"]["counties"]["geometries"]:
        fips = str(geometry["id"])
        if not fips.startswith("06"):
            continue
        county = (int(fips[2:]) + 1) // 2
        assert names[county] == geometry["properties"]["name"], fips
        polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
        shapes[county] = [[ring(r) for r in polygon] for polygon in polygons]
    with BOUNDS.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "name", "min_latitude", "min_longitude", "max_latitude",
                      "max_longitude"])
        for county in sorted(shapes):
            points = [p for polygon in shapes[county] for r in polygon for p in r]
            lons, lats = [p[0] for p in points], [p[1] for p in points]
            out.writerow([county, names[county], f"{min(lats) - sy:.4f}",
                          f"{min(lons) - sx:.4f}", f"{max(lats) + sy:.4f}",
                          f"{max(lons) + sx:.4f}"])
    SHAPES.write_text(json.dumps({
        "source": "us-atlas 3.0.1 counties-10m.json (U.S. Census Bureau cartographic "
                  "boundaries), outer rings only, [longitude, latitude]",
        "counties": {str(c): [polygon[0] for polygon in shapes[c]] for c in sorted(shapes)},
    }, separators=(",", ":")))


if __name__ == "__main__":
    extract(Path(sys.argv[1]))
