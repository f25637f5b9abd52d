"""The Regulator Portal in chromium: review, facility search, permit refusal and issue, staff."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.system import RunningSystem, eventually
from tests.web.conftest import Portal

pytestmark = [pytest.mark.needs_node, pytest.mark.needs_chromium]


@pytest.fixture
def regulator(browser: Any, system: RunningSystem) -> Iterator[Portal]:
    portal = Portal(browser, system)
    portal.sign_in("demo.plumas", "Demo-Plumas-2026!", portal="regulator")
    yield portal
    portal.close()


def test_a_regulator_does_not_accept_an_element_and_the_permit_is_refused_with_the_reason(
    regulator: Portal,
) -> None:
    page = regulator.page
    page.get_by_role("heading", name="Review queue").wait_for()
    page.locator("tbody tr").first.wait_for()
    regulator.screen("review-queue")
    page.get_by_label("Element").select_option("EMERGENCY_RESPONSE_TRAINING_PLANS")
    assert "element=EMERGENCY_RESPONSE_TRAINING_PLANS" in page.url
    row = page.locator("tbody tr", has_text="Feather River Supply Yard - Greenville")
    row.get_by_role("link", name="Emergency Response and Training Plans").click()
    page.get_by_role("heading", name="Review").wait_for()
    page.get_by_label("Not accept").check()
    page.get_by_label("Comments to the business").fill("The 2026 training roster is missing.")
    regulator.screen("element-review")
    page.get_by_role("button", name="Save review").click()
    page.get_by_text("Review saved: Not accept.").wait_for()

    page.get_by_role("link", name="Feather River Supply Yard - Greenville").first.click()

    def refused() -> bool:
        page.reload()
        page.get_by_role("heading", name="Issue a permit").wait_for()
        return bool(page.locator(".facts .badge").first.inner_text() == "Update required")

    eventually(refused, timeout=20, interval=0.5)
    page.get_by_role("button", name="Issue permit").click()
    page.locator(".notice.error").first.wait_for()
    explained = "A permit can be issued only while the facility is current"
    assert page.get_by_text(explained).is_visible()
    regulator.screen("permit-refused")


def test_a_regulator_finds_a_current_facility_by_cers_id_and_issues_a_permit(
    regulator: Portal,
) -> None:
    page = regulator.page
    page.get_by_role("link", name="Facilities").click()
    page.get_by_label("Name contains").fill("Portola")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Feather River Fuel - Portola").wait_for()
    assert "name=Portola" in page.url
    regulator.screen("facility-search")
    page.get_by_role("link", name="Feather River Fuel - Portola").click()
    page.get_by_role("heading", name="Issue a permit").wait_for()
    page.get_by_role("button", name="Issue permit").click()
    page.get_by_text("is issued.").wait_for()
    page.get_by_role("heading", name="Permits").wait_for()
    regulator.screen("regulator-facility")


def test_an_agency_admin_adds_staff_and_changes_a_role(regulator: Portal) -> None:
    page = regulator.page
    page.get_by_role("link", name="My agency").click()
    page.get_by_role("link", name="Plumas County Environmental Health").click()
    page.get_by_role("heading", name="Staff (1)").wait_for()
    page.get_by_label("Email of their Regulator Portal account").fill("inspector@plumas.example")
    page.get_by_role("button", name="Add staff").click()
    page.get_by_text("inspector@plumas.example is added as inspector.").wait_for()
    page.get_by_label("Role of inspector@plumas.example").select_option("APPROVER")
    page.get_by_role("button", name="Save role").click()
    page.get_by_text("inspector@plumas.example is now approver.").wait_for()
    regulator.screen("agency-staff")
