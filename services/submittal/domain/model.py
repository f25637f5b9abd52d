"""Base for the typed element data: camelCase on the wire, every field optional so drafts may be
incomplete; completeness is a validation rule, not a parsing one."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from services.submittal.domain.issues import Issue


class Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


def parse_issues(error: ValidationError, prefix: tuple[str | int, ...] = (),
                 by_name: bool = False) -> list[Issue]:
    """Turn pydantic's complaints (wrong type, unknown enum value, unknown field) into issues.

    ``by_name``: the data was given by Python field names (a GraphQL input), so the paths are
    turned into the camelCase names clients use.
    """
    issues = []
    for problem in error.errors():
        path = prefix + tuple((to_camel(p) if by_name and isinstance(p, str) else p)
                              for p in problem["loc"] if isinstance(p, str | int))
        issues.append(Issue(path, f"{problem['msg']}.", "BAD_USER_INPUT"))
    return issues
