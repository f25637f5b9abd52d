"""Checking a user name and password at the sign-in page, with lockout.

Every failure before the password is proven right reads the same (``INVALID``): unknown user,
wrong password, a locked account with a wrong password. Only the account's owner, having typed
the right password, learns that it is locked, not yet activated, or on the other portal.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.identity.adapters import repository as repo
from services.identity.adapters.tables import SignInSession, User
from services.identity.domain.accounts import Status
from services.identity.domain.lockout import FailureState, SignInOutcome, as_utc
from services.identity.domain.passwords import verify_password
from services.identity.domain.tokens import hash_secret
from services.identity.service_layer.deps import Deps

SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class SignInResult:
    outcome: SignInOutcome
    user: User | None = None
    locked_until: datetime | None = None
    locked_now: bool = False  # this very attempt locked the account


def _state(user: User) -> FailureState:
    return FailureState(user.failed_count, user.first_failed_at, user.locked_until)


async def check_credentials(deps: Deps, username: str, password: str, portal: str) -> SignInResult:
    async with deps.db.read() as session:
        user = await repo.user_by_username(session, username)
    password_hash = user.password_hash if user else None
    # Always one argon2 verification, so timing does not tell known from unknown names.
    correct = await asyncio.to_thread(verify_password, password_hash, password)
    if user is None or user.status == Status.DEACTIVATED.value:
        return SignInResult(SignInOutcome.INVALID)
    now = deps.clock()
    async with deps.db.transaction() as session:
        fresh = await repo.user_by_id(session, user.id)
        assert fresh is not None
        state = _state(fresh)
        if not correct:
            locked_now = False
            if not state.is_locked(now):
                after = state.after_failure(deps.lockout, now)
                fresh.failed_count = after.failed_count
                fresh.first_failed_at = after.first_failed_at
                fresh.locked_until = after.locked_until
                locked_now = after.is_locked(now)
            return SignInResult(SignInOutcome.INVALID, locked_now=locked_now)
        if state.is_locked(now):
            assert fresh.locked_until is not None
            return SignInResult(SignInOutcome.LOCKED, fresh, as_utc(fresh.locked_until))
        fresh.failed_count, fresh.first_failed_at, fresh.locked_until = 0, None, None
    if fresh.status == Status.PENDING.value:
        return SignInResult(SignInOutcome.NOT_ACTIVATED, fresh)
    if fresh.portal != portal:
        return SignInResult(SignInOutcome.WRONG_PORTAL, fresh)
    return SignInResult(SignInOutcome.OK, fresh)


async def start_session(deps: Deps, user: User) -> str:
    """Open a sign-in session; the returned secret goes in a cookie, only its hash is stored."""
    cookie = secrets.token_urlsafe(32)
    now = deps.clock()
    async with deps.db.transaction() as session:
        session.add(
            SignInSession(
                id=hash_secret(cookie), user_id=user.id, portal=user.portal,
                created_at=now, expires_at=now + SESSION_LIFETIME,
            )
        )
    return cookie


async def current_session(deps: Deps, session_id: str | None) -> tuple[SignInSession, User] | None:
    """The live sign-in session behind a cookie, with its (still active) user."""
    if not session_id:
        return None
    async with deps.db.read() as session:
        row = await session.get(SignInSession, hash_secret(session_id))
        if row is None or row.ended_at is not None or as_utc(row.expires_at) <= deps.clock():
            return None
        user = await repo.user_by_id(session, row.user_id)
    if user is None or user.status != Status.ACTIVE.value:
        return None
    return row, user
