"""The rules every declared field carries (form.Meta), applied to a whole element.

Per field: required (always, or while a sibling has a value), length, range, dates in
1880-2099 and not in the future when they record an event, document slots, the fewest records
of a list, and nested groups in turn. A model adds its own cross-field rules in
``extra_rules``; they run after its fields. Messages name where the field is ("Tank 2 (T-2) ›
Monitoring plan: Site plot plan is required.") because a list of findings is read apart from
the form.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from services.submittal.domain.codes import CodeList
from services.submittal.domain.documents import DocumentSlot, check_slot
from services.submittal.domain.form import Meta, Record, When, meta_of
from services.submittal.domain.issues import Checker
from services.submittal.domain.model import Model

EARLIEST, LATEST = dt.date(1880, 1, 1), dt.date(2099, 12, 31)


def blank(value: Any) -> bool:
    return value is None or value == () or (isinstance(value, str) and not value.strip())


class _Where(Checker):
    """A Checker that prefixes each message with where the field sits."""

    def __init__(self, inner: Checker, where: str) -> None:
        super().__init__(inner.prefix)
        self.issues = inner.issues
        self.where = where

    def at(self, *path: str | int) -> Checker:
        return _Where(Checker.at(self, *path), self.where)

    def error(self, field: str | int, message: str, code: str = "BAD_USER_INPUT") -> None:
        super().error(field, self._say(message), code)

    def warning(self, field: str | int, message: str, code: str = "BAD_USER_INPUT") -> None:
        super().warning(field, self._say(message), code)

    def _say(self, message: str) -> str:
        return f"{self.where}: {message}" if self.where else message


def check(checker: Checker, model: Model, today: dt.date | None = None, where: str = "") -> None:
    """Every finding for ``model`` and what it holds, under ``checker``'s path."""
    today = today or dt.date.today()
    located = _Where(checker, where)
    for name, info in type(model).model_fields.items():
        meta = meta_of(info)
        if meta is None:
            continue
        _check_field(located, model, info.alias or name, getattr(model, name), meta, today)
    extra = getattr(model, "extra_rules", None)
    if extra is not None:
        extra(located)


def _inside(where: str, label: str) -> str:
    return f"{where} › {label}" if where else label


def item_name(meta: Meta, index: int, item: Any) -> str:
    name = f"{meta.item_label or 'Record'} {index + 1}"
    key = item.display_key() if isinstance(item, Record) else None
    return f"{name} ({key})" if key else name


def _check_field(checker: _Where, owner: Model, alias: str, value: Any, meta: Meta,
                 today: dt.date) -> None:
    label = meta.label
    if meta.shown_when is not None and not meta.shown_when.holds(owner) and not blank(value):
        checker.error(alias, f"{label} applies only when {describe(owner, meta.shown_when)}; "
                      "clear it or change that answer.", "NOT_APPLICABLE_FIELD")
        return
    required = meta.required or (meta.required_when is not None
                                 and meta.required_when.holds(owner))
    nested = nested_model(owner, alias)
    if nested is DocumentSlot:
        check_slot(Checker.at(checker, alias), value, _inside(checker.where, label),
                   required=required)
        return
    if blank(value):
        if isinstance(value, tuple):
            if meta.min_items:
                _too_few(checker, alias, 0, meta)
        elif required and nested is not None:
            # A required group that is absent: report its own required fields, so each one
            # is marked where the form shows it.
            check(checker.at(alias), nested(), today, _inside(checker.where, label))
        elif required:
            why = (f" when {describe(owner, meta.required_when)}"
                   if not meta.required and meta.required_when else "")
            checker.error(alias, f"{label} is required{why}.", meta.code or "REQUIRED")
        return
    if isinstance(value, Model):
        check(checker.at(alias), value, today, _inside(checker.where, label))
    elif isinstance(value, tuple):
        if len(value) < meta.min_items:
            _too_few(checker, alias, len(value), meta)
        for i, item in enumerate(value):
            if isinstance(item, Model):
                check(checker.at(alias, i), item, today,
                      _inside(checker.where, item_name(meta, i, item)))
    elif isinstance(value, str):
        _check_text(checker, alias, value, meta)
    elif isinstance(value, bool | CodeList):
        pass
    elif isinstance(value, int | float):
        _check_number(checker, alias, value, meta)
    elif isinstance(value, dt.date):
        _check_date(checker, alias, value, meta, today)


def _too_few(checker: Checker, alias: str, count: int, meta: Meta) -> None:
    what = (meta.item_label or "record").lower()
    plural = "s" if meta.min_items > 1 else ""
    checker.error(alias, f"{meta.label}: at least {meta.min_items} {what}{plural} "
                  f"required (there {'is' if count == 1 else 'are'} {count}).",
                  meta.code or "REQUIRED")


def _check_text(checker: Checker, alias: str, value: str, meta: Meta) -> None:
    if meta.exact_length is not None and len(value.strip()) != meta.exact_length:
        checker.error(alias, f"{meta.label} has exactly {meta.exact_length} characters "
                      f"(got {len(value.strip())}).", meta.invalid_code or "BAD_USER_INPUT")
    elif meta.max_length is not None and len(value) > meta.max_length:
        checker.error(alias, f"{meta.label} must be at most {meta.max_length} characters "
                      f"(got {len(value)}).", "TOO_LONG")


def _check_number(checker: Checker, alias: str, value: float, meta: Meta) -> None:
    low, high = meta.ge, meta.le
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            span = f"from {_num(low)} to {_num(high)}"
        elif low is not None:
            span = f"at least {_num(low)}"
        else:
            span = f"at most {_num(high or 0)}"
        checker.error(alias, f"{meta.label} must be {span} (got {_num(value)}).", "OUT_OF_RANGE")


def _check_date(checker: Checker, alias: str, value: dt.date, meta: Meta, today: dt.date) -> None:
    if not EARLIEST <= value <= LATEST:
        checker.error(alias, f"{meta.label} must be between 1880 and 2099.", "OUT_OF_RANGE")
    elif meta.past and value > today:
        checker.warning(alias, f"{meta.label} ({value.isoformat()}) is in the future.",
                        "DATE_IN_FUTURE")


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def nested_model(owner: Model | type[Model], alias: str) -> type[Model] | None:
    """The model class a field of ``owner`` holds (itself, or in a list), if any."""
    return _nested(owner if isinstance(owner, type) else type(owner), alias)


@cache
def _nested(cls: type[Model], alias: str) -> type[Model] | None:
    for name, info in cls.model_fields.items():
        if (info.alias or name) == alias:
            return model_in(info.annotation)
    return None


def model_in(annotation: Any) -> type[Model] | None:
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = model_in(arg)
        if found is not None:
            return found
    return None


def describe(owner: Model, when: When) -> str:
    """``when`` in words, with the sibling's label and the values' labels."""
    info = type(owner).model_fields[when.field]
    meta = meta_of(info)
    label = meta.label if meta else when.field
    values = [v.label if isinstance(v, CodeList) else ("ticked" if v is True else str(v))
              for v in when.values]
    if values == ["ticked"]:
        return f"{label} is ticked"
    if len(values) > 3:
        return f"{label} is given"
    return f"{label} is {' or '.join(values)}"
