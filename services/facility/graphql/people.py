"""Mutations on a business's people and on access requests."""

from __future__ import annotations

import enum
from typing import Any

import strawberry

from common.graphql import UserError, context_of
from services.facility.graphql.entities import AccessRequest, Invitation, Membership
from services.facility.graphql.errors import attempt
from services.facility.graphql.loaders import app_of
from services.facility.graphql.values import BusinessRole
from services.facility.service_layer import people
from services.facility.service_layer.errors import BadInput

Info = strawberry.Info[Any, Any]


@strawberry.input
class AddPersonInput:
    organization_id: strawberry.ID
    email: str
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    phone: str | None = None
    role: BusinessRole


@strawberry.input
class PersonInput:
    organization_id: strawberry.ID
    user_id: strawberry.ID
    role: BusinessRole | None = None


@strawberry.input
class InvitationInput:
    invitation_id: strawberry.ID


@strawberry.input
class AcceptInvitationInput:
    token: str


@strawberry.input
class RequestAccessInput:
    cers_id: int | None = None
    organization_id: strawberry.ID | None = None
    requested_role: BusinessRole
    message: str | None = None


@strawberry.enum
class AccessDecision(enum.Enum):
    APPROVE = "APPROVE"
    DENY = "DENY"


@strawberry.input
class DecideAccessRequestInput:
    id: strawberry.ID
    decision: AccessDecision
    role: BusinessRole | None = None


@strawberry.type
class PersonPayload:
    membership: Membership | None = None
    invitation: Invitation | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class InvitationPayload:
    invitation: Invitation | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AccessRequestPayload:
    access_request: AccessRequest | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PeopleMutations:
    @strawberry.mutation(description="Grant at once to an existing account, else invite.")  # type: ignore[untyped-decorator]
    async def add_person(self, info: Info, input: AddPersonInput) -> PersonPayload:
        async def work() -> PersonPayload:
            member, invitation = await people.add_person(
                app_of(info),
                context_of(info).principal,
                str(input.organization_id),
                people.Person(
                    input.email, input.first_name, input.last_name, input.title, input.phone
                ),
                input.role,
            )
            return PersonPayload(
                membership=Membership.from_domain(member) if member else None,
                invitation=Invitation.from_domain(invitation) if invitation else None,
            )

        return await attempt(work, lambda e: PersonPayload(user_errors=e))

    @strawberry.mutation
    async def accept_invitation(self, info: Info, input: AcceptInvitationInput) -> PersonPayload:
        async def work() -> PersonPayload:
            member = await people.accept_invitation(
                app_of(info), context_of(info).principal, input.token
            )
            return PersonPayload(membership=Membership.from_domain(member))

        return await attempt(work, lambda e: PersonPayload(user_errors=e))

    @strawberry.mutation
    async def resend_invitation(self, info: Info, input: InvitationInput) -> InvitationPayload:
        async def work() -> InvitationPayload:
            inv = await people.resend_invitation(
                app_of(info), context_of(info).principal, str(input.invitation_id)
            )
            return InvitationPayload(invitation=Invitation.from_domain(inv))

        return await attempt(work, lambda e: InvitationPayload(user_errors=e))

    @strawberry.mutation
    async def cancel_invitation(self, info: Info, input: InvitationInput) -> InvitationPayload:
        async def work() -> InvitationPayload:
            inv = await people.cancel_invitation(
                app_of(info), context_of(info).principal, str(input.invitation_id)
            )
            return InvitationPayload(invitation=Invitation.from_domain(inv))

        return await attempt(work, lambda e: InvitationPayload(user_errors=e))

    @strawberry.mutation
    async def change_person_role(self, info: Info, input: PersonInput) -> PersonPayload:
        async def work() -> PersonPayload:
            if input.role is None:
                raise BadInput("Give the new role.", field=["role"])
            member = await people.change_person_role(
                app_of(info),
                context_of(info).principal,
                str(input.organization_id),
                str(input.user_id),
                input.role,
            )
            return PersonPayload(membership=Membership.from_domain(member))

        return await attempt(work, lambda e: PersonPayload(user_errors=e))

    @strawberry.mutation(description="Remove a person, or leave a business yourself.")  # type: ignore[untyped-decorator]
    async def remove_person(self, info: Info, input: PersonInput) -> PersonPayload:
        async def work() -> PersonPayload:
            await people.remove_person(
                app_of(info),
                context_of(info).principal,
                str(input.organization_id),
                str(input.user_id),
            )
            return PersonPayload()

        return await attempt(work, lambda e: PersonPayload(user_errors=e))

    @strawberry.mutation(description="Exactly one of cersId and organizationId.")  # type: ignore[untyped-decorator]
    async def request_access(self, info: Info, input: RequestAccessInput) -> AccessRequestPayload:
        async def work() -> AccessRequestPayload:
            request = await people.request_access(
                app_of(info),
                context_of(info).principal,
                cers_id=input.cers_id,
                organization_id=str(input.organization_id) if input.organization_id else None,
                role=input.requested_role,
                message=input.message,
            )
            return AccessRequestPayload(access_request=AccessRequest.from_domain(request))

        return await attempt(work, lambda e: AccessRequestPayload(user_errors=e))

    @strawberry.mutation
    async def decide_access_request(
        self, info: Info, input: DecideAccessRequestInput
    ) -> AccessRequestPayload:
        async def work() -> AccessRequestPayload:
            request = await people.decide_access_request(
                app_of(info),
                context_of(info).principal,
                str(input.id),
                input.decision is AccessDecision.APPROVE,
                input.role if input.role else None,
            )
            return AccessRequestPayload(access_request=AccessRequest.from_domain(request))

        return await attempt(work, lambda e: AccessRequestPayload(user_errors=e))
