"""Field-by-field differences between two versions of an element's data.

Records of a list (tanks, units, sites, materials) are matched by their stable id, else by the
field that names them (a tank's ID, a material's CAS number and location), so a tank whose
capacity changed reads as "Tank T-2 › Capacity (gallons): 10,000 → 12,000" and a new tank as
"Tank T-3 added". Values are shown as people read them: code labels, Yes/No, dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from services.submittal.domain.codes import CodeList
from services.submittal.domain.documents import DocumentSlot
from services.submittal.domain.form import Meta, Record, meta_of
from services.submittal.domain.model import Model


class DifferenceKind(StrEnum):
    ADDED = "ADDED"
    REMOVED = "REMOVED"
    CHANGED = "CHANGED"


@dataclass(frozen=True)
class Difference:
    path: tuple[str | int, ...]
    label: str
    kind: DifferenceKind
    before: str | None
    after: str | None
    significant: bool

    @property
    def field(self) -> list[str]:
        return [str(p) for p in self.path]


def differences(previous: Model | None, current: Model) -> list[Difference]:
    """What changed from ``previous`` (None: nothing before) to ``current``."""
    found: list[Difference] = []
    _walk(found, previous if previous is not None else type(current)(), current, (), "")
    return found


def humanize(name: str) -> str:
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    return words[:1].upper() + words[1:]


def _label(meta: Meta | None, alias: str) -> str:
    return meta.label if meta is not None else humanize(alias)


def _join(where: str, label: str) -> str:
    return f"{where} › {label}" if where else label


def _walk(found: list[Difference], before: Model, after: Model,
          path: tuple[str | int, ...], where: str) -> None:
    for name, info in type(after).model_fields.items():
        if name == "id" and isinstance(after, Record):
            continue
        meta = meta_of(info)
        alias = info.alias or name
        old, new = getattr(before, name, None), getattr(after, name, None)
        if old == new:
            continue
        label, at = _label(meta, alias), (*path, alias)
        significant = bool(meta and meta.significant)
        if isinstance(old, DocumentSlot) or isinstance(new, DocumentSlot):
            found.append(Difference(at, _join(where, label), DifferenceKind.CHANGED,
                                    show(old), show(new), significant))
        elif isinstance(old, Model) or isinstance(new, Model):
            sample = new if isinstance(new, Model) else old
            assert isinstance(sample, Model)
            cls = type(sample)
            if meta is not None and meta.toggle and (old is None) != (new is None):
                kind = DifferenceKind.ADDED if old is None else DifferenceKind.REMOVED
                found.append(Difference(at, _join(where, label), kind,
                                        None if old is None else "Used",
                                        None if new is None else "Used", significant))
            _walk(found, old if isinstance(old, Model) else cls(),
                  new if isinstance(new, Model) else cls(), at, _join(where, label))
        elif _is_record_list(old) or _is_record_list(new):
            _walk_list(found, tuple(old or ()), tuple(new or ()), at, where, meta, label)
        else:
            found.append(Difference(at, _join(where, label), DifferenceKind.CHANGED,
                                    show(old), show(new), significant))


def _is_record_list(value: Any) -> bool:
    return isinstance(value, tuple) and bool(value) and isinstance(value[0], Model)


def record_key(item: Model) -> str | None:
    key = getattr(item, "diff_key", None)
    if callable(key):
        value = key()
        return str(value) if value else None
    if isinstance(item, Record):
        shown = item.display_key()
        return shown.strip().lower() if shown else None
    return None


def item_title(meta: Meta | None, label: str, index: int, item: Model) -> str:
    name = meta.item_label if meta is not None and meta.item_label else label
    shown = item.display_key() if isinstance(item, Record) else None
    if shown is None:
        shown = getattr(item, "common_name", None)
    return f"{name} {shown}" if shown else f"{name} {index + 1}"


def _walk_list(found: list[Difference], old: tuple[Model, ...], new: tuple[Model, ...],
               at: tuple[str | int, ...], where: str, meta: Meta | None, label: str) -> None:
    significant = bool(meta and meta.significant)
    unmatched = dict(enumerate(old))
    by_id = {item.id: n for n, item in unmatched.items() if isinstance(item, Record) and item.id}
    by_key: dict[str, int] = {}
    for n, item in unmatched.items():
        key = record_key(item)
        if key is not None:
            by_key.setdefault(key, n)
    for j, item in enumerate(new):
        i: int | None = by_id.get(item.id) if isinstance(item, Record) and item.id else None
        if i is None or i not in unmatched:
            key = record_key(item)
            i = by_key.get(key) if key is not None else None
        title = item_title(meta, label, j, item)
        if i is None or i not in unmatched:
            found.append(Difference((*at, j), _join(where, title), DifferenceKind.ADDED,
                                    None, summary(item), significant))
            continue
        previous = unmatched.pop(i)
        if previous != item:
            _walk(found, previous, item, (*at, j), _join(where, title))
    for n, item in unmatched.items():
        found.append(Difference((*at, n), _join(where, item_title(meta, label, n, item)),
                                DifferenceKind.REMOVED, summary(item), None, significant))


def summary(item: Model) -> str:
    """A one-line description of a record: its name and its first few answers."""
    parts = []
    for name, info in type(item).model_fields.items():
        value = getattr(item, name)
        if name == "id" or value in (None, (), ""):
            continue
        if isinstance(value, Model | tuple):
            continue
        parts.append(f"{_label(meta_of(info), info.alias or name)}: {show(value)}")
        if len(parts) == 4:
            break
    return "; ".join(parts) or "(empty)"


def show(value: Any) -> str | None:
    """``value`` as a person reads it."""
    if value is None or value == ():
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, CodeList):
        return value.label
    if isinstance(value, Enum):
        return str(value.value).replace("_", " ").capitalize()
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, int | float):
        return f"{value:,}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, DocumentSlot):
        return _slot_text(value)
    if isinstance(value, tuple):
        return ", ".join(filter(None, (show(v) for v in value)))
    if isinstance(value, Model):
        return summary(value)
    return str(value)


_OPTIONS = {
    "ATTACHED": "Attached", "EXEMPT": "Exempt",
    "PROVIDED_TO_REGULATOR": "Provided to the regulator",
    "STORED_AT_FACILITY": "Stored at the facility",
    "PROVIDED_IN_OTHER_ELEMENT": "Provided in another element", "PUBLIC_URL": "Public web address",
}


def _slot_text(slot: DocumentSlot) -> str | None:
    if slot.option is None:
        return None
    text = _OPTIONS.get(slot.option.value, slot.option.value)
    if slot.document_ids:
        count = len(slot.document_ids)
        text += f" ({count} document{'s' if count > 1 else ''})"
    if slot.provided_on:
        text += f" on {slot.provided_on.isoformat()}"
    if slot.other_element:
        text += f": {slot.other_element.value}"
    if slot.url:
        text += f": {slot.url}"
    if slot.comment:
        text += f" · {slot.comment}"
    return text
