"""Password hashing (argon2id) and the bundled list of common passwords."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@dataclass(frozen=True)
class HashCost:
    """argon2id cost. The default is RFC 9106's second recommended option (64 MiB, t=3, p=4);
    OWASP's floor is 19 MiB, t=2, p=1. Stored hashes carry their own cost, so changing it
    never breaks existing passwords."""

    memory_kib: int = 65536
    time_cost: int = 3
    parallelism: int = 4


class _Hashing:
    def __init__(self, cost: HashCost) -> None:
        self.cost = cost
        self.hasher = PasswordHasher(
            time_cost=cost.time_cost, memory_cost=cost.memory_kib,
            parallelism=cost.parallelism, type=Type.ID,
        )
        # Verifying against this keeps an unknown user name as slow as a known one.
        self.dummy = self.hasher.hash("unknown-user-placeholder-password")


_hashing = _Hashing(HashCost())


def configure(cost: HashCost) -> None:
    """Set the cost of new hashes (once, at start)."""
    global _hashing
    if cost != _hashing.cost:
        _hashing = _Hashing(cost)


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
    return _hashing.hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Verify in constant-ish time; an absent hash still costs one verification."""
    try:
        hashing = _hashing
        return hashing.hasher.verify(password_hash or hashing.dummy, password) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False
