"""Searching the current inventories: the filter, its rules, and one search row per material.

Pure rules: no database here. A facility matches when one material of its current inventory
(the latest submitted Hazardous Materials Inventory) meets every material condition at once,
and the facility meets every facility condition.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

from services.submittal.domain.cas import cas_problem
from services.submittal.domain.geo import california, counties, county_named
from services.submittal.domain.hmi import HazardCategory, HazardousMaterial, PhysicalState, Units
from services.submittal.domain.issues import Issue
from services.submittal.domain.units import convert

MAX_RADIUS_MILES = 250.0
MAX_NAME_LENGTH = 100
MAX_LIST = 60  # counties, agencies, CAS numbers... in one filter
DUE_SOON_DAYS = 30  # DESIGN §1, the same window as the facility service's

HAZARD_BITS = {category: 1 << i for i, category in enumerate(HazardCategory)}
AMOUNT_COLUMNS = {Units.POUNDS: "pounds", Units.GALLONS: "gallons",
                  Units.CUBIC_FEET: "cubic_feet", Units.TONS: "pounds"}


class ComplianceStatus(StrEnum):
    CURRENT = "CURRENT"
    DUE_SOON = "DUE_SOON"
    OVERDUE = "OVERDUE"
    UPDATE_REQUIRED = "UPDATE_REQUIRED"


class SortBy(StrEnum):
    CERS_ID = "CERS_ID"
    DISTANCE = "DISTANCE"
    AMOUNT = "AMOUNT"


@dataclass(frozen=True)
class Near:
    latitude: float
    longitude: float
    radius_miles: float


@dataclass(frozen=True)
class AmountAbove:
    amount: float
    units: Units


@dataclass(frozen=True)
class SearchFilter:
    """Every field optional; lists mean "any of"."""

    cas_numbers: tuple[str, ...] = ()
    name_starts_with: str | None = None
    name_contains: str | None = None
    ehs: bool | None = None
    hazard_categories: tuple[HazardCategory, ...] = ()
    physical_states: tuple[PhysicalState, ...] = ()
    maximum_daily_amount_above: AmountAbove | None = None
    counties: tuple[str, ...] = ()
    agency_ids: tuple[str, ...] = ()
    compliance_statuses: tuple[ComplianceStatus, ...] = ()
    near: Near | None = None
    inventory_statuses: tuple[str, ...] = ()

    @property
    def county_ids(self) -> tuple[int, ...]:
        found = (county_named(name) for name in self.counties)
        return tuple(c.id for c in found if c is not None)

    @property
    def has_material_identity(self) -> bool:
        """Filters that would reveal a trade-secret identity if they matched one."""
        return bool(self.cas_numbers or self.name_starts_with or self.name_contains)

    def as_json(self) -> dict[str, Any]:
        """The filter as the audit log keeps it."""
        out: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            if value in (None, ()):
                continue
            if isinstance(value, Near | AmountAbove):
                value = {k: str(v) if isinstance(v, StrEnum) else v
                         for k, v in value.__dict__.items()}
            elif isinstance(value, tuple):
                value = [str(v) for v in value]
            out[name] = value
        return out


@dataclass(frozen=True)
class Sort:
    by: SortBy = SortBy.CERS_ID
    units: Units = Units.POUNDS  # for AMOUNT


def normalize_cas(value: str) -> str:
    return value.strip()


# Between the name keys in a facility's search row: a name key never holds a line break
# (whitespace is collapsed), so a "contains" never matches across two materials.
NAME_SEPARATOR = "\n"


def name_key(value: str | None) -> str:
    return " ".join((value or "").lower().split())


def check_filter(flt: SearchFilter, sort: Sort) -> list[Issue]:
    """What is wrong with a filter, each with the field to fix; empty when it may run."""
    issues: list[Issue] = []

    def bad(field_name: str, message: str) -> None:
        issues.append(Issue(("filter", field_name), message, "BAD_USER_INPUT"))

    for name in ("cas_numbers", "hazard_categories", "physical_states", "counties",
                 "agency_ids", "compliance_statuses", "inventory_statuses"):
        if len(getattr(flt, name)) > MAX_LIST:
            bad(_camel(name), f"At most {MAX_LIST} values.")
    for cas in flt.cas_numbers:
        if problem := cas_problem(cas):
            bad("casNumbers", problem)
    for name in ("name_starts_with", "name_contains"):
        value = getattr(flt, name)
        if value is not None and not (1 <= len(name_key(value)) <= MAX_NAME_LENGTH):
            bad(_camel(name), f"Give 1 to {MAX_NAME_LENGTH} characters.")
    if flt.name_contains is not None and 0 < len(name_key(flt.name_contains)) < 3:
        bad("nameContains", "Give at least 3 characters to search inside names (or use "
            "nameStartsWith for shorter text).")
    unknown = [c for c in flt.counties if county_named(c) is None]
    if unknown:
        bad("counties", f"Not California counties: {', '.join(unknown)}. Use the county "
            f"name, such as {counties()[32].name!r}.")
    above = flt.maximum_daily_amount_above
    if above is not None and not (above.amount >= 0 and above.amount < 1e15):
        bad("maximumDailyAmountAbove", "The amount must be zero or more.")
    near = flt.near
    if near is not None:
        if not (-90 <= near.latitude <= 90 and -180 <= near.longitude <= 180):
            bad("near", "Latitude is -90 to 90 and longitude -180 to 180 decimal degrees.")
        elif not california().contains(near.latitude, near.longitude):
            bad("near", f"The point {near.latitude:g}, {near.longitude:g} is not in California "
                f"({california().describe()}; west longitudes are negative).")
        if not 0 < near.radius_miles <= MAX_RADIUS_MILES:
            bad("near", f"The radius is more than 0 and at most {MAX_RADIUS_MILES:g} miles.")
    if sort.by is SortBy.DISTANCE and near is None:
        issues.append(Issue(("sort",), "Sorting by distance needs filter.near (a point and a "
                            "radius).", "BAD_USER_INPUT"))
    return issues


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True)
class StatusRange:
    """A compliance status as conditions on stored dates (DESIGN §1, derived at read time).

    ``due_after`` / ``due_on_or_before`` bound ``annual_due_date``; ``has_reasons`` says
    whether ``update_due_by`` must be set (True), unset (False) or does not matter (None).
    """

    due_after: dt.date | None
    due_on_or_before: dt.date | None
    has_reasons: bool | None


def status_range(status: ComplianceStatus, today: dt.date) -> StatusRange:
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    yesterday = today - dt.timedelta(days=1)
    if status is ComplianceStatus.OVERDUE:
        return StatusRange(None, yesterday, None)
    if status is ComplianceStatus.UPDATE_REQUIRED:
        return StatusRange(yesterday, None, True)
    if status is ComplianceStatus.DUE_SOON:
        return StatusRange(yesterday, soon, False)
    return StatusRange(soon, None, False)


def compliance_status(annual_due_date: dt.date | None, update_due_by: dt.date | None,
                      today: dt.date) -> ComplianceStatus | None:
    """OVERDUE, then UPDATE_REQUIRED, then DUE_SOON, then CURRENT; None while unknown."""
    if annual_due_date is None:
        return None
    if today > annual_due_date:
        return ComplianceStatus.OVERDUE
    if update_due_by is not None:
        return ComplianceStatus.UPDATE_REQUIRED
    if (annual_due_date - today).days <= DUE_SOON_DAYS:
        return ComplianceStatus.DUE_SOON
    return ComplianceStatus.CURRENT


@dataclass(frozen=True)
class MaterialRow:
    """What the search table keeps of one material (no facility columns)."""

    position: int
    values: dict[str, Any] = field(default_factory=dict)


def material_row(position: int, m: HazardousMaterial) -> MaterialRow:
    amount, units = m.maximum_daily_amount, m.units
    converted: dict[str, float | None] = {"pounds": None, "gallons": None, "cubic_feet": None}
    if amount is not None and units is not None:
        for unit in (Units.POUNDS, Units.GALLONS, Units.CUBIC_FEET):
            converted[AMOUNT_COLUMNS[unit]] = convert(
                amount, units, unit, state=m.physical_state, density=m.density,
                density_units=m.density_units).value
    mask = 0
    for category in m.hazard_categories:
        mask |= HAZARD_BITS[category]
    common, chemical = name_key(m.common_name), name_key(m.chemical_name)
    return MaterialRow(position, {
        "cas_number": normalize_cas(m.cas_number) if m.cas_number else None,
        "common_name": m.common_name, "chemical_name": m.chemical_name,
        "common_key": common[:500], "chemical_key": chemical[:500],
        "name_key": f"{common} | {chemical}"[:1001],
        "trade_secret": m.trade_secret, "location_confidential": m.location_confidential,
        "ehs": bool(m.ehs), "physical_state": m.physical_state.value if m.physical_state else None,
        "hm_type": m.hm_type.value if m.hm_type else None, "hazard_mask": mask,
        "maximum_daily_amount": amount, "units": units.value if units else None, **converted,
    })


@cache
def _categories(mask: int) -> tuple[HazardCategory, ...]:
    return tuple(category for category, bit in HAZARD_BITS.items() if mask & bit)


def hazard_categories(mask: int) -> list[HazardCategory]:
    return list(_categories(mask))


def prefix_bounds(prefix: str) -> tuple[str, str]:
    """[low, high) holding exactly the strings that start with ``prefix`` in byte order."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)
