"""Renaming the business, the agency's public details, and jurisdictions in the State Portal."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import run_operator_command
from tests.e2e.system import RunningSystem
from tests.web.conftest import Portal

pytestmark = [pytest.mark.needs_node, pytest.mark.needs_chromium]

BUSINESS = "Feather River Fuel & Supply"
STATE_USER, STATE_PASSWORD = "stacy.state", "Sierra-Buttes-Lookout-2026"


def test_a_lead_user_renames_the_business(browser: Any, system: RunningSystem) -> None:
    lead = Portal(browser, system)
    try:
        lead.sign_in("demo.business", "Demo-Business-2026!")
        page = lead.page
        page.get_by_role("link", name=BUSINESS).click()
        page.get_by_role("heading", name="Business name").wait_for()
        field = page.get_by_label("Name of the business")
        field.fill("   ")
        assert page.get_by_role("button", name="Rename business").is_disabled()
        field.fill("Feather River Energy")
        lead.screen("business-name")
        page.get_by_role("button", name="Rename business").click()
        page.get_by_text("The business is now called Feather River Energy.").wait_for()
        page.get_by_role("heading", level=1, name="Feather River Energy").wait_for()
        # Put the demo name back for the other screens.
        page.get_by_label("Name of the business").fill(BUSINESS)
        page.get_by_role("button", name="Rename business").click()
        page.get_by_role("heading", level=1, name=BUSINESS).wait_for()
    finally:
        lead.close()


def test_an_agency_admin_edits_the_public_details_and_a_bad_website_is_explained(
    browser: Any, system: RunningSystem
) -> None:
    admin = Portal(browser, system)
    try:
        admin.sign_in("demo.plumas", "Demo-Plumas-2026!", portal="regulator")
        page = admin.page
        page.get_by_role("link", name="My agency").click()
        page.get_by_role("link", name="Plumas County Environmental Health").click()
        page.get_by_role("heading", name="Public contact details").wait_for()
        phone = page.get_by_label("Phone", exact=True).input_value()
        page.get_by_label("Website").fill("plumascounty")
        page.get_by_role("button", name="Save details").click()
        page.get_by_text("Give the website as a full address").wait_for()
        assert page.get_by_label("Website").get_attribute("aria-invalid") == "true"
        page.get_by_label("Website").fill("https://www.plumascounty.us/101/Environmental-Health")
        page.get_by_label("Email", exact=True).fill("eh@countyofplumas.com")
        page.get_by_label("Certification opens (days before the annual due date)").fill("120")
        admin.screen("agency-details")
        page.get_by_role("button", name="Save details").click()
        page.get_by_text("The agency's public details are saved.").wait_for()
        page.get_by_text("certification opens 120 days before the due date").wait_for()
        assert page.get_by_label("Phone", exact=True).input_value() == phone
        # The window back to the default, for the other screens.
        page.get_by_label("Certification opens (days before the annual due date)").fill("90")
        page.get_by_role("button", name="Save details").click()
        page.get_by_text("certification opens 90 days before the due date").wait_for()
    finally:
        admin.close()


def test_a_state_account_redraws_an_agencys_jurisdiction_and_a_taken_county_is_named(
    browser: Any, system: RunningSystem
) -> None:
    run_operator_command(
        system, "-m", "services.facility", "create-agency", "--name",
        "Sierra County Environmental Health", "--county", "Sierra",
        "--admin-email", "sierra.admin@example.gov",
    )
    run_operator_command(
        system, "-m", "services.identity", "create-state-account", "--username", STATE_USER,
        "--email", "stacy.state@example.gov", "--first-name", "Stacy", "--last-name", "State",
        env={"IDENTITY_NEW_PASSWORD": STATE_PASSWORD},
    )
    state = Portal(browser, system)
    try:
        state.sign_in(STATE_USER, STATE_PASSWORD, portal="state")
        page = state.page
        page.get_by_role("heading", name="Agency jurisdictions").wait_for()
        page.get_by_role("button", name="Change jurisdiction of Sierra County Environmental Health"
                         ).click()
        counties = page.get_by_label("Whole counties, one per line")
        counties.fill("Sierra\nPlumas")
        page.get_by_role("button", name="Save jurisdiction").click()
        page.get_by_text("is already the jurisdiction of 'Plumas County Environmental Health'"
                         ).wait_for()
        counties.fill("Sierra\nModoc")
        state.screen("jurisdictions")
        page.get_by_role("button", name="Save jurisdiction").click()
        page.get_by_text("Sierra County Environmental Health's jurisdiction is saved; "
                         "0 facilities have a new regulator.").wait_for()
        card = page.locator("li.card", has_text="Sierra County Environmental Health")
        card.get_by_text("Modoc County, Sierra County").wait_for()
    finally:
        state.close()
