"""Document slots: a required document is attached, or one of the documented alternatives."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from services.submittal.domain.elements import ElementType
from services.submittal.domain.issues import Checker
from services.submittal.domain.model import Model


class DocumentOption(StrEnum):
    ATTACHED = "ATTACHED"
    EXEMPT = "EXEMPT"
    PROVIDED_TO_REGULATOR = "PROVIDED_TO_REGULATOR"
    STORED_AT_FACILITY = "STORED_AT_FACILITY"
    PROVIDED_IN_OTHER_ELEMENT = "PROVIDED_IN_OTHER_ELEMENT"
    PUBLIC_URL = "PUBLIC_URL"


class DocumentSlot(Model):
    option: DocumentOption | None = None
    document_ids: tuple[str, ...] = ()
    comment: str | None = None
    provided_on: dt.date | None = None
    other_element: ElementType | None = None
    url: str | None = None


def check_slot(check: Checker, slot: DocumentSlot | None, label: str, required: bool) -> None:
    """The rules of DATA-DICTIONARY §0 "Document slot", with ``label`` in the messages."""
    if slot is None or slot.option is None:
        if required:
            check.error(
                "option", f"{label}: attach a document or choose an alternative.", "REQUIRED"
            )
        return
    option = slot.option
    if option is DocumentOption.ATTACHED and not slot.document_ids:
        check.error("documentIds", f"{label}: upload at least one document to attach.", "REQUIRED")
    if option is not DocumentOption.ATTACHED and slot.document_ids:
        check.error("documentIds", f"{label}: documents are attached only with option ATTACHED.")
    if option is DocumentOption.EXEMPT and not (5 <= len(slot.comment or "") <= 500):
        check.error("comment", f"{label}: an exemption needs a comment of 5 to 500 characters.")
    if option is DocumentOption.PROVIDED_TO_REGULATOR and slot.provided_on is None:
        check.error("providedOn", f"{label}: give the date it was provided to the regulator.")
    if option is DocumentOption.PROVIDED_IN_OTHER_ELEMENT and slot.other_element is None:
        check.error("otherElement", f"{label}: name the element that holds it.")
    if option is DocumentOption.PUBLIC_URL and not (10 <= len(slot.url or "") <= 1000):
        check.error("url", f"{label}: give a public URL of 10 to 1000 characters.")
    if option is not DocumentOption.EXEMPT:
        check.max_length("comment", slot.comment, 500, f"{label} comment")


def slot_document_ids(*slots: DocumentSlot | None) -> set[str]:
    return {doc for slot in slots if slot is not None for doc in slot.document_ids}
