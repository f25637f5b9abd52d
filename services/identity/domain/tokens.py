"""Secrets sent by email or handed to clients: random, single-use, and stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from enum import StrEnum


class EmailTokenPurpose(StrEnum):
    ACTIVATION = "activation"
    PASSWORD_RESET = "password_reset"
    EMAIL_CHANGE = "email_change"


LIFETIMES = {
    EmailTokenPurpose.ACTIVATION: timedelta(hours=24),
    EmailTokenPurpose.PASSWORD_RESET: timedelta(hours=1),
    EmailTokenPurpose.EMAIL_CHANGE: timedelta(hours=24),
}


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    # The secrets are 256 random bits, so a fast hash is enough; no salt or stretching needed.
    return hashlib.sha256(secret.encode()).hexdigest()
