"""The "forgot" flows. Each answers the same whether or not an account exists; only the
mailbox owner learns anything."""

from __future__ import annotations

import asyncio

from services.identity.adapters import repository as repo
from services.identity.domain.accounts import Problem, Status, check_password
from services.identity.domain.passwords import hash_password
from services.identity.domain.tokens import EmailTokenPurpose
from services.identity.service_layer import emails
from services.identity.service_layer.accounts import (
    ALREADY_USED,
    Result,
    issue_token,
    token_problem,
)
from services.identity.service_layer.deps import Deps


async def resend_activation(deps: Deps, email: str) -> None:
    async with deps.db.transaction() as session:
        user = await repo.user_by_email(session, email)
        if user is None or user.status != Status.PENDING.value:
            return
        secret = await issue_token(session, deps, user, EmailTokenPurpose.ACTIVATION)
    await emails.send_activation(deps, user.email, user.username, user.portal, secret)


async def recover_username(deps: Deps, email: str) -> None:
    async with deps.db.read() as session:
        user = await repo.user_by_email(session, email)
    if user is None or user.status == Status.DEACTIVATED.value:
        return
    await emails.send_usernames(deps, user.email, [user.username])


async def request_password_reset(deps: Deps, username_or_email: str) -> None:
    async with deps.db.transaction() as session:
        user = await repo.user_by_username_or_email(session, username_or_email)
        if user is None or user.status == Status.DEACTIVATED.value:
            return
        secret = await issue_token(session, deps, user, EmailTokenPurpose.PASSWORD_RESET)
    await emails.send_password_reset(deps, user.email, user.username, secret)


async def reset_password(deps: Deps, secret: str, new_password: str) -> Result:
    """Set a new password from a reset link; every refresh token of the account dies with it."""
    async with deps.db.read() as session:
        token = await repo.email_token(session, secret, [EmailTokenPurpose.PASSWORD_RESET])
        if problem := token_problem(token, deps):
            return Result(problems=[problem])
        assert token is not None
        user = await repo.user_by_id(session, token.user_id)
    if user is None or user.status == Status.DEACTIVATED.value:
        return Result(problems=[Problem("token", "INVALID_TOKEN", "This account is closed.")])
    problems = check_password(
        new_password, username=user.username, email=user.email, field="newPassword"
    )
    if problems:
        return Result(problems=problems)
    password_hash = await asyncio.to_thread(hash_password, new_password)
    now = deps.clock()
    async with deps.db.transaction() as session:
        # Re-read under the write lock: two tabs racing with one link must not both win.
        token = await repo.email_token(session, secret, [EmailTokenPurpose.PASSWORD_RESET])
        if problem := token_problem(token, deps):
            return Result(problems=[problem])
        assert token is not None
        if not await repo.claim_email_token(session, token.id, now):
            return Result(problems=[ALREADY_USED])
        user = await repo.user_by_id(session, token.user_id)
        assert user is not None
        user.password_hash, user.updated_at = password_hash, now
        # Proving the mailbox is enough to lift a lockout.
        user.failed_count, user.first_failed_at, user.locked_until = 0, None, None
        await repo.revoke_user_refresh_tokens(session, user.id, now)
        await repo.end_user_sessions(session, user.id, now)
    return Result(user=user)
