"""The typed elements in chromium: a business fills in a UST form; a regulator reviews one
field by field with the differences from the previous submission marked; both print it."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.client import payload, sign_in
from tests.e2e.system import RunningSystem
from tests.submittal.samples import UST, tank
from tests.web.conftest import ARTIFACTS, Portal

pytestmark = [pytest.mark.needs_node, pytest.mark.needs_chromium]

DEMO_USER, DEMO_PASSWORD = "demo.business", "Demo-Business-2026!"
START = """mutation($input: StartSubmittalInput!) { startSubmittal(input: $input) {
  element { id data } userErrors { code message } findings { code } } }"""
SAVE = """mutation($input: SaveDraftInput!) { saveDraft(input: $input) {
  element { id } userErrors { code message } findings { code severity message } } }"""
SUBMIT = """mutation($input: FacilityIdInput!) { submitDrafts(input: $input) {
  elements { id element changeFromPrevious } userErrors { field code message } } }"""
FACILITIES = """{ myBusinesses { edges { node { facilities { edges { node { id name } } } } } } }"""


@pytest.fixture
def lead(browser: Any, system: RunningSystem) -> Iterator[Portal]:
    portal = Portal(browser, system)
    portal.sign_in(DEMO_USER, DEMO_PASSWORD)
    yield portal
    portal.close()


def no_sideways_scrolling(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= 360)


def choose(page: Any, name: str) -> Any:
    """A select by its accessible name (visible label, "(required)", and where it sits)."""
    return page.get_by_role("combobox", name=name, exact=True)


def text(page: Any, name: str) -> Any:
    return page.get_by_role("textbox", name=name, exact=True)


def number(page: Any, name: str) -> Any:
    return page.get_by_role("spinbutton", name=name, exact=True)


def test_a_business_fills_in_a_ust_form_with_tanks_inline_errors_and_documents(
    lead: Portal,
) -> None:
    page = lead.page
    page.goto("/businesses")
    page.get_by_role("link", name="Feather River Fuel & Supply").click()
    page.get_by_role("link", name="Feather River Fuel - Chester").click()
    page.get_by_role("button", name="Start blank UST").click()
    page.wait_for_url(re.compile(r"/elements/"))
    page.get_by_role("heading", name="Tanks (0)").wait_for()

    # Grouped as on the official form, code lists as selects with their labels, required
    # fields marked.
    choose(page, "Type of action (required), UST facility").select_option(
        label="Confirmed/Updated Information")
    choose(page, "UST facility type (required), UST facility").select_option(
        label="Motor Vehicle Fueling")
    choose(page, "On Indian or trust land (required), UST facility").select_option("N")
    choose(page, "Permit holder (required), UST facility").select_option(label="Tank Owner")
    choose(page, "Tank owner type (required), UST facility").select_option(
        label="Non-Government")
    boe = text(page, "BOE UST storage fee account number (required), UST facility")
    boe.fill("4401234")
    text(page, "Name (required), tank owner, UST facility").fill("Feather River Fuel LLC")
    page.get_by_role("checkbox", name="Insurance, financial responsibility mechanisms, "
                     "UST facility").check()

    # A repeatable group: add two tanks, remove one.
    page.get_by_role("button", name="Add tank").click()
    page.get_by_role("button", name="Add tank").click()
    page.get_by_role("heading", name="Tanks (2)").wait_for()
    page.get_by_role("button", name="Remove tank 2").click()
    page.get_by_role("heading", name="Tanks (1)").wait_for()
    text(page, "Tank ID (required), tank 1").fill("T-1")
    capacity = number(page, "Capacity (gallons) (required), tank 1 (T-1)")
    capacity.fill("0")
    # "Other" brings in its "specify" field, marked required.
    specify = text(page, "Tank use, specify (required), tank 1 (T-1)")
    assert specify.count() == 0
    choose(page, "Tank use (required), tank 1 (T-1)").select_option(label="Other")
    specify.fill("Fire pump day tank")
    # A monitoring method is a group whose presence is the answer.
    page.get_by_role("checkbox", name="Tank: automatic tank gauging, monitoring plan, "
                     "tank 1 (T-1)").check()
    panel = text(page, "ATG panel model, tank: automatic tank gauging, monitoring plan, "
                       "tank 1 (T-1)")
    panel.fill("TLS-450")
    # A document slot.
    slot = page.locator("fieldset.slot", has_text="Certification of financial responsibility")
    slot.get_by_label("How is it provided?").select_option("STORED_AT_FACILITY")

    page.get_by_role("button", name="Save draft").click()
    page.get_by_text(re.compile(r"Draft saved\. \d+ problems must be fixed")).wait_for()
    # The server's findings show inline, next to their fields.
    assert capacity.get_attribute("aria-invalid") == "true"
    assert "must be from 1 to 9,999,999" in page.locator(
        f"#{capacity.get_attribute('aria-describedby')}").inner_text()
    assert "exactly 8 characters" in page.locator(
        f"#{boe.get_attribute('aria-describedby')}").inner_text()
    lead.screen("ust-form")

    capacity.fill("10000")
    boe.fill("44012345")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Draft saved.").first.wait_for()
    page.wait_for_load_state("networkidle")
    assert capacity.get_attribute("aria-invalid") is None
    assert boe.get_attribute("aria-invalid") is None

    # Everything is kept.
    page.reload()
    page.get_by_role("heading", name="Tanks (1)").wait_for()
    assert specify.input_value() == "Fire pump day tank"
    assert panel.input_value() == "TLS-450"

    # A phone: no sideways scrolling.
    page.set_viewport_size({"width": 360, "height": 780})
    assert no_sideways_scrolling(page)
    lead.screenshot("ust-form-phone", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})

    # On paper: the readable view of what was entered, without the form's controls.
    page.emulate_media(media="print")
    assert not page.get_by_role("button", name="Save draft").is_visible()
    view = page.locator(".print-only .element-view")
    assert view.is_visible()
    assert "Fire pump day tank" in view.inner_text()
    lead.screenshot("ust-draft-print")
    page.emulate_media(media="screen")


def _api_ust_submitted_twice(system: RunningSystem, facility_name: str) -> str:
    """A UST submitted, then corrected (a capacity changed, a tank added) and submitted again
    through the API, as another client of the business would; the second one's id."""
    token = sign_in(system, DEMO_USER, DEMO_PASSWORD).access_token
    businesses = system.graphql(FACILITIES, token=token)["data"]["myBusinesses"]["edges"]
    facility = next(f["node"]["id"] for b in businesses
                    for f in b["node"]["facilities"]["edges"]
                    if f["node"]["name"] == facility_name)

    def start(based_on: str) -> dict[str, Any]:
        body = system.graphql(START, {"input": {"facilityId": facility, "element": "UST",
                                                "basedOn": based_on}}, token=token)
        return payload(body, "startSubmittal")["element"]

    def save_and_submit(element_id: str, data: dict[str, Any]) -> None:
        saved = payload(system.graphql(SAVE, {"input": {"id": element_id, "ust": data}},
                                       token=token), "saveDraft")
        assert [f for f in saved["findings"] if f["severity"] == "ERROR"] == [], saved
        payload(system.graphql(SUBMIT, {"input": {"facilityId": facility}}, token=token),
                "submitDrafts")

    save_and_submit(start("BLANK")["id"], UST)
    again = start("LAST_SUBMITTAL")
    data = copy.deepcopy(again["data"])
    data["tanks"][1]["capacityGallons"] = 15_000
    data["tanks"].append(tank("T-3", 6_000, "DIESEL"))
    save_and_submit(again["id"], data)
    return str(again["id"])


def test_a_regulator_reviews_a_ust_field_by_field_with_the_differences_marked_and_prints_it(
    browser: Any, system: RunningSystem,
) -> None:
    element_id = _api_ust_submitted_twice(system, "Feather River Fuel - Portola")
    regulator = Portal(browser, system)
    try:
        regulator.sign_in("demo.plumas", "Demo-Plumas-2026!", portal="regulator")
        page = regulator.page
        page.get_by_role("heading", name="Review queue").wait_for()
        page.get_by_label("Element").select_option("UST")
        row = page.locator("tbody tr", has_text="Feather River Fuel - Portola").last
        row.get_by_role("link", name="UST").click()
        page.wait_for_url(re.compile(rf"/elements/{element_id}"))
        page.get_by_role("heading", name="Review").wait_for()

        view = page.locator(".element-view")
        assert "2 differences from the submittal of" in view.locator(
            "details.differences summary").inner_text()
        new_tank = view.locator(".view-record", has_text="Tank 3 (T-3)")
        assert "New since the previous submission" in new_tank.inner_text()
        capacity = view.locator(".view-record", has_text="Tank 2 (T-2)").locator(
            ".kv.changed", has_text="Capacity (gallons)")
        assert "15,000" in capacity.inner_text() and "(was 12,000)" in capacity.inner_text()
        assert view.locator(".kv", has_text="Tank use").first.inner_text().endswith(
            "Motor Vehicle Fueling")  # a code shows as its label
        regulator.screen("ust-review")

        page.set_viewport_size({"width": 360, "height": 780})
        assert no_sideways_scrolling(page)
        regulator.screenshot("ust-review-phone", full_page=False)
        page.set_viewport_size({"width": 1280, "height": 900})

        page.emulate_media(media="print")
        assert not page.get_by_role("heading", name="Review").is_visible()
        assert not page.locator("header.top").is_visible()
        assert view.locator(".kv.changed").first.is_visible()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pdf = page.pdf(path=str(ARTIFACTS / "ust-review.pdf"))
        assert pdf[:4] == b"%PDF"
        page.emulate_media(media="screen")

        page.get_by_role("radio", name="Accept", exact=True).check()
        page.get_by_role("button", name="Save review").click()
        page.get_by_text("Review saved: Accept.").wait_for()
    finally:
        regulator.close()


@pytest.mark.parametrize("element", [
    "Tiered Permitting", "Recyclable Materials Report", "Remote Waste Consolidation Site",
    "Hazardous Waste Tank Closure Certification", "APSA", "CalARP",
])
def test_every_other_element_is_a_form_with_inline_findings_on_a_phone_and_on_paper(
    lead: Portal, element: str
) -> None:
    page = lead.page
    page.goto("/businesses")
    page.get_by_role("link", name="Feather River Fuel & Supply").click()
    page.get_by_role("link", name="Feather River Fuel - Portola").click()
    page.get_by_role("button", name=f"Start blank {element}", exact=True).click()
    page.wait_for_url(re.compile(r"/elements/"))
    page.get_by_role("button", name="Save draft").click()
    # A blank form is saved with its findings shown at the fields they concern.
    page.get_by_text(re.compile(r"Draft saved\. \d+ problems? must be fixed")).wait_for()
    page.wait_for_load_state("networkidle")
    # Each finding of the summary is also shown where it belongs in the form.
    summary = page.get_by_text(re.compile(r"^Error: ")).all_inner_texts()
    assert summary
    for line in summary:
        message = re.sub(r"^Error: |\s*\([^()]*\)$", "", line).strip()
        # Beside its field the message drops the "Where: " the form already shows.
        beside = re.sub(r"^[^.:]*?: ", "", message)
        assert page.locator(".field-error", has_text=beside[:40]).count() >= 1, line
    lead.screen(f"form-{element.lower().replace(' ', '-')}")

    page.set_viewport_size({"width": 360, "height": 780})
    assert no_sideways_scrolling(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    # On paper the form's controls give way to the readable view.
    page.emulate_media(media="print")
    assert not page.get_by_role("button", name="Save draft").is_visible()
    page.emulate_media(media="screen")
