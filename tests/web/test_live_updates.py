"""Live updates in chromium: the regulator's review queue and a business's facility page show
"Live" and change without a reload when someone else acts.

The business is a new one of this test's own, so the demo facilities other tests use stay as
they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e import client
from tests.e2e.conftest import DEMO_REGULATOR, Actors
from tests.e2e.system import RunningSystem, eventually
from tests.web.conftest import Portal

pytestmark = [pytest.mark.needs_node, pytest.mark.needs_chromium]

NOT_APPLICABLE = """mutation Na($input: MarkNotApplicableInput!) {
  markNotApplicable(input: $input) { element { id } userErrors { code message } } }"""
SET_DUE = """mutation SetDue($input: SetAnnualDueDateInput!) {
  setAnnualDueDate(input: $input) { userErrors { code message } } }"""


@pytest.fixture(scope="module")
def actors(system: RunningSystem) -> Actors:
    actors = Actors(system)
    actors.passwords[DEMO_REGULATOR[0]] = DEMO_REGULATOR[1]
    actors.portals[DEMO_REGULATOR[0]] = "regulator"
    return actors


@pytest.fixture(scope="module")
def live_business(actors: Actors) -> dict[str, Any]:
    actors.register("lena.live", first="Lena", last="Live")
    created = actors.business("lena.live", "Live Oak Supply", county="Plumas", city="Quincy")
    return dict(created["facility"])


@pytest.fixture
def regulator(browser: Any, system: RunningSystem) -> Iterator[Portal]:
    portal = Portal(browser, system)
    portal.sign_in(*DEMO_REGULATOR, portal="regulator")
    yield portal
    portal.close()


def test_the_review_queue_shows_a_new_change_without_a_reload(
    regulator: Portal, actors: Actors, live_business: dict[str, Any],
) -> None:
    page = regulator.open("/review?status=NOT_APPLICABLE")
    page.get_by_role("heading", name="Review queue").wait_for()
    page.locator("[data-live=live]").wait_for()
    assert page.get_by_role("status").filter(has_text="Live").is_visible()
    rows = page.locator("tbody tr", has_text="Live Oak Supply")
    assert rows.count() == 0
    page.evaluate("window.__notReloaded = true")

    def marked() -> dict[str, Any] | None:
        body = actors.gql("lena.live", NOT_APPLICABLE, {"input": {
            "facilityId": live_business["id"], "element": "UST"}})
        if set(client.errors(body)) & {"NOT_FOUND", "UNAVAILABLE"}:
            return None  # submittal has not heard of the new facility yet
        return client.payload(body, "markNotApplicable")

    eventually(marked, timeout=30)
    rows.first.wait_for()
    assert page.evaluate("window.__notReloaded") is True
    regulator.check_accessibility("review-queue-live")


def test_the_facility_page_of_a_business_shows_its_new_due_date_without_a_reload(
    browser: Any, system: RunningSystem, actors: Actors, live_business: dict[str, Any],
) -> None:
    portal = Portal(browser, system)
    try:
        portal.sign_in(actors.username("lena.live"), actors.passwords["lena.live"])
        page = portal.open(f"/facilities/{live_business['id']}")
        page.get_by_role("heading", level=1, name=live_business["name"]).wait_for()
        page.locator("[data-live=live]").wait_for()
        page.evaluate("window.__notReloaded = true")
        body = actors.gql(DEMO_REGULATOR[0], SET_DUE, {"input": {
            "facilityId": live_business["id"], "annualDueDate": "2031-02-14"}})
        assert client.payload(body, "setAnnualDueDate")["userErrors"] == []
        page.get_by_text("Feb 14, 2031").wait_for()
        assert page.evaluate("window.__notReloaded") is True
    finally:
        portal.close()
