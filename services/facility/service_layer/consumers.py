"""What facility does with identity's and submittal's events. Each handler runs inside the
transaction that records the event in the inbox, so it is applied exactly once."""

from __future__ import annotations

import logging

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.closed_accounts import record_closed
from common.contracts import identity
from common.events.envelope import Envelope
from services.facility.adapters.tables import CLOSED_ACCOUNTS, KnownUser, Membership, StaffMember
from services.facility.service_layer.agencies import email_key, emit_staff_granted, revoke_staff
from services.facility.service_layer.context import Facilities

log = logging.getLogger(__name__)


async def user_activated(app: Facilities, session: AsyncSession, envelope: Envelope) -> None:
    """Remember the verified email and redeem what was waiting for it."""
    from services.facility.seed import seed_demo_business
    from services.facility.service_layer.people import redeem_invitations_for

    event = identity.UserActivated.model_validate(envelope.data)
    await remember_user(session, app, event.user_id, event.email, event.first_name, event.last_name)
    key = email_key(event.email)
    pending = (
        await session.execute(
            select(StaffMember).where(
                col(StaffMember.email_key) == key,
                col(StaffMember.user_id).is_(None),
            )
        )
    ).scalars()
    for member in pending:
        member.user_id = event.user_id
        await emit_staff_granted(app, session, member, event.user_id)
    await redeem_invitations_for(app, session, event.user_id, key)
    await seed_demo_business(app, session, event.user_id, event.email)


async def user_updated(app: Facilities, session: AsyncSession, envelope: Envelope) -> None:
    event = identity.UserUpdated.model_validate(envelope.data)
    await remember_user(session, app, event.user_id, event.email, event.first_name, event.last_name)


async def remember_user(
    session: AsyncSession,
    app: Facilities,
    user_id: str,
    email: str,
    first_name: str | None,
    last_name: str | None,
) -> None:
    known = await session.get(KnownUser, user_id)
    if known is None:
        known = KnownUser(user_id=user_id, email="", email_key="", updated_at=app.now())
        session.add(known)
    known.email, known.email_key = email, email_key(email)
    known.first_name, known.last_name = first_name, last_name
    known.active, known.updated_at = True, app.now()
    await _fill_unrecorded_contact(session, user_id, email, first_name, last_name)
    await session.flush()


async def _fill_unrecorded_contact(
    session: AsyncSession, user_id: str, email: str, first_name: str | None, last_name: str | None
) -> None:
    # Access granted before this account's event arrived recorded no contact details; what the
    # business recorded itself is never overwritten.
    by_user = col(Membership.user_id) == user_id
    await session.execute(
        update(Membership)
        .where(by_user, col(Membership.first_name).is_(None), col(Membership.last_name).is_(None))
        .values(first_name=first_name, last_name=last_name)
    )
    await session.execute(
        update(Membership)
        .where(by_user, or_(col(Membership.email).is_(None), col(Membership.email) == ""))
        .values(email=email)
    )


async def user_deactivated(app: Facilities, session: AsyncSession, envelope: Envelope) -> None:
    """A closed account keeps no access anywhere, and its tokens stop working here."""
    from services.facility.service_layer.people import revoke_membership

    event = identity.UserDeactivated.model_validate(envelope.data)
    await record_closed(session, CLOSED_ACCOUNTS, envelope)
    known = await session.get(KnownUser, event.user_id)
    if known is not None:
        known.active, known.updated_at = False, app.now()
    for member in (
        await session.execute(select(Membership).where(col(Membership.user_id) == event.user_id))
    ).scalars():
        await revoke_membership(app, session, member, None)
    for staff in (
        await session.execute(select(StaffMember).where(col(StaffMember.user_id) == event.user_id))
    ).scalars():
        await revoke_staff(app, session, staff, None)
