"""Account rules: what a valid user name, email, profile and password are.

Each check answers a list of ``Problem`` so a caller can report every mistake at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from services.identity.domain.passwords import is_common_password

USERNAME_RE = re.compile(r"^[A-Za-z0-9._@-]{3,64}$")
# Deliberately loose: the activation email is the real proof an address works.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
NAME_MAX = 80
TITLE_MAX = 50
PHONE_MAX = 25
EMAIL_MAX = 254


class Portal(StrEnum):
    BUSINESS = "business"
    REGULATOR = "regulator"
    STATE = "state"


class Status(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    message: str


def normalize_username(username: str) -> str:
    return username.strip().lower()


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_username(username: str, field: str = "username") -> list[Problem]:
    if not USERNAME_RE.match(username):
        return [
            Problem(
                field,
                "INVALID_USERNAME",
                "A user name has 3 to 64 characters: letters, digits, '.', '_', '@' or '-'.",
            )
        ]
    return []


def check_email(email: str, field: str = "email") -> list[Problem]:
    if len(email) > EMAIL_MAX or not EMAIL_RE.match(email.strip()):
        return [Problem(field, "INVALID_EMAIL", "Enter an email address like name@example.com.")]
    return []


def check_password(
    password: str, *, username: str = "", email: str = "", field: str = "password"
) -> list[Problem]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return [
            Problem(
                field,
                "PASSWORD_TOO_SHORT",
                f"Use at least {MIN_PASSWORD_LENGTH} characters; a few words together work well.",
            )
        ]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [
            Problem(field, "PASSWORD_TOO_LONG", f"Use at most {MAX_PASSWORD_LENGTH} characters.")
        ]
    if is_common_password(password):
        return [
            Problem(
                field,
                "PASSWORD_TOO_COMMON",
                "This password is on a list of commonly used passwords; choose another.",
            )
        ]
    lowered = password.lower()
    personal = [username.strip().lower()]
    if email.strip():
        local = email.strip().lower().split("@", 1)[0]
        personal += [email.strip().lower(), local]
    if any(len(p) >= 3 and p in lowered for p in personal):
        return [
            Problem(
                field,
                "PASSWORD_CONTAINS_PERSONAL_DATA",
                "The password must not contain your user name or email address.",
            )
        ]
    return []


def check_profile(
    *, first_name: str, last_name: str, title: str | None, phone: str | None
) -> list[Problem]:
    problems: list[Problem] = []
    for field, value in (("firstName", first_name), ("lastName", last_name)):
        if not value.strip():
            problems.append(Problem(field, "REQUIRED", "This field is required."))
        elif len(value) > NAME_MAX:
            problems.append(Problem(field, "TOO_LONG", f"Use at most {NAME_MAX} characters."))
    if title is not None and len(title) > TITLE_MAX:
        problems.append(Problem("title", "TOO_LONG", f"Use at most {TITLE_MAX} characters."))
    if phone is not None and phone.strip():
        if len(phone) > PHONE_MAX or not re.fullmatch(r"[0-9+()\-. x]{7,25}", phone.strip()):
            problems.append(
                Problem("phone", "INVALID_PHONE", "Enter a phone number like (530) 555-0100.")
            )
    return problems
