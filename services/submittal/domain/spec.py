"""The form of an element, described for whoever draws it (the portal, an API client).

Built from the declared fields (form.Meta), so the form, the rules and the comparison never
disagree about a label, a code list or what is required. The shape (documented in
docs/elements.md, "Form descriptions"):

    {"fields": [{"name": "tanks", "label": "Tanks", "cers": "RT 25", "kind": "list",
                 "itemLabel": "Tank", "keyField": "tankIdNumber", "maxItems": 500,
                 "fields": [...]}, ...]}

``kind`` is one of text, textarea, integer, decimal, date, check (an optional tick box),
yesNo (a required yes/no answer), code (with ``options``), values (a list of plain values),
group (with ``fields``; ``toggle`` when its presence is the answer), list (repeatable records)
and document (a document slot).
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from functools import cache
from typing import Any

from pydantic.fields import FieldInfo

from services.submittal.domain.codes import CodeList
from services.submittal.domain.diff import humanize
from services.submittal.domain.documents import DocumentSlot
from services.submittal.domain.form import Meta, Record, When, meta_of
from services.submittal.domain.model import Model
from services.submittal.domain.rules import model_in


@cache
def form_spec(model: type[Model]) -> dict[str, Any]:
    return {"fields": _fields(model)}


def _fields(model: type[Model]) -> list[dict[str, Any]]:
    return [_field(model, name, info) for name, info in model.model_fields.items()
            if not (name == "id" and issubclass(model, Record))]


def _scalar(annotation: Any) -> Any:
    args = [a for a in getattr(annotation, "__args__", (annotation,)) if a is not type(None)]
    return args[0] if args else annotation


def _field(owner: type[Model], name: str, info: FieldInfo) -> dict[str, Any]:
    meta = meta_of(info) or Meta(humanize(info.alias or name))
    spec: dict[str, Any] = {"name": info.alias or name, "label": meta.label}
    for key, value in (("cers", meta.cers), ("section", meta.section), ("help", meta.help),
                       ("maxLength", meta.max_length), ("exactLength", meta.exact_length),
                       ("min", meta.ge), ("max", meta.le)):
        if value is not None:
            spec[key] = value
    if meta.required:
        spec["required"] = True
    if meta.significant:
        spec["significant"] = True
    for key, when in (("requiredWhen", meta.required_when), ("shownWhen", meta.shown_when)):
        if when is not None:
            spec[key] = _when(owner, when)
    annotation = info.annotation
    nested = model_in(annotation)
    scalar = _scalar(annotation)
    if nested is DocumentSlot:
        spec["kind"] = "document"
    elif nested is not None and getattr(annotation, "__origin__", None) is tuple:
        spec.update(kind="list", itemLabel=meta.item_label or meta.label,
                    fields=_fields(nested))
        key_field = getattr(nested, "key_field", None)
        if key_field:
            spec["keyField"] = nested.model_fields[key_field].alias or key_field
        limit = next((m.max_length for m in info.metadata if hasattr(m, "max_length")), None)
        if limit is not None:
            spec["maxItems"] = limit
        if meta.min_items:
            spec["minItems"] = meta.min_items
    elif nested is not None:
        spec.update(kind="group", fields=_fields(nested))
        if meta.toggle:
            spec["toggle"] = True
    elif getattr(annotation, "__origin__", None) is tuple:
        spec["kind"] = "values"
    elif isinstance(scalar, type) and issubclass(scalar, CodeList):
        spec.update(kind="code", options=[{"value": m.name, "code": m.code, "label": m.label}
                                          for m in scalar])
    elif isinstance(scalar, type) and issubclass(scalar, Enum):
        spec.update(kind="code", options=[
            {"value": m.name, "label": str(m.value).replace("_", " ").capitalize()}
            for m in scalar])
    elif scalar is bool:
        spec["kind"] = "yesNo" if meta.required else "check"
    elif scalar is int:
        spec["kind"] = "integer"
    elif scalar is float:
        spec["kind"] = "decimal"
    elif scalar is dt.date:
        spec["kind"] = "date"
    else:
        spec["kind"] = "textarea" if meta.long else "text"
    return spec


def _when(owner: type[Model], when: When) -> dict[str, Any]:
    info = owner.model_fields[when.field]
    return {"field": info.alias or when.field,
            "values": [v.name if isinstance(v, Enum) else v for v in when.values]}
