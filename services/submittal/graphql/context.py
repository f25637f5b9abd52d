"""Per-request access to the wiring and the caller, with batching loaders (no N+1)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import strawberry
from sqlalchemy import select
from sqlmodel import col
from strawberry.dataloader import DataLoader

from common.auth import Principal
from common.graphql import context_of
from services.submittal.adapters.tables import Element, FacilityView
from services.submittal.service_layer.access import Caller, load_caller, require_fresh
from services.submittal.service_layer.deps import Deps
from services.submittal.service_layer.elements import SUBMITTED_STATES

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
    async with deps.db.read() as session:
        return await load_caller(session, principal)


def facilities(info: Info) -> DataLoader[str, FacilityView | None]:
    deps = deps_of(info)

    async def load(ids: list[str]) -> list[FacilityView | None]:
        async with deps.db.read() as session:
            rows = await session.execute(select(FacilityView).where(col(FacilityView.id).in_(ids)))
            found = {row.id: row for row in rows.scalars()}
        return [found.get(i) for i in ids]

    return context_of(info).loader("facilities", lambda: DataLoader(load_fn=load))


def elements_by_id(info: Info) -> DataLoader[str, Element | None]:
    deps = deps_of(info)

    async def load(ids: list[str]) -> list[Element | None]:
        async with deps.db.read() as session:
            rows = await session.execute(select(Element).where(col(Element.id).in_(ids)))
            found = {row.id: row for row in rows.scalars()}
        return [found.get(i) for i in ids]

    return context_of(info).loader("elements", lambda: DataLoader(load_fn=load))


def elements_by_facility(info: Info) -> DataLoader[str, list[Element]]:
    """Every element row of each facility, newest first, in one query per batch."""
    deps = deps_of(info)

    async def load(ids: list[str]) -> list[list[Element]]:
        grouped: dict[str, list[Element]] = defaultdict(list)
        async with deps.db.read() as session:
            rows = await session.execute(
                select(Element).where(col(Element.facility_id).in_(ids)).order_by(
                    col(Element.facility_id), col(Element.created_at).desc(),
                    col(Element.id).desc())
            )
            for row in rows.scalars():
                grouped[row.facility_id].append(row)
        return [grouped.get(i, []) for i in ids]

    return context_of(info).loader("elements_by_facility", lambda: DataLoader(load_fn=load))


def latest_submitted_ids(info: Info) -> DataLoader[tuple[str, str], str | None]:
    """The id of each (facility, element type)'s latest submission, in one query per batch."""
    deps = deps_of(info)

    async def load(keys: list[tuple[str, str]]) -> list[str | None]:
        latest: dict[tuple[str, str], tuple[Any, str]] = {}
        async with deps.db.read() as session:
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
