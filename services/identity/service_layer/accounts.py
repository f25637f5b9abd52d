"""Account use cases: sign up and activation (also of a changed email address).

Each handler runs in one transaction (nothing half-done stays behind) and writes its event
to the outbox in that transaction. Emails go out after the commit, so a rolled-back change
never mails anyone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from common.contracts import identity as contract
from common.events import record_event
from services.identity.adapters import repository as repo
from services.identity.adapters.tables import EVENTS, EmailToken, User
from services.identity.domain.accounts import (
    Portal,
    Problem,
    Status,
    check_email,
    check_password,
    check_profile,
    check_username,
    normalize_email,
    normalize_username,
)
from services.identity.domain.lockout import as_utc
from services.identity.domain.passwords import hash_password
from services.identity.domain.tokens import LIFETIMES, EmailTokenPurpose, hash_secret, new_secret
from services.identity.service_layer import emails
from services.identity.service_layer.deps import Deps

ALREADY_USED = Problem(
    "token", "INVALID_TOKEN", "This link was already used. Ask for a new one."
)


@dataclass
class Result:
    user: User | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Registration:
    portal: str
    username: str
    email: str
    password: str
    first_name: str
    last_name: str
    title: str | None = None
    phone: str | None = None


EMAIL_TAKEN = Problem("email", "EMAIL_TAKEN", "An account already uses this email address.")
USERNAME_TAKEN = Problem("username", "USERNAME_TAKEN", "This user name is taken; choose another.")


async def issue_token(
    session: AsyncSession, deps: Deps, user: User, purpose: EmailTokenPurpose,
    email: str | None = None,
) -> str:
    now = deps.clock()
    await repo.spend_open_tokens(session, user.id, purpose, now)
    secret = new_secret()
    session.add(
        EmailToken(
            token_hash=hash_secret(secret), user_id=user.id, purpose=purpose.value,
            email=email, created_at=now, expires_at=now + LIFETIMES[purpose],
        )
    )
    return secret


async def write_event(session: AsyncSession, type: str, user: User, data: Any, actor: str) -> None:
    await record_event(
        session, EVENTS, type=type, aggregate_id=user.id,
        data=data.model_dump(mode="json"), actor=actor,
    )


async def register(deps: Deps, reg: Registration, *, allow_state: bool = False) -> Result:
    allowed = {Portal.BUSINESS.value, Portal.REGULATOR.value}
    if allow_state:
        allowed.add(Portal.STATE.value)
    problems: list[Problem] = []
    if reg.portal not in allowed:
        problems.append(Problem("portal", "INVALID_PORTAL", "Choose BUSINESS or REGULATOR."))
    problems += check_username(reg.username)
    problems += check_email(reg.email)
    problems += check_password(reg.password, username=reg.username, email=reg.email)
    problems += check_profile(
        first_name=reg.first_name, last_name=reg.last_name, title=reg.title, phone=reg.phone
    )
    if problems:
        return Result(problems=problems)
    # Hashed before anything is looked up, so a taken address costs the same time as a new one.
    password_hash = await asyncio.to_thread(hash_password, reg.password)
    now = deps.clock()
    user = User(
        username=reg.username.strip(), username_key=normalize_username(reg.username),
        email=reg.email.strip(), email_key=normalize_email(reg.email),
        first_name=reg.first_name.strip(), last_name=reg.last_name.strip(),
        title=(reg.title or "").strip() or None, phone=(reg.phone or "").strip() or None,
        portal=reg.portal, status=Status.PENDING.value, password_hash=password_hash,
        created_at=now, updated_at=now,
    )
    try:
        async with deps.db.transaction() as session:
            if taken := await _taken(session, user):
                return Result(problems=[taken])
            session.add(user)
            await session.flush()
            secret = await issue_token(session, deps, user, EmailTokenPurpose.ACTIVATION)
            await write_event(session, contract.USER_REGISTERED, user, contract.UserRegistered(
                user_id=user.id, username=user.username, portal=reg.portal,
                first_name=user.first_name, last_name=user.last_name, registered_at=now,
            ), actor=user.id)
    except IntegrityError:
        # Another sign-up took the name or the address between our check and our insert.
        async with deps.db.read() as session:
            taken = await _taken(session, user)
        return Result(problems=[taken or USERNAME_TAKEN])
    await emails.send_activation(deps, user.email, user.username, user.portal, secret)
    return Result(user=user)


async def _taken(session: AsyncSession, user: User) -> Problem | None:
    """The user name first: reporting it says nothing about anyone's email address."""
    if await repo.user_by_username(session, user.username_key):
        return USERNAME_TAKEN
    if await repo.user_by_email(session, user.email_key):
        return EMAIL_TAKEN
    return None


async def sign_up(deps: Deps, reg: Registration) -> Result:
    """Registration as the public sees it: an address already in use gets the same answer as
    a new one ("check your email"), and its owner gets an email about the attempt instead of
    an activation link. A taken user name is still reported: people must pick another."""
    result = await register(deps, reg)
    if result.problems != [EMAIL_TAKEN]:
        return result
    await notify_registration_attempt(deps, reg.email)
    return Result()


async def notify_registration_attempt(deps: Deps, email: str) -> None:
    async with deps.db.transaction() as session:
        user = await repo.user_by_email(session, email)
        if user is None:
            return
        reset = activation = None
        if user.status != Status.DEACTIVATED.value:
            reset = await issue_token(session, deps, user, EmailTokenPurpose.PASSWORD_RESET)
        if user.status == Status.PENDING.value:
            activation = await issue_token(session, deps, user, EmailTokenPurpose.ACTIVATION)
    await emails.send_registration_attempt(
        deps, user.email, user.username, user.portal, user.status, reset, activation
    )


def token_problem(token: EmailToken | None, deps: Deps, field: str = "token") -> Problem | None:
    if token is None or token.used_at is not None:
        return Problem(
            field, "INVALID_TOKEN",
            "This link is not valid or was already used. Ask for a new one.",
        )
    if as_utc(token.expires_at) <= deps.clock():
        return Problem(field, "EXPIRED_TOKEN", "This link has expired. Ask for a new one.")
    return None


async def activate(deps: Deps, secret: str) -> Result:
    """Redeem an activation link, or the link that confirms a changed email address."""
    now = deps.clock()
    confirm_email = False
    async with deps.db.transaction() as session:
        token = await repo.email_token(
            session, secret, [EmailTokenPurpose.ACTIVATION, EmailTokenPurpose.EMAIL_CHANGE]
        )
        if problem := token_problem(token, deps):
            return Result(problems=[problem])
        assert token is not None
        user = await repo.user_by_id(session, token.user_id)
        if user is None or user.status == Status.DEACTIVATED.value:
            return Result(problems=[Problem("token", "INVALID_TOKEN", "This account is closed.")])
        if not await repo.claim_email_token(session, token.id, now):
            return Result(problems=[ALREADY_USED])
        if token.purpose == EmailTokenPurpose.EMAIL_CHANGE.value:
            confirm_email = True
        elif user.status == Status.PENDING.value:
            user.status, user.activated_at, user.updated_at = Status.ACTIVE.value, now, now
            await write_event(session, contract.USER_ACTIVATED, user, contract.UserActivated(
                user_id=user.id, username=user.username, portal=user.portal,
                email=user.email, first_name=user.first_name, last_name=user.last_name,
                activated_at=now,
            ), actor=user.id)
    if confirm_email:
        return await _confirm_email(deps, token.id, user.id)
    return Result(user=user)


async def _confirm_email(deps: Deps, token_id: str, user_id: str) -> Result:
    now = deps.clock()
    try:
        async with deps.db.transaction() as session:
            token = await session.get(EmailToken, token_id)
            user = await repo.user_by_id(session, user_id)
            assert token is not None and user is not None and token.email
            user.email, user.email_key = token.email, normalize_email(token.email)
            user.pending_email, user.updated_at = None, now
            await session.flush()
            await updated_event(session, user, ["email"], now)
    except IntegrityError:
        return Result(problems=[
            Problem("token", "EMAIL_TAKEN", "Another account now uses this email address.")
        ])
    return Result(user=user)


async def updated_event(session: AsyncSession, user: User, changed: list[str], now: Any) -> None:
    await write_event(session, contract.USER_UPDATED, user, contract.UserUpdated(
        user_id=user.id, username=user.username, email=user.email, first_name=user.first_name,
        last_name=user.last_name, title=user.title, changed=changed, updated_at=now,
    ), actor=user.id)
