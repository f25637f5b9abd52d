"""Service errors as GraphQL answers: bad input in userErrors, the rest as coded errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from common.graphql import UserError, coded_error
from services.facility.service_layer.errors import BadInput, ServiceError

T = TypeVar("T")


async def attempt(work: Callable[[], Awaitable[T]], failed: Callable[[list[UserError]], T]) -> T:
    """Run a use case. BAD_USER_INPUT becomes the payload's userErrors; FORBIDDEN, NOT_FOUND,
    DUPLICATE_FACILITY, COMPLIANCE_NOT_CURRENT and the like become a coded GraphQL error."""
    try:
        return await work()
    except BadInput as exc:
        return failed([UserError(field=exc.field, message=exc.message, code=exc.code)])
    except ServiceError as exc:
        raise coded_error(exc.code, exc.message, **exc.extensions) from None


def raise_coded(exc: ServiceError) -> None:
    raise coded_error(exc.code, exc.message, **exc.extensions) from None
