"""Importing inventory records from CSV into a draft: replace or append, all rows or none."""

from __future__ import annotations

from common.auth import Principal
from services.submittal.adapters.tables import Element, now
from services.submittal.domain.element_data import parse
from services.submittal.domain.elements import ElementType, SubmittalStatus
from services.submittal.domain.hmi import HazardousMaterialsInventory
from services.submittal.domain.hmi_csv import parse_csv
from services.submittal.domain.issues import Issue, has_errors
from services.submittal.service_layer.access import (
    load_caller,
    require_fresh,
    require_member,
    require_signed_in,
)
from services.submittal.service_layer.deps import Deps
from services.submittal.service_layer.elements import element_for
from services.submittal.service_layer.errors import Invalid, Refused

MAX_CSV_BYTES = 50 * 1024 * 1024


async def import_csv(
    deps: Deps, principal: Principal | None, element_id: str, text: str, mode: str
) -> tuple[Element, int, list[Issue]]:
    """Returns the draft, the number of rows imported, and the warnings."""
    require_fresh(deps.fresh)
    if len(text) > MAX_CSV_BYTES:
        raise Invalid([Issue(("csv",), "The CSV is larger than 50 MB; split it and APPEND.")])
    materials, issues = parse_csv(text)
    if has_errors(issues):
        raise Invalid(issues)
    async with deps.db.transaction() as session:
        caller = await load_caller(session, principal, fresh=deps.fresh)
        require_signed_in(caller)
        draft, facility = await element_for(session, caller, element_id, lock=True)
        require_member(caller, facility, "EDITOR", "Importing inventory")
        if draft.status != SubmittalStatus.DRAFT.value:
            raise Refused("BAD_USER_INPUT", f"Element {element_id} is {draft.status}; import "
                          "into a draft.")
        if draft.element_type != ElementType.HAZARDOUS_MATERIALS_INVENTORY.value:
            raise Refused("BAD_USER_INPUT", "Only a HAZARDOUS_MATERIALS_INVENTORY draft takes "
                          "a CSV import.")
        current = parse(ElementType.HAZARDOUS_MATERIALS_INVENTORY, draft.data)
        assert isinstance(current, HazardousMaterialsInventory)
        kept = current.materials if mode == "APPEND" else ()
        updated = current.model_copy(update={"materials": (*kept, *materials)})
        draft.data = updated.to_json()
        draft.updated_at = now()
        await session.flush()
    return draft, len(materials), issues
