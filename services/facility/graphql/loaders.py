"""Per-request batch loaders, so lists and _entities never query once per item."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import strawberry
from sqlalchemy import select
from sqlmodel import col
from strawberry.dataloader import DataLoader

from common.graphql import context_of
from services.facility.adapters.tables import (
    Agency,
    Facility,
    FacilityReason,
    HistoryEntry,
    Jurisdiction,
    Membership,
    Organization,
    Permit,
    StaffMember,
)
from services.facility.service_layer.access import Caller, load_caller
from services.facility.service_layer.context import Facilities

T = TypeVar("T")
Info = strawberry.Info[Any, Any]


def app_of(info: Info) -> Facilities:
    app: Facilities = context_of(info).extra["app"]
    return app


async def caller_of(info: Info) -> Caller:
    """The caller's grants, loaded once per request, even when 50 ``_entities`` resolvers ask
    at the same moment (each would otherwise load them on a connection of its own)."""
    context = context_of(info)
    pending = context.extra.get("caller")
    if pending is None:
        pending = context.extra["caller"] = asyncio.ensure_future(
            _load_caller(app_of(info), context.principal))
    caller: Caller = await pending
    return caller


async def _load_caller(app: Facilities, principal: Any) -> Caller:
    async with app.db.read() as session:
        return await load_caller(session, principal)


def _loader(
    info: Info, name: str, fetch: Callable[[Facilities, list[str]], Awaitable[dict[str, T]]]
) -> DataLoader[str, T | None]:
    app = app_of(info)

    async def load(keys: Sequence[str]) -> list[T | None]:
        found = await fetch(app, list(keys))
        return [found.get(k) for k in keys]

    return context_of(info).loader(name, lambda: DataLoader(load_fn=load))


def _grouped(
    info: Info, name: str, model: Any, column: Any, order: Any
) -> DataLoader[str, list[Any] | None]:
    async def fetch(app: Facilities, keys: list[str]) -> dict[str, list[Any]]:
        groups: dict[str, list[Any]] = defaultdict(list)
        async with app.db.read() as session:
            rows = await session.execute(select(model).where(column.in_(keys)).order_by(order))
            for row in rows.scalars():
                groups[getattr(row, column.key)].append(row)
        return groups

    return _loader(info, name, fetch)


def _by_id(info: Info, name: str, model: Any) -> DataLoader[str, Any]:
    async def fetch(app: Facilities, keys: list[str]) -> dict[str, Any]:
        async with app.db.read() as session:
            rows = await session.execute(select(model).where(model.id.in_(keys)))
            return {row.id: row for row in rows.scalars()}

    return _loader(info, name, fetch)


def facilities(info: Info) -> DataLoader[str, Facility | None]:
    return _by_id(info, "facility", Facility)


def organizations(info: Info) -> DataLoader[str, Organization | None]:
    return _by_id(info, "organization", Organization)


def agencies(info: Info) -> DataLoader[str, Agency | None]:
    return _by_id(info, "agency", Agency)


def reasons(info: Info) -> DataLoader[str, list[FacilityReason] | None]:
    return _grouped(
        info, "reasons", FacilityReason, FacilityReason.facility_id, FacilityReason.due_by
    )


def permits(info: Info) -> DataLoader[str, list[Permit] | None]:
    return _grouped(info, "permits", Permit, Permit.facility_id, Permit.issued_at)


def members(info: Info) -> DataLoader[str, list[Membership] | None]:
    return _grouped(info, "members", Membership, Membership.organization_id, Membership.granted_at)


def jurisdictions(info: Info) -> DataLoader[str, list[Jurisdiction] | None]:
    return _grouped(
        info, "jurisdictions", Jurisdiction, Jurisdiction.agency_id, Jurisdiction.county_id
    )


def staff(info: Info) -> DataLoader[str, list[StaffMember] | None]:
    return _grouped(info, "staff", StaffMember, StaffMember.agency_id, StaffMember.granted_at)


def regulated_organizations(info: Info, agency_ids: frozenset[str]) -> DataLoader[str, bool]:
    """Whether an organization has a facility regulated by one of the caller's agencies."""

    async def fetch(app: Facilities, keys: list[str]) -> dict[str, bool]:
        async with app.db.read() as session:
            rows = await session.execute(
                select(col(Facility.organization_id))
                .where(
                    col(Facility.organization_id).in_(keys),
                    col(Facility.agency_id).in_(agency_ids),
                )
                .distinct()
            )
            return {org: True for org in rows.scalars()}

    return _loader(info, "regulated_orgs", fetch)  # type: ignore[return-value]


def history(info: Info) -> DataLoader[str, list[HistoryEntry] | None]:
    return _grouped(
        info, "history", HistoryEntry, col(HistoryEntry.facility_id), col(HistoryEntry.id)
    )
