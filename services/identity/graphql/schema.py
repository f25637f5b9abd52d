"""The identity subgraph: ``me``, the ``User`` entity and the account mutations.

Resolvers only translate: GraphQL input to a service-layer call, its result to a payload.
"""

from __future__ import annotations

from typing import Any, TypeVar

import strawberry

from common.graphql import (
    UserError,
    coded_error,
    context_of,
    federation_schema,
    require_principal,
)
from services.identity.graphql.inputs import (
    AcknowledgementPayload,
    ActivateAccountInput,
    ActivateAccountPayload,
    ChangePasswordInput,
    ChangePasswordPayload,
    DeactivateAccountInput,
    DeactivateAccountPayload,
    RecoverUsernameInput,
    RecoverUsernamePayload,
    RegisterAccountInput,
    RegisterAccountPayload,
    RequestPasswordResetInput,
    RequestPasswordResetPayload,
    ResendActivationInput,
    ResendActivationPayload,
    ResetPasswordInput,
    ResetPasswordPayload,
    UpdateProfileInput,
    UpdateProfilePayload,
    UserPayload,
)
from services.identity.graphql.types import (
    AccountStatus,
    Portal,
    User,
    deps_of,
    user_errors,
    user_loader,
    viewer_id,
)
from services.identity.service_layer import accounts, profile, recovery
from services.identity.service_layer.accounts import Registration
from services.identity.service_layer.profile import ProfileChange

Info = strawberry.Info[Any, Any]
ALWAYS_SENT = (
    "If an account matches, we have sent an email to its address. It may take a few minutes."
)


CHECK_EMAIL = (
    "Check your email: we have sent a link to the address you gave. It may take a few "
    "minutes."
)


def throttled(info: Info) -> None:
    """Count one sign-up from the caller's address; refuse it past the limit (HTTP 429)."""
    context = context_of(info)
    wait = context.extra["sign_ups"].attempt(context.request)
    if wait is None:
        return
    if context.response is not None:
        context.response.status_code = 429
        context.response.headers["retry-after"] = str(wait)
    minutes = max(1, round(wait / 60))
    raise coded_error(
        "TOO_MANY_REQUESTS",
        f"Too many sign-ups from your network. Try again in about {minutes} minute"
        f"{'s' if minutes != 1 else ''}.", retryAfter=wait,
    )


U = TypeVar("U", bound=UserPayload)
A = TypeVar("A", bound=AcknowledgementPayload)


def _user_payload(cls: type[U], result: accounts.Result, viewer: str | None) -> U:
    user = User.from_domain(result.user, viewer) if result.user and result.ok else None
    return cls(user=user, user_errors=user_errors(result.problems))


def _ack(cls: type[A], result: accounts.Result | None, message: str) -> A:
    problems = result.problems if result else []
    return cls(
        ok=not problems, message="" if problems else message, user_errors=user_errors(problems)
    )


def _signed_in_user(info: Info) -> str:
    principal = require_principal(info)
    if principal.user_id is None:
        raise coded_error("FORBIDDEN", "Only a person's token can change an account.")
    return principal.user_id


@strawberry.type
class Query:
    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The signed-in person; null for anonymous callers and clients."
    )
    async def me(self, info: Info) -> User | None:
        user_id = viewer_id(info)
        if user_id is None:
            return None
        row = await user_loader(context_of(info), deps_of(info)).load(user_id)
        return User.from_domain(row, user_id) if row else None


@strawberry.type
class Mutation:
    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Sign up. The answer is the same whether or not the email address "
        "already has an account (its owner is told by email instead), so it never says "
        "which addresses are registered; a taken user name is reported. Throttled per "
        "client address (TOO_MANY_REQUESTS with extensions.retryAfter, HTTP 429)."
    )
    async def register_account(
        self, info: Info, input: RegisterAccountInput
    ) -> RegisterAccountPayload:
        throttled(info)
        if input.portal is Portal.STATE:
            return RegisterAccountPayload(user=None, message="", user_errors=[UserError(
                field=["portal"], code="INVALID_PORTAL",
                message="STATE accounts are created by an operator, not by sign-up.",
            )])
        result = await accounts.sign_up(deps_of(info), Registration(
            portal=input.portal.value, username=input.username, email=input.email,
            password=input.password, first_name=input.first_name, last_name=input.last_name,
            title=input.title, phone=input.phone,
        ))
        return RegisterAccountPayload(
            user=None, message="" if result.problems else CHECK_EMAIL,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Redeem an activation link, or confirm a changed email."
    )
    async def activate_account(
        self, info: Info, input: ActivateAccountInput
    ) -> ActivateAccountPayload:
        result = await accounts.activate(deps_of(info), input.token)
        return _user_payload(ActivateAccountPayload, result, viewer_id(info))

    @strawberry.mutation
    async def resend_activation(
        self, info: Info, input: ResendActivationInput
    ) -> ResendActivationPayload:
        await recovery.resend_activation(deps_of(info), input.email)
        return _ack(ResendActivationPayload, None, ALWAYS_SENT)

    @strawberry.mutation
    async def recover_username(
        self, info: Info, input: RecoverUsernameInput
    ) -> RecoverUsernamePayload:
        await recovery.recover_username(deps_of(info), input.email)
        return _ack(RecoverUsernamePayload, None, ALWAYS_SENT)

    @strawberry.mutation
    async def request_password_reset(
        self, info: Info, input: RequestPasswordResetInput
    ) -> RequestPasswordResetPayload:
        await recovery.request_password_reset(deps_of(info), input.username_or_email)
        return _ack(RequestPasswordResetPayload, None, ALWAYS_SENT)

    @strawberry.mutation
    async def reset_password(
        self, info: Info, input: ResetPasswordInput
    ) -> ResetPasswordPayload:
        result = await recovery.reset_password(deps_of(info), input.token, input.new_password)
        return _ack(ResetPasswordPayload, result, "Your password is changed. Sign in with it.")

    @strawberry.mutation
    async def update_profile(
        self, info: Info, input: UpdateProfileInput
    ) -> UpdateProfilePayload:
        user_id = _signed_in_user(info)
        result = await profile.update_profile(deps_of(info), user_id, ProfileChange(
            first_name=input.first_name, last_name=input.last_name, title=input.title,
            phone=input.phone, email=input.email,
        ))
        return _user_payload(UpdateProfilePayload, result, user_id)

    @strawberry.mutation
    async def change_password(
        self, info: Info, input: ChangePasswordInput
    ) -> ChangePasswordPayload:
        user_id = _signed_in_user(info)
        result = await profile.change_password(
            deps_of(info), user_id, input.current_password, input.new_password
        )
        return _ack(ChangePasswordPayload, result, "Your password is changed.")

    @strawberry.mutation
    async def deactivate_account(
        self, info: Info, input: DeactivateAccountInput
    ) -> DeactivateAccountPayload:
        user_id = _signed_in_user(info)
        result = await profile.deactivate(deps_of(info), user_id, input.password)
        return _ack(DeactivateAccountPayload, result, "Your account is closed.")


schema = federation_schema(query=Query, mutation=Mutation, types=[User, AccountStatus])
