"""Payloads of the events identity publishes on the IDENTITY stream (subjects ``identity.user.*``).

Producer (identity) and consumers (facility) both validate with these models. ``email`` is
always a verified address: an unverified change never appears in an event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

Portal = Literal["business", "regulator", "state"]

USER_REGISTERED = "identity.user.registered"
USER_ACTIVATED = "identity.user.activated"
USER_UPDATED = "identity.user.updated"
USER_DEACTIVATED = "identity.user.deactivated"


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class UserRegistered(_Payload):
    """An account was created; it cannot sign in until activated. No email yet: unverified."""

    user_id: str
    username: str
    portal: Portal
    first_name: str
    last_name: str
    registered_at: datetime


class UserActivated(_Payload):
    """The owner proved the email address; from now on it is the account's verified email."""

    user_id: str
    username: str
    portal: Portal
    email: str
    first_name: str
    last_name: str
    activated_at: datetime


class UserUpdated(_Payload):
    """Profile changed, or a new email address was verified (``email`` is the verified one)."""

    user_id: str
    username: str
    email: str
    first_name: str
    last_name: str
    title: str | None = None
    changed: list[str]
    updated_at: datetime


class UserDeactivated(_Payload):
    """The account was closed by its owner; it can no longer sign in."""

    user_id: str
    deactivated_at: datetime


EVENT_MODELS: dict[str, type[_Payload]] = {
    USER_REGISTERED: UserRegistered,
    USER_ACTIVATED: UserActivated,
    USER_UPDATED: UserUpdated,
    USER_DEACTIVATED: UserDeactivated,
}
