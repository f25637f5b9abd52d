"""Declaring an element's fields once: label, CERS number and rules next to the type.

Each field of the typed elements is declared with :func:`field`, which records a
:class:`Meta` on the pydantic field. From that one declaration:

- ``rules.check`` finds what is missing, too long, out of range or inconsistent;
- ``diff.differences`` labels what changed since the previous submission, and whether the
  change is significant;
- ``spec.form_spec`` describes the form the portal draws (sections, code lists with their
  labels, repeatable groups, document slots, required marks).

Every field is optional when *parsed*, so a draft may be incomplete; "required" is a rule
that blocks submission, as for the HMBP elements.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field
from pydantic.fields import FieldInfo

from services.submittal.domain.model import Model


@dataclass(frozen=True)
class When:
    """A condition on a sibling field: its value is one of ``values`` (``True`` for a ticked
    box). ``field`` is the sibling's Python name."""

    field: str
    values: tuple[Any, ...]

    def holds(self, owner: Any) -> bool:
        value = getattr(owner, self.field, None)
        return value is not None and value in self.values


@dataclass(frozen=True)
class Meta:
    label: str
    cers: str | None = None
    section: str | None = None
    required: bool = False
    # Required only while a sibling has a value ("Other -> specify" pairs, closure dates ...).
    required_when: When | None = None
    # Belongs only while a sibling has a value (a unit's processes for its tier); a value given
    # otherwise is an error.
    shown_when: When | None = None
    max_length: int | None = None
    exact_length: int | None = None
    ge: float | None = None
    le: float | None = None
    # A date that records something that happened: a future one is a WARNING (guidance 1056).
    past: bool = False
    # A change of this field (for a list: a record added or removed) is SIGNIFICANT.
    significant: bool = False
    # Finding code when the field is missing (defaults to REQUIRED), and when it has the
    # wrong length (defaults to BAD_USER_INPUT).
    code: str | None = None
    invalid_code: str | None = None
    help: str | None = None
    # Lists: the fewest records a submission needs, and the name of one record.
    min_items: int = 0
    item_label: str | None = None
    # Nested groups whose presence is the answer ("this method is used").
    toggle: bool = False
    # Long text: drawn as a text area.
    long: bool = False


def field(label: str, cers: str | None = None, *, max_items: int | None = None,
          **rules: Any) -> Any:
    """A field that may be absent from a draft, with its label, CERS number and rules."""
    description = f"{label} (CERS {cers})." if cers else f"{label}."
    default: tuple[()] | None = () if max_items is not None else None
    info: FieldInfo = Field(default=default, description=description,  # type: ignore[assignment]
                            max_length=max_items)
    info.metadata.append(Meta(label, cers, **rules))
    return info


def meta_of(info: FieldInfo) -> Meta | None:
    return next((m for m in info.metadata if isinstance(m, Meta)), None)


def alias_of(model: type[Model], name: str) -> str:
    return model.model_fields[name].alias or name


class Record(Model):
    """One of a repeatable group (a tank, a unit, a site): it keeps a stable id across
    drafts and submissions (CERS gives every record a unique key), so a comparison knows a
    renamed tank from a new one. The service assigns the id when a record arrives without one.
    """

    id: str | None = Field(default=None, max_length=36,
                           description="Stable id of this record; leave empty for a new one.")
    # The field that names the record for people ("Tank T-2"), and matches it when ids differ.
    key_field: ClassVar[str | None] = None

    def display_key(self) -> str | None:
        if self.key_field is None:
            return None
        value = getattr(self, self.key_field)
        return str(value) if value not in (None, "") else None


def with_record_ids(model: Model) -> Model:
    """``model`` with a fresh id on every record that has none (recursively)."""
    updates: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, Model):
            new = with_record_ids(value)
            if new is not value:
                updates[name] = new
        elif isinstance(value, tuple) and value and isinstance(value[0], Model):
            items = tuple(with_record_ids(v) for v in value)
            if any(a is not b for a, b in zip(items, value, strict=True)):
                updates[name] = items
    if isinstance(model, Record) and not model.id:
        updates["id"] = str(uuid.uuid4())
    return model.model_copy(update=updates) if updates else model


def duplicate_ids(model: Model) -> list[tuple[str | int, ...]]:
    """Paths of records whose id repeats an earlier record's in the same list."""
    found: list[tuple[str | int, ...]] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        alias = alias_of(type(model), name)
        if isinstance(value, Model):
            found += [(alias, *p) for p in duplicate_ids(value)]
        elif isinstance(value, tuple):
            seen: set[str] = set()
            for i, item in enumerate(value):
                if not isinstance(item, Model):
                    continue
                if isinstance(item, Record) and item.id:
                    if item.id in seen:
                        found.append((alias, i, "id"))
                    seen.add(item.id)
                found += [(alias, i, *p) for p in duplicate_ids(item)]
    return found
