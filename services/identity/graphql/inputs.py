"""Inputs and payloads of the identity mutations: one of each per mutation."""

from __future__ import annotations

import strawberry

from common.graphql import UserError
from services.identity.graphql.types import Portal, User


@strawberry.input
class RegisterAccountInput:
    portal: Portal
    username: str
    email: str
    password: str
    first_name: str
    last_name: str
    title: str | None = None
    phone: str | None = None


@strawberry.input
class ActivateAccountInput:
    token: str = strawberry.field(description="The token from the emailed link.")


@strawberry.input
class ResendActivationInput:
    email: str


@strawberry.input
class RecoverUsernameInput:
    email: str


@strawberry.input
class RequestPasswordResetInput:
    username_or_email: str


@strawberry.input
class ResetPasswordInput:
    token: str
    new_password: str


@strawberry.input
class UpdateProfileInput:
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    phone: str | None = None
    email: str | None = strawberry.field(
        default=None, description="A new address is used only after its owner verifies it."
    )


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.input
class DeactivateAccountInput:
    password: str = strawberry.field(description="Your password, to confirm it is you.")


@strawberry.type
class UserPayload:
    user: User | None
    user_errors: list[UserError]


@strawberry.type
class AcknowledgementPayload:
    ok: bool
    message: str
    user_errors: list[UserError]


@strawberry.type
class RegisterAccountPayload:
    user: User | None = strawberry.field(deprecation_reason=(
        "Always null: sign-up answers the same whether or not the address already has an "
        "account. The account's id comes with activateAccount."
    ))
    message: str = strawberry.field(
        description="What to do next (check your email); empty when userErrors say why not."
    )
    user_errors: list[UserError]


@strawberry.type
class ActivateAccountPayload(UserPayload):
    pass


@strawberry.type
class UpdateProfilePayload(UserPayload):
    pass


@strawberry.type
class ResendActivationPayload(AcknowledgementPayload):
    pass


@strawberry.type
class RecoverUsernamePayload(AcknowledgementPayload):
    pass


@strawberry.type
class RequestPasswordResetPayload(AcknowledgementPayload):
    pass


@strawberry.type
class ResetPasswordPayload(AcknowledgementPayload):
    pass


@strawberry.type
class ChangePasswordPayload(AcknowledgementPayload):
    pass


@strawberry.type
class DeactivateAccountPayload(AcknowledgementPayload):
    pass
