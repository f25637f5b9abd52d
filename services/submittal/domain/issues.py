"""Validation findings with a field path and a severity.

ERROR blocks submission; WARNING is shown but does not block.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "ERROR"
    WARNING = "WARNING"


@dataclass(frozen=True)
class Issue:
    path: tuple[str | int, ...]
    message: str
    code: str = "BAD_USER_INPUT"
    severity: Severity = Severity.ERROR

    @property
    def field(self) -> list[str]:
        """The path as GraphQL userErrors carry it: list indexes become strings."""
        return [str(part) for part in self.path]

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def has_errors(issues: list[Issue]) -> bool:
    return any(issue.is_error for issue in issues)


class Checker:
    """Collects issues under a path prefix so rules read as one line each."""

    def __init__(self, prefix: tuple[str | int, ...] = ()) -> None:
        self.prefix = prefix
        self.issues: list[Issue] = []

    def at(self, *path: str | int) -> Checker:
        child = Checker(self.prefix + path)
        child.issues = self.issues
        return child

    def error(self, field: str | int, message: str, code: str = "BAD_USER_INPUT") -> None:
        self.issues.append(Issue(self.prefix + (field,), message, code, Severity.ERROR))

    def warning(self, field: str | int, message: str, code: str = "BAD_USER_INPUT") -> None:
        self.issues.append(Issue(self.prefix + (field,), message, code, Severity.WARNING))

    def required(self, field: str, value: object, label: str) -> bool:
        if value is None or (isinstance(value, str) and not value.strip()):
            self.error(field, f"{label} is required before submitting.", "REQUIRED")
            return False
        return True

    def max_length(self, field: str, value: str | None, limit: int, label: str) -> None:
        if value is not None and len(value) > limit:
            self.error(field, f"{label} must be at most {limit} characters (got {len(value)}).")
