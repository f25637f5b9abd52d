"""Importing inventory records from CSV into a draft: replace or append, all rows or none."""

from __future__ import annotations

import asyncio
import csv

from common.auth import Principal
from services.submittal.adapters.tables import Element, FacilityView, now
from services.submittal.domain.element_data import parse
from services.submittal.domain.elements import ElementType, SubmittalStatus
from services.submittal.domain.hmi import HazardousMaterial, HazardousMaterialsInventory
from services.submittal.domain.hmi_csv import parse_csv
from services.submittal.domain.issues import Issue, has_errors
from services.submittal.service_layer.access import (
    Caller,
    load_caller,
    require_fresh,
    require_member,
    require_signed_in,
)
from services.submittal.service_layer.deps import Deps
from services.submittal.service_layer.elements import element_for
from services.submittal.service_layer.errors import Invalid, Refused

# A CSV is parsed only for a caller allowed to import into the draft, and only up to these
# sizes: about 20,000 typical rows. Larger inventories are imported in parts with APPEND.
MAX_CSV_BYTES = 4 * 1024 * 1024
MAX_CSV_ROWS = 20_000
# Findings reported at most; a file with more gets the first ones and a count of the rest.
MAX_CSV_FINDINGS = 200


async def import_csv(
    deps: Deps, principal: Principal | None, element_id: str, text: str, mode: str
) -> tuple[Element, int, list[Issue]]:
    """Returns the draft, the number of rows imported, and the warnings."""
    require_fresh(deps.fresh)
    async with deps.db.read() as session:
        caller = await load_caller(session, principal, fresh=deps.fresh)
        require_signed_in(caller)
        draft, facility = await element_for(session, caller, element_id)
        _check_target(caller, facility, draft, element_id)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CSV_BYTES:
        raise Invalid([Issue(("csv",), f"The CSV is {size} bytes; the limit is {MAX_CSV_BYTES}. "
                             "Split it and import the parts with mode APPEND.", "TOO_LARGE")])
    # Parsing is CPU work: off the event loop, so other requests keep being served.
    materials, issues = await asyncio.to_thread(_parse, text)
    if has_errors(issues):
        raise Invalid(_bounded(issues))
    async with deps.db.transaction() as session:
        caller = await load_caller(session, principal, fresh=deps.fresh)
        draft, facility = await element_for(session, caller, element_id, lock=True)
        _check_target(caller, facility, draft, element_id)
        current = parse(ElementType.HAZARDOUS_MATERIALS_INVENTORY, draft.data)
        assert isinstance(current, HazardousMaterialsInventory)
        kept = current.materials if mode == "APPEND" else ()
        updated = current.model_copy(update={"materials": (*kept, *materials)})
        draft.data = updated.to_json()
        draft.updated_at = now()
        await session.flush()
    return draft, len(materials), _bounded(issues)


def _check_target(caller: Caller, facility: FacilityView, draft: Element, element_id: str) -> None:
    require_member(caller, facility, "EDITOR", "Importing inventory")
    if draft.status != SubmittalStatus.DRAFT.value:
        raise Refused("BAD_USER_INPUT", f"Element {element_id} is {draft.status}; import "
                      "into a draft.")
    if draft.element_type != ElementType.HAZARDOUS_MATERIALS_INVENTORY.value:
        raise Refused("BAD_USER_INPUT", "Only a HAZARDOUS_MATERIALS_INVENTORY draft takes "
                      "a CSV import.")


def _parse(text: str) -> tuple[list[HazardousMaterial], list[Issue]]:
    try:
        return parse_csv(text, max_rows=MAX_CSV_ROWS)
    except csv.Error as exc:
        # A file the csv reader cannot read at all (a NUL byte, an oversized cell, ...).
        return [], [Issue(("csv",), f"The file is not a readable CSV: {exc}. Save it as CSV "
                          "(UTF-8) from the template.", "BAD_CSV")]


def _bounded(issues: list[Issue]) -> list[Issue]:
    if len(issues) <= MAX_CSV_FINDINGS:
        return issues
    rest = len(issues) - MAX_CSV_FINDINGS
    return [*issues[:MAX_CSV_FINDINGS], Issue(
        ("csv",), f"{rest} more findings are not shown; fix these and import again.",
        issues[MAX_CSV_FINDINGS].code, issues[MAX_CSV_FINDINGS].severity,
    )]
