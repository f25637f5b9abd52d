"""Queries identity's use cases share. Everything runs inside the caller's session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.identity.adapters.tables import (
    EmailToken,
    RefreshToken,
    SignInSession,
    User,
)
from services.identity.domain.accounts import normalize_email, normalize_username
from services.identity.domain.tokens import EmailTokenPurpose, hash_secret


async def user_by_id(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


# Built once: every request that answers users runs it.
_USERS_BY_IDS = select(User).where(col(User.id).in_(bindparam("ids", expanding=True)))


async def users_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, User]:
    rows = await session.scalars(_USERS_BY_IDS, {"ids": list(ids)})
    return {u.id: u for u in rows}


async def user_by_username(session: AsyncSession, username: str) -> User | None:
    key = normalize_username(username)
    return (await session.scalars(select(User).where(col(User.username_key) == key))).first()


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    key = normalize_email(email)
    return (await session.scalars(select(User).where(col(User.email_key) == key))).first()


async def user_by_username_or_email(session: AsyncSession, value: str) -> User | None:
    key = value.strip().lower()
    query = select(User).where(or_(col(User.username_key) == key, col(User.email_key) == key))
    return (await session.scalars(query)).first()


async def email_token(
    session: AsyncSession, secret: str, purposes: Sequence[EmailTokenPurpose]
) -> EmailToken | None:
    query = select(EmailToken).where(
        col(EmailToken.token_hash) == hash_secret(secret),
        col(EmailToken.purpose).in_([p.value for p in purposes]),
    )
    return (await session.scalars(query)).first()


async def spend_open_tokens(
    session: AsyncSession, user_id: str, purpose: EmailTokenPurpose, now: datetime
) -> None:
    """Mark a user's unused tokens of one purpose as used, so only the newest link works."""
    await session.execute(
        update(EmailToken)
        .where(
            col(EmailToken.user_id) == user_id,
            col(EmailToken.purpose) == purpose.value,
            col(EmailToken.used_at).is_(None),
        )
        .values(used_at=now)
    )


async def revoke_user_refresh_tokens(session: AsyncSession, user_id: str, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(
            col(RefreshToken.user_id) == user_id,
            col(RefreshToken.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )


async def end_user_sessions(session: AsyncSession, user_id: str, now: datetime) -> None:
    await session.execute(
        update(SignInSession)
        .where(
            col(SignInSession.user_id) == user_id,
            col(SignInSession.ended_at).is_(None),
        )
        .values(ended_at=now)
    )


async def claim_email_token(session: AsyncSession, token_id: str, now: datetime) -> bool:
    """Spend a token atomically; False when another request spent it first."""
    result = await session.execute(
        update(EmailToken)
        .where(col(EmailToken.id) == token_id, col(EmailToken.used_at).is_(None))
        .values(used_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
