"""Refusals the service layer raises; GraphQL turns them into coded errors."""

from __future__ import annotations

from services.submittal.domain.issues import Issue


class Refused(Exception):
    """The operation is not done; ``code`` is one of the public error codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Invalid(Exception):
    """The input has problems the client can fix; nothing was written."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(issue.message for issue in issues))
        self.issues = issues


def not_found(what: str) -> Refused:
    return Refused("NOT_FOUND", f"{what} was not found, or you may not see it.")


def forbidden(message: str) -> Refused:
    return Refused("FORBIDDEN", message)
