"""The facility record: what a business reports about a site, and how an edit is classified."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.facility.domain.compliance import UpdateReason

# Which part of the record each update reason covers (DESIGN §1).
RECORD_PARTS: dict[str, UpdateReason] = {
    "name": UpdateReason.NAME,
    "site_address": UpdateReason.SITE_ADDRESS,
    "county": UpdateReason.SITE_ADDRESS,
    "city": UpdateReason.SITE_ADDRESS,
    "mailing_address": UpdateReason.MAILING_ADDRESS,
    "contacts": UpdateReason.CONTACTS,
    "owner_operator": UpdateReason.OWNERSHIP,
}

ADDRESS_FIELDS = ("street", "supplemental", "city", "state", "zip")
CONTACT_ROLES = ("environmental", "primary_emergency", "secondary_emergency", "billing")


@dataclass(frozen=True)
class FacilityRecord:
    """The source of truth for a facility's name, places, contacts and owner/operator.

    Addresses, contacts and owner/operator are plain dicts of strings, with the field names
    the GraphQL inputs use, so the record travels unchanged in events.
    """

    name: str
    site_address: Mapping[str, Any]
    county: str
    city: str | None
    mailing_address: Mapping[str, Any] = field(default_factory=dict)
    contacts: Mapping[str, Any] = field(default_factory=dict)
    owner_operator: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "site_address": dict(self.site_address),
            "county": self.county,
            "city": self.city,
            "mailing_address": dict(self.mailing_address),
            "contacts": {k: dict(v) if v else None for k, v in self.contacts.items()},
            "owner_operator": dict(self.owner_operator),
        }


def classify_changes(before: FacilityRecord, after: FacilityRecord) -> list[UpdateReason]:
    """The kinds of change between two records, in a stable order, without duplicates."""
    old, new = before.as_dict(), after.as_dict()
    kinds: list[UpdateReason] = []
    for part, reason in RECORD_PARTS.items():
        if _clean(old[part]) != _clean(new[part]) and reason not in kinds:
            kinds.append(reason)
    return kinds


def changed_fields(before: FacilityRecord, after: FacilityRecord) -> dict[str, Any]:
    """What changed, as {part: {"from": ..., "to": ...}}, for the history."""
    old, new = before.as_dict(), after.as_dict()
    return {
        part: {"from": old[part], "to": new[part]}
        for part in RECORD_PARTS
        if _clean(old[part]) != _clean(new[part])
    }


def _clean(value: Any) -> Any:
    """Blank strings and missing keys mean the same thing to a user."""
    if isinstance(value, Mapping):
        cleaned = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", {})}
    if isinstance(value, str):
        return value.strip() or None
    return value


_ABBREVIATIONS = {
    "street": "st",
    "avenue": "ave",
    "road": "rd",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "highway": "hwy",
    "place": "pl",
    "suite": "ste",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "parkway": "pkwy",
    "circle": "cir",
    "terrace": "ter",
    "unit": "ste",
    "#": "ste",
}


def _norm(text: str | None) -> str:
    words = re.sub(r"[^a-z0-9#]+", " ", (text or "").lower()).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


def address_key(site_address: Mapping[str, Any], county_id: int) -> str:
    """The normalized site address a unique index is built on.

    "123 Main Street, Quincy" and "123  MAIN ST. quincy" are the same place; the county is part
    of the key because the same street address exists in more than one county.
    """
    street = _norm(site_address.get("street"))
    supplemental = _norm(site_address.get("supplemental"))
    city = _norm(site_address.get("city"))
    return f"{street}|{supplemental}|{city}|{county_id}"
