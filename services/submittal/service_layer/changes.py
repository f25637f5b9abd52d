"""What every change does to the search tables and the feed, in the change's transaction.

Submittal's own events (``recorded``) and the facility events its consumer applies
(``FacilityEvents``) both pass through here, so the search and the feed can never disagree
with the elements or the read model they are derived from.
"""

from __future__ import annotations

from typing import Any

from common.contracts import facility as contract
from common.events.envelope import Envelope
from services.submittal.adapters.tables import FacilityView
from services.submittal.domain.elements import ElementType
from services.submittal.service_layer import feed, search_index

# Elements whose submission moves what the search reads (the point, the inventory).
_INDEXED = {ElementType.FACILITY_INFORMATION.value, ElementType.HAZARDOUS_MATERIALS_INVENTORY.value}


async def recorded(session: Any, facility: FacilityView, envelope: Envelope) -> None:
    """After ``record_event`` of a submittal event about ``facility``."""
    await recorded_together(session, facility, [envelope])


async def recorded_together(
    session: Any, facility: FacilityView, envelopes: list[Envelope]
) -> None:
    """After ``record_event`` of several submittal events about ``facility`` in one
    transaction (a submission of drafts, a certification): each gets its feed entry, and the
    search rows are recomputed once, from the elements as the transaction leaves them
    (recomputing after each event gave the same rows, three times over for a certification).
    """
    if any(_moves_search(envelope) for envelope in envelopes):
        await search_index.submissions_changed(session, facility.id)
    for envelope in envelopes:
        await feed.append(session, envelope, facility_id=facility.id, cers_id=facility.cers_id,
                          organization_id=facility.organization_id,
                          agency_id=facility.agency_id)


def _moves_search(envelope: Envelope) -> bool:
    element = envelope.data.get("element")
    return element is None or element in _INDEXED


class FacilityEvents:
    """Runs after the read model applied a facility event (same session, same transaction)."""

    async def __call__(self, session: Any, envelope: Envelope) -> None:
        kind = envelope.type
        if kind in (contract.FACILITY_CREATED, contract.FACILITY_UPDATED,
                    contract.FACILITY_TRANSFERRED, contract.FACILITY_COMPLIANCE_CHANGED):
            model = contract.EVENT_MODELS[kind].model_validate(envelope.data)
            snapshot: contract.Facility = model.facility  # type: ignore[attr-defined]
            await search_index.facility_changed(session, snapshot)
            also_org = also_agency = None
            if isinstance(model, contract.FacilityUpdated):
                also_agency = model.previous_agency_id
            elif isinstance(model, contract.FacilityTransferred):
                also_org = model.from_organization_id
            await feed.append(session, envelope, facility_id=snapshot.facility_id,
                              cers_id=snapshot.cers_id, organization_id=snapshot.organization_id,
                              agency_id=snapshot.agency_id, also_organization_id=also_org,
                              also_agency_id=also_agency)
        elif kind in (contract.DUE_DATE_CHANGED, contract.PERMIT_ISSUED):
            facility_id = str(envelope.data.get("facility_id") or envelope.aggregate_id)
            if kind == contract.DUE_DATE_CHANGED:
                due = contract.DueDateChanged.model_validate(envelope.data)
                await search_index.due_date_changed(session, facility_id, due.annual_due_date)
            view = await session.get(FacilityView, facility_id)
            if view is not None:
                await feed.append(session, envelope, facility_id=facility_id,
                                  cers_id=view.cers_id, organization_id=view.organization_id,
                                  agency_id=view.agency_id)
