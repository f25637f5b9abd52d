"""California Accidental Release Program (SE 10): in the CERS schemas a header and one
required document slot, the CalARP documents the agency collects (the risk management plan and
its updates); no source gives CalARP data fields (DATA-DICTIONARY-ELEMENTS §7)."""

from __future__ import annotations

from services.submittal.domain.documents import DocumentSlot
from services.submittal.domain.form import field
from services.submittal.domain.model import Model


class CalArpDocuments(Model):
    cal_arp_document: DocumentSlot | None = field(
        "CalARP documents (risk management plan and updates)", "RT 43", required=True)
    miscellaneous_state_required: DocumentSlot | None = field(
        "Miscellaneous state-required documents", "RT 60")


class CalArp(Model):
    """California Accidental Release Program documents (SE 10)."""

    documents: CalArpDocuments | None = field("Documents", required=True)
