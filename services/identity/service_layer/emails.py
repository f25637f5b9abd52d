"""The emails identity sends. Plain text first: it reads well everywhere."""

from __future__ import annotations

import logging

from services.identity.service_layer.deps import Deps

log = logging.getLogger(__name__)

PORTAL_NAMES = {"business": "Business Portal", "regulator": "Regulator Portal", "state": "State"}


async def _send(deps: Deps, to: str, subject: str, text: str) -> None:
    try:
        await deps.mailer.send(to, subject, text)
    except Exception:  # noqa: BLE001 - the change is committed; the user can ask again
        log.exception("could not send %r to %s; the user can request it again", subject, to)


async def send_activation(deps: Deps, to: str, username: str, portal: str, secret: str) -> None:
    link = deps.link(f"/account/activate?token={secret}")
    await _send(
        deps,
        to,
        "Activate your CERS account",
        f"Hello {username},\n\n"
        f"An account was created for you on the CERS {PORTAL_NAMES.get(portal, portal)}.\n"
        f"Open this link within 24 hours to activate it:\n\n{link}\n\n"
        "The link works once. If you did not sign up, ignore this email.\n",
    )


async def send_usernames(deps: Deps, to: str, usernames: list[str]) -> None:
    names = "\n".join(f"  - {name}" for name in usernames)
    await _send(
        deps,
        to,
        "Your CERS user name",
        f"You asked for the user names tied to this email address:\n\n{names}\n\n"
        f"Sign in at {deps.public_base_url}/\n",
    )


async def send_password_reset(deps: Deps, to: str, username: str, secret: str) -> None:
    link = deps.link(f"/account/reset?token={secret}")
    await _send(
        deps,
        to,
        "Reset your CERS password",
        f"Hello {username},\n\nOpen this link within 1 hour to choose a new password:\n\n"
        f"{link}\n\nThe link works once. If you did not ask for this, ignore this email; "
        "your password stays as it is.\n",
    )


async def send_email_change(deps: Deps, to: str, username: str, secret: str) -> None:
    link = deps.link(f"/account/confirm-email?token={secret}")
    await _send(
        deps,
        to,
        "Confirm your new CERS email address",
        f"Hello {username},\n\nOpen this link within 24 hours to use this address for your "
        f"CERS account:\n\n{link}\n\nUntil then your previous address stays in use.\n",
    )


async def send_registration_attempt(
    deps: Deps, to: str, username: str, portal: str, status: str, reset_secret: str | None,
    activation_secret: str | None,
) -> None:
    """Someone signed up with an address that already has an account. Only the mailbox owner
    learns that; the sign-up itself answered as for a new address."""
    lines = [
        "Someone just tried to create a new CERS account with this email address, which "
        f"already belongs to the account with user name {username} on the "
        f"{PORTAL_NAMES.get(portal, portal)}.",
        "",
    ]
    if activation_secret:
        lines += [
            "That account is not activated yet. To activate it, open this link within 24 "
            "hours:", "", deps.link(f"/account/activate?token={activation_secret}"), "",
        ]
    elif reset_secret:
        lines += [f"If it was you, sign in instead: {deps.link('/')}", ""]
    if reset_secret:
        lines += [
            "Forgot your password? Choose a new one with this link within 1 hour (it works "
            "once):", "", deps.link(f"/account/reset?token={reset_secret}"), "",
        ]
    if not reset_secret:
        lines += [
            "That account is closed, so this address cannot be used for a new account. Sign "
            "up with another address.", "",
        ]
    lines.append("If this was not you, ignore this email: nothing was changed and no new "
                 "account was created.")
    await _send(deps, to, "Someone tried to sign up with your CERS email address",
                "\n".join(lines) + "\n")


async def send_address_in_use(deps: Deps, to: str, username: str) -> None:
    """Another account asked to use this address; it stays this account's."""
    await _send(
        deps,
        to,
        "Someone asked to use your CERS email address",
        f"Hello {username},\n\nA signed-in CERS user asked to change their account's email "
        "address to this one. It already belongs to your account, so nothing changed and "
        "their change will never take effect.\n\nIf you want to move this address to another "
        "account, first give your own account another address.\n",
    )
