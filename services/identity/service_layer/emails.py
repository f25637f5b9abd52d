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
