"""Password hashing (argon2id) and the bundled list of common passwords."""

from __future__ import annotations

import functools
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

_hasher = PasswordHasher(type=Type.ID)
# Verifying against this keeps an unknown user name as slow as a known one.
_DUMMY_HASH = _hasher.hash("unknown-user-placeholder-password")


@functools.cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def is_common_password(password: str) -> bool:
    lowered = password.lower()
    if lowered in _common_passwords():
        return True
    # "password1234!" is as weak as "password": strip the usual decorations too.
    stripped = lowered.rstrip("0123456789!@#$%^&*.?_- ")
    return bool(stripped) and stripped in _common_passwords() and len(stripped) < 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Verify in constant-ish time; an absent hash still costs one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False
