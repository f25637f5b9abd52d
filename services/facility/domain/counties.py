"""California's 58 counties, numbered alphabetically as CERS does (1 Alameda ... 58 Yuba)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

COUNTIES_CSV = Path(__file__).resolve().parent.parent / "data" / "counties.csv"


@cache
def counties() -> dict[int, str]:
    with COUNTIES_CSV.open(newline="") as f:
        return {int(row["id"]): row["name"] for row in csv.DictReader(f)}


def county_id(name: str) -> int | None:
    """The county's id from its name, ignoring case, spacing and a trailing "County"."""
    wanted = " ".join(name.lower().replace("county", " ").split())
    for cid, county in counties().items():
        if county.lower() == wanted:
            return cid
    return None
