"""Temporary lockout after repeated wrong passwords, and what a sign-in attempt concludes.

The clock is passed in, so tests move time instead of waiting for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class FailureState:
    """What an account remembers about its recent wrong passwords."""

    failed_count: int = 0
    first_failed_at: datetime | None = None
    locked_until: datetime | None = None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and as_utc(self.locked_until) > now

    def after_failure(self, policy: LockoutPolicy, now: datetime) -> FailureState:
        start = self.first_failed_at
        if start is None or now - as_utc(start) > policy.window:
            count, start = 1, now
        else:
            count = self.failed_count + 1
        if count >= policy.max_failures:
            return FailureState(0, None, now + policy.lock_for)
        return FailureState(count, start, self.locked_until)

    @staticmethod
    def cleared() -> FailureState:
        return FailureState()


class SignInOutcome(StrEnum):
    OK = "ok"
    # Only these three are distinguishable to the user, and only after the right password.
    NOT_ACTIVATED = "not_activated"
    LOCKED = "locked"
    WRONG_PORTAL = "wrong_portal"
    # Unknown user, wrong password, deactivated account: one and the same answer.
    INVALID = "invalid"


def as_utc(value: datetime) -> datetime:
    # SQLite hands datetimes back naive; every stored time is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
