from __future__ import annotations

from datetime import date

import pytest

from services.facility.domain.compliance import (
    Certification,
    ComplianceStatus,
    OpenReason,
    UpdateReason,
    certify,
    compliance_status,
    cycle_opens_on,
    first_due_date,
    permit_refusal,
    status_range,
)
from services.facility.domain.counties import counties, county_id
from services.facility.domain.record import FacilityRecord, address_key, classify_changes
from services.facility.domain.roles import BusinessRole, StaffRole, leaves_a_lead_user

DUE = date(2027, 3, 1)
REASON = OpenReason(UpdateReason.NAME, date(2026, 12, 1))


def _matches(status: ComplianceStatus, due: date, reasons: bool, today: date) -> bool:
    r = status_range(status, today)
    return (
        (r.due_after is None or due > r.due_after)
        and (r.due_on_or_before is None or due <= r.due_on_or_before)
        and (r.has_reasons is None or r.has_reasons == reasons)
    )


@pytest.mark.parametrize(
    ("today", "reasons", "expected"),
    [
        (date(2026, 6, 1), [], ComplianceStatus.CURRENT),
        (date(2027, 1, 30), [], ComplianceStatus.DUE_SOON),
        (date(2027, 3, 1), [], ComplianceStatus.DUE_SOON),
        (date(2027, 3, 2), [], ComplianceStatus.OVERDUE),
        (date(2026, 6, 1), [REASON], ComplianceStatus.UPDATE_REQUIRED),
        (date(2027, 2, 15), [REASON], ComplianceStatus.UPDATE_REQUIRED),
        (date(2027, 3, 2), [REASON], ComplianceStatus.OVERDUE),
    ],
)
def test_status_follows_the_precedence_of_the_design(today, reasons, expected):
    assert compliance_status(DUE, reasons, today) is expected


def test_status_moves_from_current_to_due_soon_to_overdue_as_time_passes():
    seen = [
        compliance_status(DUE, [], day)
        for day in (date(2026, 3, 2), date(2027, 1, 29), date(2027, 1, 30), date(2027, 3, 2))
    ]
    assert seen == [
        ComplianceStatus.CURRENT,
        ComplianceStatus.CURRENT,
        ComplianceStatus.DUE_SOON,
        ComplianceStatus.OVERDUE,
    ]


@pytest.mark.parametrize("today", [date(2026, 6, 1), date(2027, 1, 30), date(2027, 3, 2)])
@pytest.mark.parametrize("has_reasons", [False, True])
def test_each_status_filter_selects_exactly_the_facilities_with_that_status(today, has_reasons):
    for due in (date(2026, 1, 1), date(2027, 1, 30), date(2027, 3, 1), date(2027, 3, 2), DUE):
        actual = compliance_status(due, [REASON] if has_reasons else [], today)
        for status in ComplianceStatus:
            assert _matches(status, due, has_reasons, today) == (status is actual)


def test_certifying_the_open_cycle_moves_the_due_date_one_year_on_the_anniversary():
    assert certify(DUE, date(2027, 2, 10)).next_due_date == date(2028, 3, 1)


def test_a_cycle_opens_90_days_before_its_due_date_and_an_earlier_certification_moves_nothing():
    assert cycle_opens_on(DUE, 90) == date(2026, 12, 1)
    early = certify(DUE, date(2026, 11, 30))
    assert early == Certification(next_due_date=DUE, certified_cycle=False)
    assert certify(DUE, date(2026, 12, 1)) == Certification(date(2028, 3, 1), True)


def test_an_agency_window_decides_when_the_cycle_opens():
    assert not certify(DUE, date(2027, 1, 15), window_days=30).certified_cycle
    assert certify(DUE, date(2027, 1, 30), window_days=30).certified_cycle
    assert certify(DUE, date(2026, 9, 2), window_days=180).certified_cycle


def test_a_second_certification_in_the_same_cycle_moves_nothing():
    after_first = certify(DUE, date(2027, 2, 10)).next_due_date
    second = certify(after_first, date(2027, 2, 20))
    assert second == Certification(next_due_date=date(2028, 3, 1), certified_cycle=False)


def test_a_late_certification_keeps_the_anniversary_and_a_second_one_cannot_skip_a_year():
    # Issue 15: due 2026-11-28, certified on 2026-12-01, and again seconds later.
    first = certify(date(2026, 11, 28), date(2026, 12, 1))
    assert first == Certification(next_due_date=date(2027, 11, 28), certified_cycle=True)
    second = certify(first.next_due_date, date(2026, 12, 1))
    assert second == Certification(next_due_date=date(2027, 11, 28), certified_cycle=False)


def test_a_facility_years_behind_certifies_each_lapsed_cycle_in_turn():
    first = certify(DUE, date(2029, 6, 1))
    assert first == Certification(next_due_date=date(2028, 3, 1), certified_cycle=True)
    second = certify(first.next_due_date, date(2029, 6, 1))
    third = certify(second.next_due_date, date(2029, 6, 1))
    assert (second.next_due_date, third.next_due_date) == (date(2029, 3, 1), date(2030, 3, 1))
    # The 2030 cycle opens in December 2029: a fourth certification in June counts for nothing.
    assert not certify(third.next_due_date, date(2029, 6, 1)).certified_cycle


def test_the_first_due_date_is_the_next_anniversary_of_the_default():
    assert first_due_date(date(2026, 11, 28), 3, 1) == date(2027, 3, 1)
    assert first_due_date(date(2026, 2, 1), 3, 1) == date(2026, 3, 1)
    assert first_due_date(date(2026, 3, 1), 2, 29) == date(2027, 2, 28)


def test_a_permit_is_refused_with_the_reason_while_overdue_or_update_required():
    assert permit_refusal(ComplianceStatus.CURRENT, [], DUE) is None
    assert permit_refusal(ComplianceStatus.DUE_SOON, [], DUE) is None
    assert "2027-03-01" in (permit_refusal(ComplianceStatus.OVERDUE, [], DUE) or "")
    refusal = permit_refusal(ComplianceStatus.UPDATE_REQUIRED, [REASON], DUE) or ""
    assert "NAME due by 2026-12-01" in refusal


def _record(**changes):
    base = {
        "name": "Feather River Fuel",
        "site_address": {"street": "1 Main St", "city": "Quincy", "zip": "95971"},
        "county": "Plumas",
        "city": "Quincy",
        "mailing_address": {"street": "PO Box 1"},
        "contacts": {"environmental": {"name": "Ann", "phone": "530-555-0100"}},
        "owner_operator": {"owner_name": "Ann Lee"},
    }
    return FacilityRecord(**{**base, **changes})


def test_each_part_of_the_record_classifies_as_its_own_kind_of_change():
    before = _record()
    assert classify_changes(before, _record(name="FRF")) == [UpdateReason.NAME]
    assert classify_changes(before, _record(mailing_address={"street": "PO Box 2"})) == [
        UpdateReason.MAILING_ADDRESS
    ]
    assert classify_changes(before, _record(owner_operator={"owner_name": "Bo"})) == [
        UpdateReason.OWNERSHIP
    ]
    assert classify_changes(
        before, _record(contacts={"environmental": {"name": "Ann", "phone": "530-555-0199"}})
    ) == [UpdateReason.CONTACTS]
    several = _record(name="X", site_address={"street": "2 Main St", "city": "Quincy"})
    assert classify_changes(before, several) == [UpdateReason.NAME, UpdateReason.SITE_ADDRESS]


def test_blank_fields_and_whitespace_are_not_changes():
    before = _record()
    after = _record(
        name=" Feather River Fuel ",
        contacts={"environmental": {"name": "Ann", "phone": "530-555-0100", "email": ""}},
    )
    assert classify_changes(before, after) == []


def test_the_same_address_written_differently_normalizes_to_one_key():
    a = address_key({"street": "123 North Main Street", "city": "Quincy"}, 32)
    b = address_key({"street": "123  N. MAIN ST", "city": " quincy"}, 32)
    assert a == b
    assert a != address_key({"street": "123 North Main Street", "city": "Quincy"}, 31)


def test_the_58_counties_are_numbered_alphabetically():
    table = counties()
    assert len(table) == 58
    assert table[1] == "Alameda" and table[32] == "Plumas" and table[58] == "Yuba"
    assert county_id("plumas county") == 32
    assert county_id("Atlantis") is None


def test_levels_include_the_levels_below():
    assert BusinessRole.LEAD_USER.at_least(BusinessRole.EDITOR)
    assert not BusinessRole.VIEWER.at_least(BusinessRole.EDITOR)
    assert StaffRole.ADMIN.at_least(StaffRole.APPROVER)
    assert not StaffRole.INSPECTOR.at_least(StaffRole.APPROVER)


def test_the_last_lead_user_cannot_leave_or_be_demoted():
    roles = {"a": BusinessRole.LEAD_USER, "b": BusinessRole.EDITOR}
    assert not leaves_a_lead_user(roles, "a", None)
    assert not leaves_a_lead_user(roles, "a", BusinessRole.APPROVER)
    assert leaves_a_lead_user(roles, "b", None)
    assert leaves_a_lead_user({**roles, "b": BusinessRole.LEAD_USER}, "a", None)
