"""The Business Portal in chromium: the help-desk FAQ journeys, as clicks."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.system import RunningSystem
from tests.web.conftest import Portal, mail_link

pytestmark = [pytest.mark.needs_node, pytest.mark.needs_chromium]

DEMO_USER, DEMO_PASSWORD = "demo.business", "Demo-Business-2026!"


@pytest.fixture
def lead(browser: Any, system: RunningSystem) -> Iterator[Portal]:
    portal = Portal(browser, system)
    portal.sign_in(DEMO_USER, DEMO_PASSWORD)
    yield portal
    portal.close()


def open_facility(portal: Portal, name: str) -> Any:
    page = portal.page
    page.goto("/businesses")
    page.get_by_role("link", name="Feather River Fuel & Supply").click()
    page.get_by_role("link", name=name).click()
    page.get_by_role("heading", level=1, name=name).wait_for()
    return page


def test_a_lead_user_selects_the_business_and_sees_each_facility_with_its_badge(
    lead: Portal,
) -> None:
    page = lead.page
    page.get_by_role("heading", name="Select Business").wait_for()
    lead.screen("select-business")
    page.get_by_role("link", name="Feather River Fuel & Supply").click()
    rows = page.locator("table.facilities tbody tr")
    rows.first.wait_for()
    assert rows.count() == 4
    assert page.locator("table.facilities .badge").first.inner_text() in {
        "Current", "Due soon", "Overdue", "Update required"}
    lead.screen("facilities")

    page.get_by_role("link", name="Feather River Fuel - Quincy").click()
    page.get_by_role("heading", name="Submittal elements").wait_for()
    assert page.get_by_text("CERS ID").first.is_visible()
    page.get_by_role("heading", name="History", exact=True).wait_for()
    lead.screen("facility")
    # On a 360 px phone the element table stacks into cards: no sideways scrolling.
    page.set_viewport_size({"width": 360, "height": 780})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    lead.screenshot("facility-phone", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Back and Forward walk the same screens, and the URL alone reopens this one.
    url = page.url
    page.go_back()
    page.get_by_role("link", name="Feather River Fuel - Quincy").wait_for()
    page.go_forward()
    page.get_by_role("heading", level=1, name="Feather River Fuel - Quincy").wait_for()
    page.goto(url)
    page.get_by_role("heading", level=1, name="Feather River Fuel - Quincy").wait_for()
    # A new tab holds no token: the bookmark asks to sign in and comes back to it.
    fresh = lead.context.new_page()
    fresh.goto(url)
    fresh.get_by_role("heading", name="Sign in to continue").wait_for()
    fresh.close()


def test_an_editor_starts_from_the_last_inventory_fixes_an_inline_error_and_submits_all(
    lead: Portal,
) -> None:
    page = open_facility(lead, "Feather River Fuel - Quincy")
    start = "Start from last Hazardous Materials Inventory"
    page.get_by_role("button", name=start).click()
    page.wait_for_url(re.compile(r"/elements/"))
    rows = page.locator(".inventory tbody tr")
    rows.first.wait_for()
    copied = rows.count()
    assert copied > 0

    page.get_by_role("button", name="Add material").click()
    new = copied + 1
    page.get_by_label(f"Common name, material {new}").fill("Hydrochloric acid")
    page.get_by_label(f"CAS number, material {new}").fill("7647-01-1")
    # The check digit of 7647-01-0 is 0: the table says so while the user types.
    page.get_by_text("This CAS number's check digit is wrong.").wait_for()
    page.get_by_label(f"CAS number, material {new}").fill("7647-01-0")
    page.get_by_label(f"EHS, material {new}").select_option("N")
    page.get_by_label(f"State, material {new}").select_option("LIQUID")
    page.get_by_label(f"Max daily, material {new}").fill("55")
    page.get_by_label(f"Units, material {new}").select_option("GALLONS")
    assert page.get_by_text("This CAS number's check digit is wrong.").count() == 0
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Draft saved.").wait_for()
    lead.screen("inventory-draft")

    page.get_by_role("link", name="Back to the facility").click()
    page.get_by_role("link", name="Submit all drafts (1)").click()
    page.get_by_text("You are about to submit").wait_for()
    lead.screen("submit-all")
    page.get_by_role("button", name="Submit all 1 drafts").click()
    page.get_by_text("1 element was submitted to the regulator.").wait_for()
    assert page.get_by_text("Significant").first.is_visible()


def test_a_lead_user_certifies_no_change_in_hmbp(lead: Portal) -> None:
    page = open_facility(lead, "Feather River Fuel - Chester")
    page.get_by_role("heading", name="No change in HMBP").wait_for()
    page.get_by_role("button", name="Certify no change").click()
    page.get_by_text("No change in HMBP is certified").wait_for()
    page.get_by_text("no-change certification").first.wait_for()


def test_a_new_user_signs_up_activates_requests_access_and_the_lead_user_approves_it(
    browser: Any, system: RunningSystem, lead: Portal,
) -> None:
    newcomer = Portal(browser, system, width=360)
    page = newcomer.page
    page.goto("/")
    page.get_by_role("link", name="New Account").first.click()
    newcomer.screen("new-account")
    page.get_by_label("User name").fill("riley.consultant")
    page.get_by_label("Email").fill("riley@example.com")
    page.get_by_label("Password").fill("Sierra-Nevada-Hazmat-77")
    page.get_by_label("First name").fill("Riley")
    page.get_by_label("Last name").fill("Consultant")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your email").wait_for()

    link = mail_link(system, "riley@example.com", "/account/activate")
    page.goto(link.replace("/account/activate", "/activate"))
    page.get_by_role("button", name="Activate").click()
    page.get_by_role("heading", name="Your account is active").wait_for()
    newcomer.sign_in("riley.consultant", "Sierra-Nevada-Hazmat-77")
    page.get_by_text("You do not belong to a business yet.").wait_for()
    # 360 px wide: nothing forces sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    lead_page = open_facility(lead, "Feather River Fuel - Portola")
    cers_id = lead_page.locator(".facts dd").first.inner_text().strip()
    page.get_by_role("link", name="Request access").first.click()
    page.get_by_label("Facility CERS ID").fill("1234")
    page.get_by_role("button", name="Send request").click()
    page.get_by_text("A CERS ID is the facility's 8-digit number").wait_for()
    page.get_by_label("Facility CERS ID").fill(cers_id)
    page.get_by_role("button", name="Send request").click()
    page.get_by_role("heading", name="Access requested").wait_for()

    lead_page.goto("/businesses")
    lead_page.get_by_role("link", name="Feather River Fuel & Supply").click()
    lead_page.get_by_role("link", name="People").click()
    lead_page.get_by_text("Riley Consultant").first.wait_for()
    lead.screen("people")
    lead_page.get_by_role("button", name="Approve").click()
    lead_page.get_by_text("request was approved").wait_for()
    level = lead_page.get_by_label("Permission level of Riley Consultant")
    level.select_option("APPROVER")
    lead_page.get_by_role("button", name="Save level").click()
    lead_page.get_by_text("Riley Consultant is now approver.").wait_for()

    lead_page.get_by_label("Email").fill("new.hire@example.com")
    lead_page.get_by_label("Permission level", exact=True).select_option("VIEWER")
    lead_page.get_by_role("button", name="Add person").click()
    lead_page.get_by_text("An invitation is emailed to new.hire@example.com.").wait_for()

    page.goto("/businesses")
    page.get_by_role("link", name="Feather River Fuel & Supply").wait_for()
    newcomer.close()


# A 1x1 PNG: the upload checks the file's real type, not its name.
SITE_MAP_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
CSV_WITH_A_BAD_ROW = (
    "commonName,casNumber,ehs,physicalState,maximumDailyAmount,units\n"
    "Diesel fuel,68476-34-6,N,LIQUID,12000,GALLONS\n"
    "Mystery solvent,1234-56-7,N,LIQUID,50,GALLONS\n"
)
CSV_GOOD = (
    "commonName,casNumber,ehs,physicalState,maximumDailyAmount,units\n"
    "Diesel fuel,68476-34-6,N,LIQUID,12000,GALLONS\n"
    "Acetone,67-64-1,N,LIQUID,55,GALLONS\n"
)


def test_a_csv_import_names_the_bad_rows_and_a_refused_save_keeps_what_was_typed(
    lead: Portal,
) -> None:
    page = open_facility(lead, "Feather River Supply Yard - Greenville")
    page.get_by_role("button", name="Start blank Hazardous Materials Inventory").click()
    page.wait_for_url(re.compile(r"/elements/"))
    page.get_by_text("Import materials from a CSV file").click()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "hmi.csv", "mimeType": "text/csv", "buffer": CSV_WITH_A_BAD_ROW.encode()}]
    )
    errors = page.locator(".notice.error table tbody tr")
    errors.first.wait_for()
    assert errors.first.locator("td").first.inner_text() == "3"
    assert page.locator(".inventory tbody tr").count() == 0
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "hmi.csv", "mimeType": "text/csv", "buffer": CSV_GOOD.encode()}]
    )
    page.get_by_text("2 materials imported and saved to the draft.").wait_for()
    assert page.locator(".inventory tbody tr").count() == 2

    page.get_by_label("How is it provided?").select_option("ATTACHED")
    page.get_by_label("Upload a document (PDF or image)").set_input_files(
        files=[{"name": "site-map.png", "mimeType": "image/png", "buffer": SITE_MAP_PNG}]
    )
    page.get_by_text("1 document attached").wait_for()

    days = page.get_by_label("Days on site, material 1")
    days.fill("all year")
    page.get_by_role("button", name="Save draft").click()
    page.locator(".editor .notice.error").first.wait_for()
    assert days.input_value() == "all year"
    assert page.get_by_text("Unsaved changes").is_visible()
    days.fill("365")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Draft saved.").wait_for()
    page.reload()
    assert page.get_by_label("Days on site, material 1").input_value() == "365"
    assert page.get_by_text("1 document attached").is_visible()


def test_a_user_edits_their_profile_and_a_wrong_current_password_is_explained(
    lead: Portal,
) -> None:
    page = lead.page
    page.get_by_role("link", name="Profile").click()
    page.get_by_label("Title").fill("Compliance Lead")
    page.get_by_role("button", name="Save profile").click()
    page.get_by_text("Profile saved.").wait_for()
    page.get_by_label("Current password").fill("not-my-password-at-all")
    page.get_by_label("New password").fill("Another-Long-Passphrase-9")
    page.get_by_role("button", name="Change password").click()
    page.locator("form[aria-labelledby=password-h] .notice.error").first.wait_for()
    lead.screen("profile")
    page.reload()
    assert page.get_by_label("Title").input_value() == "Compliance Lead"
