"""How much a submission differs from the previous submission of the same element.

The rules (also in docs/elements.md):
- NO_CHANGES: the data is identical (a "No change in HMBP" copy is always this).
- VERY_SIGNIFICANT (inventory): a new extremely hazardous substance, or a material whose maximum
  daily amount grew tenfold or more.
- SIGNIFICANT: in the inventory, a new material, a maximum daily amount up by 100% or more, or a
  change of units; in Facility Information, a new owner or operator, or a Business Activities
  answer turned to "yes" (a new element applies).
- SIGNIFICANT (the elements declared field by field: UST, Tiered Permitting, ...): a record
  of a significant list added or removed (a tank, a treatment unit, a remote site), or a
  significant field changed (a tank's capacity, contents or type of action), as each field's
  declaration says (``significant=True``).
- HAS_CHANGES: any other difference. The first submission of an element compares with nothing,
  so every material in a first inventory is new, and every tank of a first UST.
"""

from __future__ import annotations

from enum import StrEnum

from services.submittal.domain.diff import differences
from services.submittal.domain.facility_info import FacilityInformation
from services.submittal.domain.hmi import HazardousMaterial, HazardousMaterialsInventory
from services.submittal.domain.model import Model
from services.submittal.domain.plans import EmergencyPlans


class ChangeClass(StrEnum):
    NO_CHANGES = "NO_CHANGES"
    HAS_CHANGES = "HAS_CHANGES"
    SIGNIFICANT = "SIGNIFICANT"
    VERY_SIGNIFICANT = "VERY_SIGNIFICANT"


_ORDER = list(ChangeClass)


def _max(*classes: ChangeClass) -> ChangeClass:
    return max(classes, key=_ORDER.index)


def classify(previous: Model | None, current: Model) -> ChangeClass:
    if previous is not None and previous.to_json() == current.to_json():
        return ChangeClass.NO_CHANGES
    if isinstance(current, HazardousMaterialsInventory):
        before = previous if isinstance(previous, HazardousMaterialsInventory) else None
        return _max(ChangeClass.HAS_CHANGES, _inventory_change(before, current))
    if isinstance(current, FacilityInformation):
        before_fi = previous if isinstance(previous, FacilityInformation) else None
        return _max(ChangeClass.HAS_CHANGES, _facility_change(before_fi, current))
    if isinstance(current, EmergencyPlans):
        return ChangeClass.HAS_CHANGES
    earlier = previous if isinstance(previous, type(current)) else None
    found = differences(earlier, current)
    if any(d.significant for d in found):
        return ChangeClass.SIGNIFICANT
    return ChangeClass.HAS_CHANGES if found else ChangeClass.NO_CHANGES


def material_key(m: HazardousMaterial) -> str:
    """A material is "the same" when its CAS number (else its name) and its location match."""
    return m.diff_key()


def _inventory_change(
    previous: HazardousMaterialsInventory | None, current: HazardousMaterialsInventory
) -> ChangeClass:
    before = {material_key(m): m for m in (previous.materials if previous else ())}
    result = ChangeClass.NO_CHANGES
    for material in current.materials:
        old = before.get(material_key(material))
        if old is None:
            result = _max(result, ChangeClass.VERY_SIGNIFICANT if material.ehs
                          else ChangeClass.SIGNIFICANT)
            continue
        if old.units != material.units:
            result = _max(result, ChangeClass.SIGNIFICANT)
            continue
        was, now = old.maximum_daily_amount or 0.0, material.maximum_daily_amount or 0.0
        if was > 0 and now >= 10 * was:
            result = _max(result, ChangeClass.VERY_SIGNIFICANT)
        elif (was == 0 and now > 0) or (was > 0 and now >= 2 * was):
            result = _max(result, ChangeClass.SIGNIFICANT)
    return result


def _facility_change(
    previous: FacilityInformation | None, current: FacilityInformation
) -> ChangeClass:
    if previous is None:
        return ChangeClass.HAS_CHANGES
    before, now = previous.owner_operator, current.owner_operator
    names = ("owner_name", "operator_name")
    if before and now and any(getattr(before, n) != getattr(now, n) for n in names):
        return ChangeClass.SIGNIFICANT
    old_answers, new_answers = previous.activity_answers(), current.activity_answers()
    if any(new_answers[q] and not old_answers.get(q) for q in new_answers):
        return ChangeClass.SIGNIFICANT
    return ChangeClass.HAS_CHANGES
