"""Annual due dates, update reasons and the compliance status derived from them.

Everything is computed from stored dates and an explicit ``today`` so status never depends on a
job having run, and tests can move the clock.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

Clock = Callable[[], datetime]

UPDATE_WINDOW = timedelta(days=30)
DUE_SOON_WINDOW = timedelta(days=30)
DEFAULT_DUE_MONTH_DAY = (3, 1)
# A cycle opens for certification this many days before its due date (an agency may change it).
DEFAULT_CERTIFICATION_WINDOW_DAYS = 90
MAX_CERTIFICATION_WINDOW_DAYS = 180


def utc_now() -> datetime:
    return datetime.now(UTC)


class ComplianceStatus(enum.Enum):
    CURRENT = "CURRENT"
    DUE_SOON = "DUE_SOON"
    OVERDUE = "OVERDUE"
    UPDATE_REQUIRED = "UPDATE_REQUIRED"


class UpdateReason(enum.Enum):
    OWNERSHIP = "OWNERSHIP"
    NAME = "NAME"
    SITE_ADDRESS = "SITE_ADDRESS"
    MAILING_ADDRESS = "MAILING_ADDRESS"
    CONTACTS = "CONTACTS"
    TRANSFER = "TRANSFER"
    CORRECTION = "CORRECTION"


# A Facility Information submission clears everything raised by editing or moving the record.
CLEARED_BY_FACILITY_INFORMATION = frozenset(
    {
        UpdateReason.OWNERSHIP,
        UpdateReason.NAME,
        UpdateReason.SITE_ADDRESS,
        UpdateReason.MAILING_ADDRESS,
        UpdateReason.CONTACTS,
        UpdateReason.TRANSFER,
    }
)


@dataclass(frozen=True)
class OpenReason:
    reason: UpdateReason
    due_by: date
    element: str | None = None


def reason_due_by(raised_at: datetime) -> date:
    return (raised_at + UPDATE_WINDOW).date()


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def first_due_date(today: date, month: int, day: int) -> date:
    """The first anniversary on or after ``today`` of the agency's default month and day."""
    candidate = _on(today.year, month, day)
    return candidate if candidate >= today else _on(today.year + 1, month, day)


def _on(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, month, 28)


@dataclass(frozen=True)
class Certification:
    """What an HMBP certification does to the stored cycle."""

    next_due_date: date
    certified_cycle: bool


def cycle_opens_on(annual_due_date: date, window_days: int) -> date:
    """The first day a certification counts for the cycle due on ``annual_due_date``."""
    return annual_due_date - timedelta(days=window_days)


def certify(
    annual_due_date: date,
    certified_on: date,
    window_days: int = DEFAULT_CERTIFICATION_WINDOW_DAYS,
) -> Certification:
    """Count a certification for the earliest uncertified cycle, if that cycle is open.

    The stored due date always belongs to the earliest uncertified cycle. It opens
    ``window_days`` before its due date and stays open until certified. A certification made
    while it is not open yet counts for nothing: it is recorded and moves nothing. One that
    counts moves the due date exactly one year on, to the next anniversary, and certifies that
    one cycle only; so a late certification followed by another cannot skip a year, and a
    facility several cycles behind certifies each of them.
    """
    if certified_on < cycle_opens_on(annual_due_date, window_days):
        return Certification(next_due_date=annual_due_date, certified_cycle=False)
    return Certification(next_due_date=add_years(annual_due_date, 1), certified_cycle=True)


def compliance_status(
    annual_due_date: date, open_reasons: Iterable[OpenReason], today: date
) -> ComplianceStatus:
    """OVERDUE, then UPDATE_REQUIRED, then DUE_SOON, then CURRENT (DESIGN §1).

    The stored due date always belongs to the cycle not yet certified, since certifying moves it
    a year on; so "past due" and "due soon" need no separate certified flag.
    """
    if today > annual_due_date:
        return ComplianceStatus.OVERDUE
    if any(True for _ in open_reasons):
        return ComplianceStatus.UPDATE_REQUIRED
    if annual_due_date - today <= DUE_SOON_WINDOW:
        return ComplianceStatus.DUE_SOON
    return ComplianceStatus.CURRENT


@dataclass(frozen=True)
class StatusRange:
    """``compliance_status`` as conditions on stored columns, for indexed filtering.

    ``due_after``/``due_on_or_before`` bound ``annual_due_date``; ``has_reasons`` says whether
    the facility's earliest open reason date (``update_due_by``) must be set (True), unset
    (False) or does not matter (None).
    """

    due_after: date | None
    due_on_or_before: date | None
    has_reasons: bool | None


def status_range(status: ComplianceStatus, today: date) -> StatusRange:
    soon = today + DUE_SOON_WINDOW
    before_today = today - timedelta(days=1)
    if status is ComplianceStatus.OVERDUE:
        return StatusRange(due_after=None, due_on_or_before=before_today, has_reasons=None)
    if status is ComplianceStatus.UPDATE_REQUIRED:
        return StatusRange(due_after=before_today, due_on_or_before=None, has_reasons=True)
    if status is ComplianceStatus.DUE_SOON:
        return StatusRange(due_after=before_today, due_on_or_before=soon, has_reasons=False)
    return StatusRange(due_after=soon, due_on_or_before=None, has_reasons=False)


def permit_refusal(
    status: ComplianceStatus, reasons: Iterable[OpenReason], due: date
) -> str | None:
    """Why a permit may not be issued now, or None when it may."""
    if status is ComplianceStatus.OVERDUE:
        return (
            f"The facility is OVERDUE: its annual update was due on {due.isoformat()} and the "
            "cycle is not certified. Certify the HMBP before a permit can be issued."
        )
    if status is ComplianceStatus.UPDATE_REQUIRED:
        listed = ", ".join(
            f"{r.reason.value}{f' ({r.element})' if r.element else ''} due by {r.due_by}"
            for r in reasons
        )
        return (
            f"The facility is UPDATE_REQUIRED: open reasons {listed}. The business must submit "
            "the update before a permit can be issued."
        )
    return None
