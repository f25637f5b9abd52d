"""The hazardous-materials search page in chromium: a regulator finds the facilities near a
point that store a chemical, nearest first, bookmarks the search and exports it."""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.system import RunningSystem
from tests.web.conftest import Portal

pytestmark = [pytest.mark.needs_node, pytest.mark.needs_chromium]

AMMONIA = "7664-41-7"
QUINCY = (39.9368, -120.9472)


@pytest.fixture
def regulator(browser: Any, system: RunningSystem) -> Iterator[Portal]:
    portal = Portal(browser, system)
    portal.sign_in("demo.plumas", "Demo-Plumas-2026!", portal="regulator")
    yield portal
    portal.close()


def _miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 3958.8 * math.asin(math.sqrt(h))


def _download(page: Any, button: str) -> Path:
    with page.expect_download() as started:
        page.get_by_role("button", name=button).click()
    return Path(started.value.path())


def test_a_regulator_finds_ammonia_near_a_point_nearest_first_and_exports_it(
    regulator: Portal,
) -> None:
    page = regulator.page
    page.get_by_role("link", name="Hazardous materials", exact=True).click()
    page.get_by_role("heading", name="Hazardous materials search").wait_for()
    page.get_by_label("CAS numbers (comma-separated)").fill(AMMONIA)
    page.get_by_label("Latitude").fill(str(QUINCY[0]))
    page.get_by_label("Longitude").fill(str(QUINCY[1]))
    page.get_by_label("Within miles").fill("60")
    page.get_by_label("Sort by").select_option("DISTANCE")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("columnheader", name="Distance").wait_for()
    rows = page.locator("tbody tr")
    rows.first.wait_for()
    regulator.screen("material-search")

    # The filters are the URL: the search is a bookmark, and reloading it shows the same table.
    assert f"casNumbers={AMMONIA}" in page.url and "sort=DISTANCE" in page.url
    table = rows.all_inner_texts()
    page.reload()
    rows.first.wait_for()
    assert rows.all_inner_texts() == table

    distances = [float(re.search(r"([\d.]+) mi", text).group(1))  # type: ignore[union-attr]
                 for text in rows.locator("td[data-label=Distance]").all_inner_texts()]
    assert len(distances) >= 2, table
    assert distances == sorted(distances)
    assert distances[0] < 1, "the demo facility in Quincy is at the point searched from"
    assert all(d <= 60 for d in distances)
    assert all("Anhydrous ammonia (7664-41-7) · EHS" in text for text in table)
    summary = page.get_by_text(re.compile(r"facilit(y|ies) match\.")).inner_text()
    assert summary.startswith(f"{len(table)} ")

    # The exports hold the same facilities as the page, in the same order.
    with _download(page, "Export CSV").open(newline="", encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    names = [r.locator("td[data-label=Facility] a").inner_text() for r in rows.all()]
    assert [row["facilityName"] for row in exported] == names
    assert {row["casNumber"] for row in exported} == {AMMONIA}
    assert all(row["ehs"] == "Y" for row in exported)

    collection = json.loads(_download(page, "Export GeoJSON").read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    assert [f["properties"]["name"] for f in collection["features"]] == names
    for feature, distance in zip(collection["features"], distances, strict=True):
        longitude, latitude = feature["geometry"]["coordinates"]  # RFC 7946: [lon, lat]
        assert -125 < longitude < -114 and 32 < latitude < 42.1
        assert abs(_miles(QUINCY, (latitude, longitude)) - distance) < 0.1


def test_a_search_that_matches_nothing_says_so_and_a_regulator_sees_only_its_county(
    regulator: Portal,
) -> None:
    page = regulator.page
    # Plumas County's regulator asking about Los Angeles County gets nothing, not an error.
    page.goto(f"/materials?casNumbers={AMMONIA}&counties=Los%20Angeles")
    page.get_by_text("No facility matches.").wait_for()
    page.goto(f"/materials?casNumbers={AMMONIA}")
    page.locator("tbody tr").first.wait_for()
    counties = set(page.locator("td[data-label=County]").all_inner_texts())
    assert counties == {"Plumas"}
