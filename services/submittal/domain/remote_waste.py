"""Remote Waste Consolidation Site Annual Notification (SE 7): one page per remote site.

DATA-DICTIONARY-ELEMENTS §4. The facility's EPA ID (guidance 1026) is asked in Facility
Information, which warns when a consolidation site has none (EPA_ID_MISSING).
"""

from __future__ import annotations

import datetime as dt

from services.submittal.domain.codes import WasteQuantityUnit
from services.submittal.domain.documents import DocumentSlot
from services.submittal.domain.form import Record, field
from services.submittal.domain.model import Model

SITE, BASIS, CERTIFY = "Remote site", "Basis for no federal permit", "Certification"


class RemoteWasteSite(Record):
    key_field = "address"

    address: str | None = field("Remote site address", "721", section=SITE, max_length=70)
    city: str | None = field("City", "722", section=SITE, max_length=60)
    zip_code: str | None = field("ZIP code", "723", section=SITE, max_length=10)
    description_of_locations: str | None = field(
        "Description of the remote consolidation location(s)", "724", section=SITE,
        required=True, max_length=700, long=True)
    description_of_waste: str | None = field("Description of the waste(s) collected", "725",
                                             section=SITE, required=True, max_length=1000,
                                             long=True)
    onsite_treatment: bool | None = field("Onsite hazardous waste treatment", "726",
                                          section=SITE)
    monthly_volume: int | None = field("Estimated monthly volume consolidated", "727",
                                       section=SITE, required=True, ge=1, le=9_999_999_999,
                                       significant=True)
    volume_unit: WasteQuantityUnit | None = field("Units of the monthly volume", "728",
                                                section=SITE, required=True, significant=True)
    non_rcra_hazardous_waste: bool | None = field("Non-RCRA hazardous waste", "729a",
                                                  section=BASIS)
    other_basis: str | None = field("Other basis, specify", "729b", section=BASIS,
                                    max_length=300, long=True)
    certified_on: dt.date | None = field("Date certified", "730", section=CERTIFY, past=True)
    owner_operator_name: str | None = field("Owner/operator name", "731", section=CERTIFY,
                                            max_length=80)
    owner_operator_title: str | None = field("Owner/operator title", "732", section=CERTIFY,
                                             max_length=50)


class RemoteWasteDocuments(Model):
    locally_collected: DocumentSlot | None = field("Locally required documents", "RT 40")
    miscellaneous_state_required: DocumentSlot | None = field(
        "Miscellaneous state-required documents", "RT 57")


class RemoteWasteConsolidation(Model):
    """Remote waste consolidation sites, notified each year (SE 7)."""

    sites: tuple[RemoteWasteSite, ...] = field("Remote consolidation sites", "RT 13",
                                               max_items=500, min_items=1, item_label="Site",
                                               significant=True)
    documents: RemoteWasteDocuments | None = field("Documents")
