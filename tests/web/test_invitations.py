"""The invitation link a lead user's "Add person" emails, opened in chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.system import RunningSystem, eventually
from tests.web.conftest import Portal, mail_link

pytestmark = [pytest.mark.needs_node, pytest.mark.needs_chromium]

DEMO_USER, DEMO_PASSWORD = "demo.business", "Demo-Business-2026!"
BUSINESS = "Feather River Fuel & Supply"


@pytest.fixture
def lead(browser: Any, system: RunningSystem) -> Iterator[Portal]:
    portal = Portal(browser, system)
    portal.sign_in(DEMO_USER, DEMO_PASSWORD)
    yield portal
    portal.close()


def invite(lead: Portal, email: str) -> Any:
    page = lead.page
    page.goto("/businesses")
    page.get_by_role("link", name=BUSINESS).click()
    page.get_by_role("link", name="People").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Permission level", exact=True).select_option("VIEWER")
    page.get_by_role("button", name="Add person").click()
    page.get_by_text(f"An invitation is emailed to {email}.").wait_for()
    return page


def register_and_activate(portal: Portal, username: str, email: str, password: str) -> None:
    page = portal.page
    page.goto("/signup?portal=business")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_label("First name").fill(username.split(".")[0].title())
    page.get_by_label("Last name").fill(username.split(".")[1].title())
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    link = mail_link(portal.system, email, "/account/activate")
    page.goto(link.replace("/account/activate", "/activate"))
    page.get_by_role("button", name="Activate").click()
    page.get_by_role("heading", name="Your account is active").wait_for()


def sign_in_from_invitation(portal: Portal, username: str, password: str) -> Any:
    page = portal.page
    page.get_by_role("heading", name="Accept your invitation").wait_for()
    page.get_by_role("button", name="Sign in to the Business Portal").click()
    page.get_by_label("User name").fill(username)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Next").click()
    # Back on the very link from the email, now signed in.
    page.wait_for_url(re.compile(r"/invitations/accept\?token="))
    page.get_by_role("heading", name="What you are accepting").wait_for()
    return page


def test_an_invitee_registered_with_the_invited_email_finds_the_link_used_and_the_business(
    browser: Any, system: RunningSystem, lead: Portal,
) -> None:
    lead_page = invite(lead, "jordan.invited@example.com")
    invitation = mail_link(system, "jordan.invited@example.com", "/invitations/accept")

    invitee = Portal(browser, system, width=360)
    register_and_activate(invitee, "jordan.invited", "jordan.invited@example.com",
                          "Plumas-County-Diesel-42")
    # Activation with the invited (now verified) address redeems the invitation by itself: the
    # lead user's People list shows the address as a member (with Remove) instead of an invitation.
    member = lead_page.locator("tr", has_text="jordan.invited@example.com").filter(
        has=lead_page.get_by_role("button", name="Remove"))

    def accepted() -> bool:
        lead_page.reload()
        # The h2 carries the count, so it stands only once the list has loaded.
        lead_page.get_by_role("heading", level=2, name=re.compile(r"^People \(")).wait_for()
        return bool(member.count() == 1)

    eventually(accepted, timeout=20)

    page = invitee.page
    page.goto(invitation)
    invitee.screen("invitation-sign-in")
    sign_in_from_invitation(invitee, "jordan.invited", "Plumas-County-Diesel-42")
    assert page.get_by_text("jordan.invited@example.com").first.is_visible()
    invitee.screen("invitation-accept")
    page.get_by_role("button", name="Accept invitation").click()
    page.get_by_role("heading", name="Invitation not accepted").wait_for()
    page.get_by_text("Already accepted?").wait_for()
    page.get_by_role("heading", name="Your businesses").wait_for()
    page.get_by_role("link", name=BUSINESS).wait_for()
    assert page.get_by_text("your level: viewer").is_visible()
    invitee.screen("invitation-already-used")
    # 360 px wide: nothing forces sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("link", name=BUSINESS).click()
    page.get_by_role("heading", level=1, name=BUSINESS).wait_for()
    invitee.close()


def test_a_user_accepts_an_invitation_sent_to_another_address_and_the_link_stops_working(
    browser: Any, system: RunningSystem, lead: Portal,
) -> None:
    invitee = Portal(browser, system)
    register_and_activate(invitee, "casey.ops", "casey.home@example.com", "Lassen-Hazmat-Desk-19")
    invite(lead, "casey.work@example.com")
    invitation = mail_link(system, "casey.work@example.com", "/invitations/accept")

    page = invitee.page
    page.goto(invitation)
    sign_in_from_invitation(invitee, "casey.ops", "Lassen-Hazmat-Desk-19")
    page.get_by_role("button", name="Accept invitation").click()
    page.get_by_role("heading", name="Invitation accepted").wait_for()
    page.get_by_text(f"You now have viewer access to {BUSINESS}.").wait_for()
    invitee.screen("invitation-accepted")
    page.get_by_role("link", name=f"Open {BUSINESS}").click()
    page.get_by_role("heading", level=1, name=BUSINESS).wait_for()
    assert page.locator("table.facilities tbody tr").count() > 0

    # The link works once; a mistyped one and one without a token say what to do instead.
    for link in (invitation, "/invitations/accept?token=not-a-real-invitation"):
        page.goto(link)
        page.get_by_role("button", name="Accept invitation").click()
        page.get_by_text("This invitation link cannot be used.").wait_for()
        page.get_by_text("Open the newest invitation email").wait_for()
        page.get_by_role("link", name=BUSINESS).wait_for()
    page.goto("/invitations/accept")
    page.get_by_text("This link has no invitation token.").wait_for()
    invitee.close()


def test_an_invitation_link_opened_without_signing_in_offers_business_sign_in_and_registration(
    browser: Any, system: RunningSystem,
) -> None:
    visitor = Portal(browser, system)
    page = visitor.open("/invitations/accept?token=whatever")
    page.get_by_role("heading", name="Sign in to accept").wait_for()
    page.get_by_role("link", name="New Account").click()
    page.get_by_role("heading", name="New Business Portal account").wait_for()
    visitor.close()
