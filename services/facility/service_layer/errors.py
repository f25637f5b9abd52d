"""Failures a caller can act on. The GraphQL layer turns them into coded errors or userErrors."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: list[str] | None = None, **extensions: Any):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extensions = extensions


class BadInput(ServiceError):
    code = "BAD_USER_INPUT"


class Forbidden(ServiceError):
    code = "FORBIDDEN"


class NotFound(ServiceError):
    code = "NOT_FOUND"


class Unauthenticated(ServiceError):
    code = "UNAUTHENTICATED"


class DuplicateFacility(ServiceError):
    code = "DUPLICATE_FACILITY"


class ComplianceNotCurrent(ServiceError):
    code = "COMPLIANCE_NOT_CURRENT"


class Unavailable(ServiceError):
    code = "UNAVAILABLE"
