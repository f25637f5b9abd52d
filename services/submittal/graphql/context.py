"""Per-request access to the wiring and the caller, with batching loaders (no N+1)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any, cast

import strawberry
from sqlalchemy import BindParameter, bindparam, func, inspect, or_, select
from sqlalchemy.orm import QueryableAttribute, defer
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col
from strawberry.dataloader import DataLoader

from common.auth import Principal
from common.closed_accounts import admitted_grants
from common.graphql import context_of
from services.submittal.adapters.tables import Element, FacilityView
from services.submittal.service_layer.access import (
    Caller,
    caller_from_grants,
    load_caller,
    require_fresh,
)
from services.submittal.service_layer.deps import Deps
from services.submittal.service_layer.elements import SUBMITTED_STATES

DRAFT = "DRAFT"

Info = strawberry.Info[Any, Any]


def deps_of(info: Info) -> Deps:
    deps = context_of(info).extra["deps"]
    assert isinstance(deps, Deps)
    return deps


async def caller_of(info: Info, *, fresh: bool = True) -> Caller:
    """The caller, loaded once per request. Past the lag threshold this is UNAVAILABLE for
    anyone whose rights come from the read model (statewide rights come from the token)."""
    context = context_of(info)
    pending = context.extra.get("caller")
    if pending is None:
        # One load per request even when many resolvers ask at once.
        pending = context.extra["caller"] = asyncio.ensure_future(
            _load_caller(deps_of(info), context.principal))
    caller = await pending
    assert isinstance(caller, Caller)
    if fresh and not (caller.is_statewide and not caller.business and not caller.staff):
        require_fresh(deps_of(info).fresh)
    return caller


async def _load_caller(deps: Deps, principal: Principal | None) -> Caller:
    user_id = principal.user_id if principal is not None else None
    # Read with the closed-account check when the request was admitted (app.py).
    rows = admitted_grants(deps.db, user_id) if user_id is not None else None
    if rows is not None:
        return caller_from_grants(principal, rows, fresh=deps.fresh)
    async with deps.db.read(leaf=True) as session:
        return await load_caller(session, principal, fresh=deps.fresh)


# A facility's element lists leave out each element's data: the Facility page shows none of
# it, and decoding it (an inventory is tens of kB of JSON) was most of such a request's work.
# Whoever reads the data of such a row awaits ``element_data`` first; ``raiseload`` makes a
# forgotten one fail loudly instead of attempting IO outside the event loop.
_WITHOUT_DATA = defer(cast("QueryableAttribute[Any]", Element.data), raiseload=True)


async def element_data(info: Info, row: Element) -> dict[str, Any] | None:
    """``row``'s data, read now (batched with the request's other rows) if its list left it
    out. None only if the element was discarded since the row was read."""
    if "data" in inspect(row).unloaded:
        data = await _data_by_id(info).load(row.id)
        if data is None:
            return None
        # Loaded, not changed: the read session must never see it as a pending write.
        set_committed_value(row, "data", data)
    return row.data


_DATA_BY_ID = select(col(Element.id), col(Element.data)).where(
    col(Element.id).in_(bindparam("ids", expanding=True)))


def _data_by_id(info: Info) -> DataLoader[str, dict[str, Any] | None]:
    deps = deps_of(info)

    async def load(ids: list[str]) -> list[dict[str, Any] | None]:
        async with deps.db.read(leaf=True) as session:
            found = {row.id: row.data for row in await session.execute(_DATA_BY_ID,
                                                                        {"ids": ids})}
        return [found.get(i) for i in ids]

    return context_of(info).loader("element_data", lambda: DataLoader(load_fn=load))


# Built once: every element read runs it.
_ELEMENTS_WITH_FACILITIES = (
    select(Element, FacilityView)
    .outerjoin(FacilityView, col(FacilityView.id) == col(Element.facility_id))
    .where(col(Element.id).in_(bindparam("ids", expanding=True)))
)


# Built once: nearly every request runs it (building it cost more than running it).
_FACILITIES = select(FacilityView).where(
    col(FacilityView.id).in_(bindparam("ids", expanding=True)))


def facilities(info: Info) -> DataLoader[str, FacilityView | None]:
    deps = deps_of(info)

    async def load(ids: list[str]) -> list[FacilityView | None]:
        async with deps.db.read(leaf=True) as session:
            rows = await session.execute(_FACILITIES, {"ids": ids})
            found = {row.id: row for row in rows.scalars()}
        return [found.get(i) for i in ids]

    return context_of(info).loader("facilities", lambda: DataLoader(load_fn=load))


def elements_by_id(info: Info) -> DataLoader[str, Element | None]:
    """Elements by id, each read with its facility (the facilities loader is primed with
    them): whoever reads an element checks the caller's rights on its facility next."""
    deps = deps_of(info)

    async def load(ids: list[str]) -> list[Element | None]:
        async with deps.db.read(leaf=True) as session:
            rows = (await session.execute(_ELEMENTS_WITH_FACILITIES, {"ids": ids})).all()
        found = {element.id: element for element, _ in rows}
        views = facilities(info)
        for element, facility in rows:
            views.prime(element.facility_id, facility)
        return [found.get(i) for i in ids]

    return context_of(info).loader("elements", lambda: DataLoader(load_fn=load))


def _current_elements() -> Any:
    ids: BindParameter[str] = bindparam("ids", expanding=True)
    rank = func.row_number().over(
        partition_by=(col(Element.facility_id), col(Element.element_type)),
        order_by=(func.coalesce(col(Element.submitted_at), col(Element.created_at)).desc(),
                  col(Element.id).desc()),
    )
    latest = (
        select(col(Element.id).label("id"), rank.label("rank"))
        .where(col(Element.facility_id).in_(ids), col(Element.status).in_(SUBMITTED_STATES))
        .subquery()
    )
    return (
        select(Element)
        .options(_WITHOUT_DATA)
        .outerjoin(latest, latest.c.id == col(Element.id))
        .where(col(Element.facility_id).in_(ids),
               or_(col(Element.status) == DRAFT, latest.c.rank == 1))
        .order_by(col(Element.facility_id), col(Element.created_at).desc(),
                  col(Element.id).desc())
    )


# Built once, run with each batch's ids: building them cost more than running them.
_CURRENT_ELEMENTS = _current_elements()


def elements_by_facility(info: Info) -> DataLoader[str, list[Element]]:
    """Each facility's current elements, newest first, in one query per batch: its open drafts
    (at most one per element type) and the latest submission of each element type. A bounded
    set, however many times a facility has submitted. Their data is left out
    (``element_data``)."""
    deps = deps_of(info)

    async def load(ids: list[str]) -> list[list[Element]]:
        return await _grouped(deps, ids, _CURRENT_ELEMENTS, {"ids": ids})

    return context_of(info).loader("elements_by_facility", lambda: DataLoader(load_fn=load))


# Drafts keep their data: the portal shows each one's findings, which are computed from it.
_DRAFTS = (
    select(Element)
    .where(col(Element.facility_id).in_(bindparam("ids", expanding=True)),
           col(Element.status) == DRAFT)
    .order_by(col(Element.facility_id), col(Element.created_at).desc(), col(Element.id).desc())
)


def drafts_by_facility(info: Info) -> DataLoader[str, list[Element]]:
    """Each facility's open drafts (at most one per element type), newest first, with their
    data, in one query per batch."""
    deps = deps_of(info)

    async def load(ids: list[str]) -> list[list[Element]]:
        return await _grouped(deps, ids, _DRAFTS, {"ids": ids})

    return context_of(info).loader("drafts_by_facility", lambda: DataLoader(load_fn=load))


_RECENT: dict[tuple[bool, bool, bool], Any] = {}


def _recent_elements(by_element: bool, by_status: bool, drafts: bool) -> Any:
    """The newest elements of each facility in ``:ids`` (at most ``:first`` each), of
    ``:element`` and ``:status`` when asked; built once per shape (eight at most)."""
    key = (by_element, by_status, drafts)
    query = _RECENT.get(key)
    if query is None:
        conditions: list[Any] = [col(Element.facility_id).in_(bindparam("ids", expanding=True))]
        if by_element:
            conditions.append(col(Element.element_type) == bindparam("element"))
        if by_status:
            conditions.append(col(Element.status) == bindparam("status"))
        if not drafts:
            conditions.append(col(Element.status) != DRAFT)
        order = (col(Element.created_at).desc(), col(Element.id).desc())
        rank = func.row_number().over(partition_by=col(Element.facility_id), order_by=order)
        ranked = select(col(Element.id).label("id"), rank.label("rank")).where(
            *conditions).subquery()
        query = _RECENT[key] = (
            select(Element).options(_WITHOUT_DATA)
            .join(ranked, ranked.c.id == col(Element.id))
            .where(ranked.c.rank <= bindparam("first"))
            .order_by(col(Element.facility_id), *order)
        )
    return query


# (facility id, element type or None, status or None, drafts included, how many)
RecentKey = tuple[str, str | None, str | None, bool, int]


def recent_elements(info: Info) -> DataLoader[RecentKey, list[Element]]:
    """The newest elements of each facility matching a filter, at most ``first`` of each, in
    one windowed query per distinct filter. Their data is left out (``element_data``)."""
    deps = deps_of(info)

    async def load(keys: list[RecentKey]) -> list[list[Element]]:
        shapes: dict[tuple[str | None, str | None, bool, int], list[str]] = defaultdict(list)
        for facility_id, element_type, state, with_drafts, size in keys:
            shapes[(element_type, state, with_drafts, size)].append(facility_id)
        found: dict[RecentKey, list[Element]] = {}
        for (element, status, drafts, first), ids in shapes.items():
            query = _recent_elements(element is not None, status is not None, drafts)
            grouped = await _grouped(deps, ids, query, {
                "ids": ids, "element": element, "status": status, "first": first})
            for facility_id, rows in zip(ids, grouped, strict=True):
                found[(facility_id, element, status, drafts, first)] = rows
        return [found.get(k, []) for k in keys]

    return context_of(info).loader("recent_elements", lambda: DataLoader(load_fn=load))


async def _grouped(deps: Deps, ids: list[str], query: Any,
                   params: dict[str, Any] | None = None) -> list[list[Element]]:
    grouped: dict[str, list[Element]] = defaultdict(list)
    async with deps.db.read(leaf=True) as session:
        for row in (await session.execute(query, params or {})).scalars():
            grouped[row.facility_id].append(row)
    return [grouped.get(i, []) for i in ids]


def latest_submitted_ids(info: Info) -> DataLoader[tuple[str, str], str | None]:
    """The id of each (facility, element type)'s latest submission, in one query per batch."""
    deps = deps_of(info)

    async def load(keys: list[tuple[str, str]]) -> list[str | None]:
        latest: dict[tuple[str, str], tuple[Any, str]] = {}
        async with deps.db.read(leaf=True) as session:
            rows = await session.execute(
                select(col(Element.facility_id), col(Element.element_type),
                       col(Element.submitted_at), col(Element.id))
                .where(col(Element.facility_id).in_({f for f, _ in keys}),
                       col(Element.element_type).in_({t for _, t in keys}),
                       col(Element.status).in_(SUBMITTED_STATES)))
            for facility_id, element_type, submitted_at, element_id in rows:
                key = (facility_id, element_type)
                if key not in latest or (submitted_at, element_id) > latest[key]:
                    latest[key] = (submitted_at, element_id)
        return [latest[k][1] if k in latest else None for k in keys]

    return context_of(info).loader("latest_submitted", lambda: DataLoader(load_fn=load))
