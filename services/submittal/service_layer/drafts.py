"""Drafts: start one (blank, prefilled or copied), save it as often as needed, discard it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from common.auth import Principal
from services.submittal.adapters.tables import Element, now
from services.submittal.domain.element_data import InvalidData, parse, prepare, validate
from services.submittal.domain.elements import ElementType, SubmittalStatus
from services.submittal.domain.facility_info import prefill
from services.submittal.domain.issues import Issue
from services.submittal.service_layer.access import (
    facility_for,
    load_caller,
    require_fresh,
    require_member,
    require_signed_in,
)
from services.submittal.service_layer.deps import Deps
from services.submittal.service_layer.elements import (
    check_documents,
    element_for,
    latest_submitted,
    open_draft,
)
from services.submittal.service_layer.errors import Invalid, Refused

DRAFT = SubmittalStatus.DRAFT.value


async def start_submittal(
    deps: Deps, principal: Principal | None, facility_id: str, element: ElementType,
    based_on: str,
) -> tuple[Element, list[Issue]]:
    """Open the facility's draft of ``element``: BLANK (Facility Information prefilled from
    the facility record) or LAST_SUBMITTAL (a copy of the latest submitted data)."""
    require_fresh(deps.fresh)
    try:
        async with deps.db.transaction() as session:
            caller = await load_caller(session, principal, fresh=deps.fresh)
            require_signed_in(caller)
            facility = await facility_for(session, caller, facility_id)
            require_member(caller, facility, "EDITOR", "Starting a draft")
            if await open_draft(session, facility_id, element) is not None:
                raise Refused("BAD_USER_INPUT", f"The facility already has an open "
                              f"{element.value} draft; save or discard that one.")
            data: dict[str, Any] = {}
            source_id = None
            if based_on == "LAST_SUBMITTAL":
                previous = await latest_submitted(session, facility_id, element)
                if previous is None:
                    raise Refused("BAD_USER_INPUT", f"There is no submitted {element.value} to "
                                  "copy; start it BLANK.")
                data, source_id = dict(previous.data), previous.id
            elif element is ElementType.FACILITY_INFORMATION:
                data = prefill({"name": facility.name, **facility.record}).to_json()
            stamp = now()
            draft = Element(facility_id=facility_id, element_type=element.value, status=DRAFT,
                            data=data, based_on=based_on, based_on_id=source_id,
                            created_by=caller.user_id, created_at=stamp, updated_at=stamp)
            session.add(draft)
            await session.flush()
    except IntegrityError as error:
        # Two editors started the same draft at once; the unique index let one win.
        raise Refused("BAD_USER_INPUT", f"The facility already has an open {element.value} "
                      "draft; save or discard that one.") from error
    return draft, validate(element, parse(element, data), facility.record.get("county"))


async def save_draft(
    deps: Deps, principal: Principal | None, element_id: str, data: dict[str, Any]
) -> tuple[Element, list[Issue]]:
    """Replace a draft's data. Incomplete data is saved; the findings come back with it."""
    require_fresh(deps.fresh)
    async with deps.db.transaction() as session:
        caller = await load_caller(session, principal, fresh=deps.fresh)
        require_signed_in(caller)
        draft, facility = await element_for(session, caller, element_id, lock=True)
        require_member(caller, facility, "EDITOR", "Saving a draft")
        if draft.status != DRAFT:
            raise Refused("BAD_USER_INPUT", f"Element {element_id} is {draft.status} and can no "
                          "longer change; start a new draft to correct it.")
        element = ElementType(draft.element_type)
        try:
            model = prepare(element, data)
        except InvalidData as error:
            raise Invalid(error.issues) from error
        await check_documents(session, facility.id, model)
        draft.data = model.to_json()
        draft.updated_at = now()
        await session.flush()
    return draft, validate(element, model, facility.record.get("county"))


async def discard_draft(deps: Deps, principal: Principal | None, element_id: str) -> None:
    require_fresh(deps.fresh)
    async with deps.db.transaction() as session:
        caller = await load_caller(session, principal, fresh=deps.fresh)
        require_signed_in(caller)
        draft, facility = await element_for(session, caller, element_id, lock=True)
        require_member(caller, facility, "EDITOR", "Discarding a draft")
        if draft.status != DRAFT:
            raise Refused("BAD_USER_INPUT", f"Element {element_id} is {draft.status}; only "
                          "drafts can be discarded.")
        await session.delete(draft)


def attach(data: dict[str, Any], slot: str, document_id: str) -> dict[str, Any]:
    """``data`` with ``document_id`` attached to the slot at dotted path ``slot``
    (``siteMap``, ``emergencyResponsePlan``, ``documents.0``...)."""
    result = dict(data)
    parts = slot.split(".")
    container: Any = result
    for part in parts[:-1]:
        key: Any = int(part) if part.isdigit() else part
        if isinstance(container, list):
            while len(container) <= key:
                container.append({})
            container[key] = dict(container[key])
            container = container[key]
        else:
            container[key] = (list if parts[parts.index(part) + 1].isdigit() else dict)(
                container.get(key) or ())
            container = container[key]
    last = parts[-1]
    if isinstance(container, list):
        index = int(last)
        while len(container) <= index:
            container.append({})
        container[index] = _with_document(container[index], document_id)
    else:
        container[last] = _with_document(container.get(last), document_id)
    return result


def _with_document(slot: Any, document_id: str) -> dict[str, Any]:
    current = dict(slot) if isinstance(slot, dict) else {}
    ids = list(current.get("documentIds") or [])
    if document_id not in ids:
        ids.append(document_id)
    return {**current, "option": "ATTACHED", "documentIds": ids}


async def attach_document(
    deps: Deps, principal: Principal | None, element_id: str, slot: str, document_id: str
) -> tuple[Element, list[Issue]]:
    """Attach an uploaded document to a document slot of a draft."""
    async with deps.db.read() as session:
        caller = await load_caller(session, principal, fresh=deps.fresh)
        draft, _ = await element_for(session, caller, element_id)
        data = dict(draft.data)
    if not slot or not all(p.isdigit() or p.isidentifier() for p in slot.split(".")):
        raise Invalid([Issue(("slot",), f"'{slot}' is not a document slot path such as siteMap, "
                             "emergencyResponsePlan or documents.0.")])
    return await save_draft(deps, principal, element_id, attach(data, slot, document_id))
