"""What a signed-in person changes about their own account: profile, password, closing it.

A changed email address is only a pending one until its owner opens the link sent to it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from common.auth import AuthError, Principal
from common.closed_accounts import CLOSED_MESSAGE, Admit
from common.contracts import identity as contract
from common.db import recall, remember
from services.identity.adapters import repository as repo
from services.identity.adapters.tables import User
from services.identity.domain.accounts import (
    Problem,
    Status,
    check_email,
    check_password,
    check_profile,
    normalize_email,
)
from services.identity.domain.passwords import hash_password, verify_password
from services.identity.domain.tokens import EmailTokenPurpose
from services.identity.service_layer import emails
from services.identity.service_layer.accounts import (
    Result,
    issue_token,
    updated_event,
    write_event,
)
from services.identity.service_layer.deps import Deps


@dataclass(frozen=True)
class ProfileChange:
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    phone: str | None = None
    email: str | None = None


async def update_profile(deps: Deps, user_id: str, change: ProfileChange) -> Result:
    now = deps.clock()
    secret: str | None = None
    async with deps.db.transaction() as session:
        user = await repo.user_by_id(session, user_id)
        if user is None or user.status != Status.ACTIVE.value:
            return Result(problems=[Problem("", "NOT_FOUND", "Your account is not active.")])
        values: dict[str, str | None] = {
            "first_name": change.first_name if change.first_name is not None else user.first_name,
            "last_name": change.last_name if change.last_name is not None else user.last_name,
            "title": change.title if change.title is not None else user.title,
            "phone": change.phone if change.phone is not None else user.phone,
        }
        problems = check_profile(
            first_name=values["first_name"] or "", last_name=values["last_name"] or "",
            title=values["title"], phone=values["phone"],
        )
        new_email = change.email.strip() if change.email is not None else None
        owner = None
        if new_email is not None and normalize_email(new_email) != user.email_key:
            problems += check_email(new_email)
            # Like sign-up, an address another account uses is not reported (that would tell
            # any signed-in person which addresses are registered): it stays pending forever,
            # and its owner is told instead of being sent a link.
            owner = None if problems else await repo.user_by_email(session, new_email)
        else:
            new_email = None
        if problems:
            return Result(problems=problems)
        changed = []
        for name, value in values.items():
            value = value.strip() or None if isinstance(value, str) else value
            if name in ("first_name", "last_name"):
                value = value or getattr(user, name)
            if value != getattr(user, name):
                setattr(user, name, value)
                changed.append(name)
        if changed:
            user.updated_at = now
            await updated_event(session, user, changed, now)
        if new_email:
            user.pending_email = new_email
            if owner is None:
                secret = await issue_token(
                    session, deps, user, EmailTokenPurpose.EMAIL_CHANGE, email=new_email
                )
            else:
                await repo.spend_open_tokens(session, user.id, EmailTokenPurpose.EMAIL_CHANGE,
                                             now)
    if secret and user.pending_email:
        await emails.send_email_change(deps, user.pending_email, user.username, secret)
    elif owner is not None:
        await emails.send_address_in_use(deps, owner.email, owner.username)
    return Result(user=user)


async def change_password(deps: Deps, user_id: str, current: str, new: str) -> Result:
    async with deps.db.read() as session:
        user = await repo.user_by_id(session, user_id)
    if user is None or user.status != Status.ACTIVE.value:
        return Result(problems=[Problem("", "NOT_FOUND", "Your account is not active.")])
    if not await asyncio.to_thread(verify_password, user.password_hash, current):
        return Result(problems=[
            Problem("currentPassword", "WRONG_PASSWORD", "Your current password is not right.")
        ])
    problems = check_password(new, username=user.username, email=user.email,
                              field="newPassword")
    if problems:
        return Result(problems=problems)
    password_hash = await asyncio.to_thread(hash_password, new)
    async with deps.db.transaction() as session:
        user = await repo.user_by_id(session, user_id)
        assert user is not None
        user.password_hash, user.updated_at = password_hash, deps.clock()
    return Result(user=user)


async def deactivate(deps: Deps, user_id: str, password: str) -> Result:
    async with deps.db.read() as session:
        user = await repo.user_by_id(session, user_id)
    if user is None or user.status == Status.DEACTIVATED.value:
        return Result(problems=[Problem("", "NOT_FOUND", "This account is already closed.")])
    if not await asyncio.to_thread(verify_password, user.password_hash, password):
        return Result(problems=[
            Problem("password", "WRONG_PASSWORD", "Your password is not right.")
        ])
    now = deps.clock()
    async with deps.db.transaction() as session:
        user = await repo.user_by_id(session, user_id)
        assert user is not None
        user.status, user.deactivated_at, user.updated_at = Status.DEACTIVATED.value, now, now
        await repo.revoke_user_refresh_tokens(session, user.id, now)
        await repo.end_user_sessions(session, user.id, now)
        await write_event(session, contract.USER_DEACTIVATED, user, contract.UserDeactivated(
            user_id=user.id, deactivated_at=now,
        ), actor=user.id)
    return Result(user=user)


def refuse_closed_accounts(deps: Deps) -> Admit:
    """The GraphQL ``admit`` hook: a closed account's unexpired token is refused at once.

    It reads the caller's whole row (the statement the users loader runs) and keeps it for
    the rest of the request (``admitted_user``): ``me`` and the caller among other users are
    then answered without reading it again."""

    async def admit(principal: Principal) -> None:
        if principal.user_id is None:
            return
        async with deps.db.read(leaf=True) as session:
            user = (await repo.users_by_ids(session, [principal.user_id])).get(
                principal.user_id)
        if user is not None and user.status == Status.DEACTIVATED.value:
            raise AuthError(CLOSED_MESSAGE)
        remember(deps.db, ("user", principal.user_id), (user,))

    return admit


def admitted_user(deps: Deps, user_id: str) -> tuple[User | None] | None:
    """``(row,)`` of the caller ``refuse_closed_accounts`` read in this request (``(None,)``
    for no such account), or None when it did not (or the request has written since)."""
    kept: tuple[User | None] | None = recall(deps.db, ("user", user_id))
    return kept
