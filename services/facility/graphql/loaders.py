"""Per-request batch loaders, so lists and _entities never query once per item."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import strawberry
from sqlalchemy import bindparam, func, select
from sqlmodel import col
from strawberry.dataloader import DataLoader

from common.closed_accounts import admitted_grants
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
from services.facility.service_layer.access import Caller, caller_from_grants, load_caller
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
    user_id = principal.user_id if principal is not None else None
    # Read with the closed-account check when the request was admitted (app.py).
    rows = admitted_grants(app.db, user_id) if user_id is not None else None
    if rows is not None:
        return caller_from_grants(principal, rows)
    async with app.db.read(leaf=True) as session:
        return await load_caller(session, principal)


def _loader(
    info: Info, name: str, fetch: Callable[[Facilities, list[str]], Awaitable[dict[str, T]]]
) -> DataLoader[str, T | None]:
    app = app_of(info)

    async def load(keys: Sequence[str]) -> list[T | None]:
        found = await fetch(app, list(keys))
        return [found.get(k) for k in keys]

    return context_of(info).loader(name, lambda: DataLoader(load_fn=load))


# Statements built once (by loader name), executed with each batch's keys.
_STATEMENTS: dict[str, Any] = {}


def _statement(name: str, build: Callable[[], Any]) -> Any:
    statement = _STATEMENTS.get(name)
    if statement is None:
        statement = _STATEMENTS[name] = build()
    return statement


def _grouped(
    info: Info, name: str, model: Any, column: Any, order: Any
) -> DataLoader[str, list[Any] | None]:
    query = _statement(name, lambda: select(model).where(
        column.in_(bindparam("keys", expanding=True))).order_by(order))

    async def fetch(app: Facilities, keys: list[str]) -> dict[str, list[Any]]:
        groups: dict[str, list[Any]] = defaultdict(list)
        async with app.db.read(leaf=True) as session:
            rows = await session.execute(query, {"keys": keys})
            for row in rows.scalars():
                groups[getattr(row, column.key)].append(row)
        return groups

    return _loader(info, name, fetch)


def _by_id(info: Info, name: str, model: Any) -> DataLoader[str, Any]:
    query = _statement(name, lambda: select(model).where(
        model.id.in_(bindparam("keys", expanding=True))))

    async def fetch(app: Facilities, keys: list[str]) -> dict[str, Any]:
        async with app.db.read(leaf=True) as session:
            rows = await session.execute(query, {"keys": keys})
            return {row.id: row for row in rows.scalars()}

    return _loader(info, name, fetch)


def facilities(info: Info) -> DataLoader[str, Facility | None]:
    """Facilities by id, each read with its open reasons (the reasons loader is primed with
    them): a facility's compliance status is its reasons, and nearly every read asks it."""
    query = _statement("facility+reasons", lambda: (
        select(Facility, FacilityReason)
        .outerjoin(FacilityReason, col(FacilityReason.facility_id) == col(Facility.id))
        .where(col(Facility.id).in_(bindparam("keys", expanding=True)))
        .order_by(col(FacilityReason.due_by))))

    async def fetch(app: Facilities, keys: list[str]) -> dict[str, Facility]:
        async with app.db.read(leaf=True) as session:
            rows = (await session.execute(query, {"keys": keys})).all()
        found: dict[str, Facility] = {}
        open_reasons: dict[str, list[FacilityReason]] = defaultdict(list)
        for facility, reason in rows:
            found[facility.id] = facility
            if reason is not None:
                open_reasons[facility.id].append(reason)
        known = reasons(info)
        for facility_id in found:
            known.prime(facility_id, open_reasons.get(facility_id, []))
        return found

    return _loader(info, "facility", fetch)


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
        async with app.db.read(leaf=True) as session:
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


def _newest_history() -> Any:
    order = col(HistoryEntry.id).desc()
    rank = func.row_number().over(partition_by=col(HistoryEntry.facility_id), order_by=order)
    ranked = select(col(HistoryEntry.id).label("id"), rank.label("rank")).where(
        col(HistoryEntry.facility_id).in_(bindparam("ids", expanding=True))).subquery()
    return (select(HistoryEntry).join(ranked, ranked.c.id == col(HistoryEntry.id))
            .where(ranked.c.rank <= bindparam("first")).order_by(col(HistoryEntry.id)))


def history(info: Info) -> DataLoader[tuple[str, int], list[HistoryEntry]]:
    """The newest ``first`` history entries of each facility, in the order they happened, in
    one windowed query per batch (and page size)."""
    app = app_of(info)

    async def load(keys: Sequence[tuple[str, int]]) -> list[list[HistoryEntry]]:
        sizes: dict[int, list[str]] = defaultdict(list)
        for facility_id, first in keys:
            sizes[first].append(facility_id)
        found: dict[tuple[str, int], list[HistoryEntry]] = defaultdict(list)
        query = _statement("history", _newest_history)
        async with app.db.read(leaf=True) as session:
            for first, ids in sizes.items():
                rows = await session.execute(query, {"ids": ids, "first": first})
                for row in rows.scalars():
                    found[(row.facility_id, first)].append(row)
        return [found.get(k, []) for k in keys]

    return context_of(info).loader("history", lambda: DataLoader(load_fn=load))
