"""Use cases of a business's people: adding, invitations, levels, access requests."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.auth import Principal
from common.contracts import facility as contract
from services.facility.adapters.tables import (
    AccessRequest,
    Facility,
    Invitation,
    KnownUser,
    Membership,
    Organization,
    StaffMember,
)
from services.facility.domain.roles import BusinessRole, StaffRole, leaves_a_lead_user
from services.facility.service_layer.access import load_caller, require_user
from services.facility.service_layer.agencies import email_key
from services.facility.service_layer.context import Facilities
from services.facility.service_layer.errors import BadInput, Forbidden, NotFound, Unavailable

PENDING, ACCEPTED, CANCELLED, EXPIRED = "PENDING", "ACCEPTED", "CANCELLED", "EXPIRED"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Person:
    email: str
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    phone: str | None = None


async def _org(session: AsyncSession, organization_id: str) -> Organization:
    org = await session.get(Organization, organization_id)
    if org is None:
        raise NotFound(f"No business {organization_id}.", field=["organizationId"])
    return org


async def _members(session: AsyncSession, organization_id: str) -> list[Membership]:
    rows = await session.execute(
        select(Membership).where(col(Membership.organization_id) == organization_id)
    )
    return list(rows.scalars())


async def lead_emails(session: AsyncSession, organization_id: str) -> list[str]:
    return [
        m.email
        for m in await _members(session, organization_id)
        if m.role == BusinessRole.LEAD_USER.value and m.email
    ]


async def grant_membership(
    app: Facilities,
    session: AsyncSession,
    org_id: str,
    user_id: str,
    role: BusinessRole,
    person: Person,
    actor: str | None,
) -> Membership:
    existing = (
        await session.execute(
            select(Membership).where(
                col(Membership.organization_id) == org_id, col(Membership.user_id) == user_id
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        if BusinessRole(existing.role).at_least(role):
            return existing
        return await _change_role(app, session, existing, role, actor)
    member = Membership(
        organization_id=org_id,
        user_id=user_id,
        role=role.value,
        first_name=person.first_name,
        last_name=person.last_name,
        title=person.title,
        email=person.email,
        phone=person.phone,
        granted_at=app.now(),
    )
    session.add(member)
    await session.flush()
    await app.emit(
        session,
        contract.MEMBERSHIP_GRANTED,
        f"{org_id}:{user_id}",
        contract.MembershipGranted(organization_id=org_id, user_id=user_id, role=role.value),
        actor,
    )
    return member


async def _change_role(
    app: Facilities,
    session: AsyncSession,
    member: Membership,
    role: BusinessRole,
    actor: str | None,
) -> Membership:
    previous = member.role
    member.role = role.value
    await app.emit(
        session,
        contract.MEMBERSHIP_CHANGED,
        f"{member.organization_id}:{member.user_id}",
        contract.MembershipChanged(
            organization_id=member.organization_id,
            user_id=member.user_id,
            role=role.value,
            previous_role=previous,
        ),
        actor,
    )
    return member


async def revoke_membership(
    app: Facilities, session: AsyncSession, member: Membership, actor: str | None
) -> None:
    await session.delete(member)
    await app.emit(
        session,
        contract.MEMBERSHIP_REVOKED,
        f"{member.organization_id}:{member.user_id}",
        contract.MembershipRevoked(organization_id=member.organization_id, user_id=member.user_id),
        actor,
    )


async def add_person(
    app: Facilities,
    principal: Principal | None,
    organization_id: str,
    person: Person,
    role: BusinessRole,
) -> tuple[Membership | None, Invitation | None]:
    """Grant at once when an account has that verified email, else invite by email."""
    actor = require_user(principal)
    key = email_key(person.email)
    if "@" not in key:
        raise BadInput("Give the person's email address.", field=["email"])
    async with app.db.transaction() as session:
        caller = await load_caller(session, principal)
        org = await _org(session, organization_id)
        caller.require_business(org.id, BusinessRole.LEAD_USER, "Adding a person")
        if not app.read_model_fresh():
            raise Unavailable(
                "Account data from identity is behind (its event consumer lags); adding people "
                "is paused so no access is granted from stale data. Retry in a minute."
            )
        account = (
            await session.execute(
                select(KnownUser).where(
                    col(KnownUser.email_key) == key, col(KnownUser.active).is_(True)
                )
            )
        ).scalar_one_or_none()
        if account is not None:
            if not app.read_model_fresh(account.user_id):
                raise Unavailable(
                    f"An update to the account of {person.email} has not reached the facility "
                    "service yet; no access is granted until it has. Retry in a minute."
                )
            member = await grant_membership(
                app, session, org.id, account.user_id, role, person, actor
            )
            app.mail(
                session,
                person.email,
                f"You now have access to {org.name}",
                f"You were given {role.value} access to {org.name} (org code {org.org_code}).",
            )
            return member, None
        return None, await _invite(app, session, org, person, role, actor)


async def _invite(
    app: Facilities,
    session: AsyncSession,
    org: Organization,
    person: Person,
    role: BusinessRole,
    actor: str,
) -> Invitation:
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organization_id=org.id,
        email=person.email.strip(),
        email_key=email_key(person.email),
        role=role.value,
        first_name=person.first_name,
        last_name=person.last_name,
        title=person.title,
        phone=person.phone,
        token_hash=_hash(token),
        status=PENDING,
        expires_at=app.now() + timedelta(days=app.invitation_days),
        created_at=app.now(),
        created_by=actor,
    )
    session.add(invitation)
    await session.flush()
    _mail_invitation(app, session, invitation, org, token)
    await app.emit(
        session,
        contract.INVITATION_CREATED,
        invitation.id,
        contract.InvitationCreated(
            invitation_id=invitation.id,
            organization_id=org.id,
            email=invitation.email,
            role=role.value,
            expires_at=invitation.expires_at,
        ),
        actor,
    )
    return invitation


def _mail_invitation(
    app: Facilities, session: AsyncSession, inv: Invitation, org: Organization, token: str
) -> None:
    app.mail(
        session,
        inv.email,
        f"You are invited to {org.name}",
        f"You are invited to {org.name} as {inv.role}.\n\n"
        f"Accept: {app.public_base_url}/invitations/accept?token={token}\n\n"
        "Sign in (or register with this email address) first. The link works once and "
        f"expires on {inv.expires_at:%Y-%m-%d}. Registering with this same email address "
        "also grants the access when the account is activated.\n",
    )


async def accept_invitation(app: Facilities, principal: Principal | None, token: str) -> Membership:
    user_id = require_user(principal)
    async with app.db.transaction() as session:
        inv = (
            await session.execute(
                select(Invitation).where(col(Invitation.token_hash) == _hash(token))
            )
        ).scalar_one_or_none()
        if inv is None or inv.status != PENDING:
            raise BadInput(
                "This invitation link is not valid or was already used.", field=["token"]
            )
        if inv.expires_at <= app.now():
            inv.status = EXPIRED
            raise BadInput("This invitation has expired; ask for a new one.", field=["token"])
        return await _redeem(app, session, inv, user_id)


async def _redeem(
    app: Facilities, session: AsyncSession, inv: Invitation, user_id: str
) -> Membership:
    inv.status = ACCEPTED
    person = Person(inv.email, inv.first_name, inv.last_name, inv.title, inv.phone)
    return await grant_membership(
        app, session, inv.organization_id, user_id, BusinessRole(inv.role), person, user_id
    )


async def redeem_invitations_for(
    app: Facilities, session: AsyncSession, user_id: str, key: str
) -> None:
    pending = (
        await session.execute(
            select(Invitation).where(
                col(Invitation.email_key) == key, col(Invitation.status) == PENDING
            )
        )
    ).scalars()
    for inv in list(pending):
        if inv.expires_at > app.now():
            await _redeem(app, session, inv, user_id)


async def _lead_invitation(
    app: Facilities, session: AsyncSession, principal: Principal | None, invitation_id: str
) -> Invitation:
    caller = await load_caller(session, principal)
    inv = await session.get(Invitation, invitation_id)
    if inv is None:
        raise NotFound(f"No invitation {invitation_id}.", field=["invitationId"])
    caller.require_business(inv.organization_id, BusinessRole.LEAD_USER, "Managing invitations")
    if inv.status != PENDING:
        raise BadInput(f"The invitation is {inv.status}, not PENDING.", field=["invitationId"])
    return inv


async def resend_invitation(
    app: Facilities, principal: Principal | None, invitation_id: str
) -> Invitation:
    """A fresh link and expiry; the old link stops working."""
    require_user(principal)
    async with app.db.transaction() as session:
        inv = await _lead_invitation(app, session, principal, invitation_id)
        token = secrets.token_urlsafe(32)
        inv.token_hash = _hash(token)
        inv.expires_at = app.now() + timedelta(days=app.invitation_days)
        org = await _org(session, inv.organization_id)
        _mail_invitation(app, session, inv, org, token)
        return inv


async def cancel_invitation(
    app: Facilities, principal: Principal | None, invitation_id: str
) -> Invitation:
    require_user(principal)
    async with app.db.transaction() as session:
        inv = await _lead_invitation(app, session, principal, invitation_id)
        inv.status = CANCELLED
        return inv


async def _member(session: AsyncSession, organization_id: str, user_id: str) -> Membership:
    row = (
        await session.execute(
            select(Membership).where(
                col(Membership.organization_id) == organization_id,
                col(Membership.user_id) == user_id,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"{user_id} is not a member of this business.", field=["userId"])
    return row


async def change_person_role(
    app: Facilities,
    principal: Principal | None,
    organization_id: str,
    user_id: str,
    role: BusinessRole,
) -> Membership:
    actor = require_user(principal)
    async with app.db.transaction() as session:
        caller = await load_caller(session, principal)
        await _org(session, organization_id)
        caller.require_business(organization_id, BusinessRole.LEAD_USER, "Changing a level")
        member = await _member(session, organization_id, user_id)
        roles = {m.user_id: BusinessRole(m.role) for m in await _members(session, organization_id)}
        if not leaves_a_lead_user(roles, user_id, role):
            raise BadInput(
                "The business's last LEAD_USER cannot be demoted; make someone else LEAD_USER "
                "first.",
                field=["role"],
            )
        if member.role == role.value:
            return member
        return await _change_role(app, session, member, role, actor)


async def remove_person(
    app: Facilities, principal: Principal | None, organization_id: str, user_id: str
) -> None:
    """Lead users remove anyone; anyone may leave. The last LEAD_USER may do neither."""
    actor = require_user(principal)
    async with app.db.transaction() as session:
        caller = await load_caller(session, principal)
        await _org(session, organization_id)
        if user_id != actor:
            caller.require_business(organization_id, BusinessRole.LEAD_USER, "Removing a person")
        member = await _member(session, organization_id, user_id)
        roles = {m.user_id: BusinessRole(m.role) for m in await _members(session, organization_id)}
        if not leaves_a_lead_user(roles, user_id, None):
            raise BadInput(
                "The business's last LEAD_USER cannot leave or be removed; make someone else "
                "LEAD_USER first.",
                field=["userId"],
            )
        await revoke_membership(app, session, member, actor)


async def request_access(
    app: Facilities,
    principal: Principal | None,
    *,
    cers_id: int | None,
    organization_id: str | None,
    role: BusinessRole,
    message: str | None,
) -> AccessRequest:
    """Ask a business for access; with no lead user there, the facility's regulator decides."""
    requester = require_user(principal)
    if (cers_id is None) == (organization_id is None):
        raise BadInput("Give exactly one of cersId and organizationId.", field=["cersId"])
    async with app.db.transaction() as session:
        facility = None
        if cers_id is not None:
            facility = (
                await session.execute(select(Facility).where(col(Facility.cers_id) == cers_id))
            ).scalar_one_or_none()
            if facility is None:
                raise NotFound(f"No facility with CERS ID {cers_id}.", field=["cersId"])
            organization_id = facility.organization_id
        assert organization_id is not None
        org = await _org(session, organization_id)
        leads = await lead_emails(session, org.id)
        agency_id = None
        if not leads:
            if facility is None:
                facility = (
                    await session.execute(
                        select(Facility).where(col(Facility.organization_id) == org.id).limit(1)
                    )
                ).scalar_one_or_none()
            agency_id = facility.agency_id if facility else None
        request = AccessRequest(
            requester_id=requester,
            organization_id=org.id,
            facility_id=facility.id if facility else None,
            agency_id=agency_id,
            requested_role=role.value,
            message=(message or "").strip()[:1000] or None,
            status=PENDING,
            created_at=app.now(),
        )
        session.add(request)
        await session.flush()
        text = (
            f"Someone asked for {role.value} access to {org.name}.\n"
            f"Message: {request.message or '(none)'}\nDecide it in the Business Portal.\n"
        )
        deciders = leads or await _agency_deciders(session, agency_id)
        app.mail(session, deciders, f"Access request for {org.name}", text)
        await app.emit(
            session,
            contract.ACCESS_REQUEST_CREATED,
            request.id,
            contract.AccessRequestCreated(
                access_request_id=request.id,
                requester_id=requester,
                organization_id=org.id,
                facility_id=request.facility_id,
                requested_role=role.value,
                routed_to_agency_id=agency_id,
            ),
            requester,
        )
        return request


async def _agency_deciders(session: AsyncSession, agency_id: str | None) -> list[str]:
    """The APPROVERs and ADMINs of the agency, who decide when a business has no lead user."""
    if agency_id is None:
        return []
    rows = await session.execute(
        select(col(StaffMember.email)).where(
            col(StaffMember.agency_id) == agency_id,
            col(StaffMember.role).in_([StaffRole.APPROVER.value, StaffRole.ADMIN.value]),
            col(StaffMember.user_id).is_not(None),
        )
    )
    return list(rows.scalars())


async def decide_access_request(
    app: Facilities,
    principal: Principal | None,
    request_id: str,
    approve: bool,
    role: BusinessRole | None,
) -> AccessRequest:
    actor = require_user(principal)
    async with app.db.transaction() as session:
        caller = await load_caller(session, principal)
        request = await session.get(AccessRequest, request_id)
        if request is None:
            raise NotFound(f"No access request {request_id}.", field=["id"])
        lead = caller.business_role(request.organization_id) is BusinessRole.LEAD_USER
        staff = caller.staff_role(request.agency_id)
        if not lead and not (staff and staff.at_least(StaffRole.APPROVER)):
            raise Forbidden(
                "Access requests are decided by the business's lead users, or by the "
                "regulator's APPROVER or ADMIN when the business has no lead user."
            )
        if request.status != PENDING:
            raise BadInput(f"The request was already {request.status}.", field=["id"])
        request.status = "APPROVED" if approve else "DENIED"
        request.decided_by, request.decided_at = actor, app.now()
        granted = (role or BusinessRole(request.requested_role)) if approve else None
        request.granted_role = granted.value if granted else None
        requester = await session.get(KnownUser, request.requester_id)
        if granted is not None:
            person = Person(
                requester.email if requester else "",
                requester.first_name if requester else None,
                requester.last_name if requester else None,
            )
            await grant_membership(
                app, session, request.organization_id, request.requester_id, granted, person, actor
            )
        org = await _org(session, request.organization_id)
        if requester is not None:
            app.mail(
                session,
                requester.email,
                f"Your access request for {org.name} was {request.status.lower()}",
                f"Your request for access to {org.name} was {request.status.lower()}"
                + (f" at the {granted.value} level.\n" if granted else ".\n"),
            )
        await app.emit(
            session,
            contract.ACCESS_REQUEST_DECIDED,
            request.id,
            contract.AccessRequestDecided(
                access_request_id=request.id,
                requester_id=request.requester_id,
                organization_id=request.organization_id,
                approved=approve,
                granted_role=request.granted_role,
                decided_by=actor,
            ),
            actor,
        )
        return request
