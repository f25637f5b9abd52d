"""Per-request batch loaders, so lists and _entities never query once per item."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from types import SimpleNamespace
from typing import Any, NamedTuple, TypeVar

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
    table_of,
)
from services.facility.service_layer.access import Caller, caller_from_grants, load_caller
from services.facility.service_layer.context import Facilities

T = TypeVar("T")
Info = strawberry.Info[Any, Any]

# What the loaders hand out: read-only rows with the table's columns as attributes (Core rows,
# or a namespace cut out of a joined row), not ORM objects. Resolvers only read them, and
# building ORM objects (identity map, instance state, row processors made per statement)
# was the largest part of a Facility page's CPU after its statements.
Row = Any


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


# Statements built once (by loader name, and whether for one key), run with each batch's keys.
_STATEMENTS: dict[tuple[str, bool], Any] = {}


def _statement(name: str, build: Callable[[bool], Any], keys: Sequence[Any]) -> Any:
    """The statement ``build(one)`` made once, for ``keys``: most batches have one key (a
    single facility's page), and ``= :key`` spares the expanding ``IN`` its per-execution
    rendering of the SQL."""
    one = len(keys) == 1
    statement = _STATEMENTS.get((name, one))
    if statement is None:
        statement = _STATEMENTS[(name, one)] = build(one)
    return statement


def _in_keys(column: Any, one: bool) -> Any:
    return column == bindparam("key") if one else column.in_(bindparam("keys", expanding=True))


def _keys(keys: Sequence[Any]) -> dict[str, Any]:
    return {"key": keys[0]} if len(keys) == 1 else {"keys": list(keys)}


def _c(model: Any) -> Any:
    """``model``'s table columns. Statements made of them alone are run by Core: one ORM
    attribute anywhere in a statement sends it through the ORM's execution (its compile
    state and result set-up) even when it loads no object."""
    return table_of(model).c


def _rows_of(model: Any) -> Any:
    """A SELECT of ``model``'s table columns: Core rows, attributes named as the model's."""
    return select(*table_of(model).columns)


class Part(NamedTuple):
    """Where one table's columns sit in a joined row."""

    at: slice
    names: tuple[str, ...]
    key: int  # the primary key's position within ``at``

    def of(self, row: Any) -> Row | None:
        """This table's columns of ``row`` by name; None when an outer join found no row."""
        values = row[self.at]
        if values[self.key] is None:
            return None
        return SimpleNamespace(**dict(zip(self.names, values, strict=True)))


def _joined(*models: Any) -> tuple[Any, list[Part]]:
    """A SELECT of several tables' columns (labelled by position, since names repeat: every
    table has an ``id``) and where each table's columns sit in its rows."""
    columns: list[Any] = []
    parts: list[Part] = []
    for model in models:
        table_columns = list(table_of(model).columns)
        start = len(columns)
        columns += [c.label(f"c{start + i}") for i, c in enumerate(table_columns)]
        key = next(i for i, c in enumerate(table_columns) if c.primary_key)
        parts.append(Part(slice(start, len(columns)), tuple(c.key for c in table_columns), key))
    return select(*columns), parts


def _grouped(
    info: Info, name: str, model: Any, column: Any, order: Any
) -> DataLoader[str, list[Row] | None]:
    def build(one: bool) -> Any:
        return (_rows_of(model).where(_in_keys(_c(model)[column.key], one))
                .order_by(_c(model)[order.key]))

    async def fetch(app: Facilities, keys: list[str]) -> dict[str, list[Row]]:
        groups: dict[str, list[Row]] = defaultdict(list)
        query = _statement(name, build, keys)
        async with app.db.read(leaf=True) as session:
            rows = await session.execute(query, _keys(keys))
            for row in rows:
                groups[getattr(row, column.key)].append(row)
        return groups

    return _loader(info, name, fetch)


def _by_id(info: Info, name: str, model: Any) -> DataLoader[str, Row | None]:
    async def fetch(app: Facilities, keys: list[str]) -> dict[str, Row]:
        query = _statement(name, lambda one: _rows_of(model).where(
            _in_keys(_c(model).id, one)), keys)
        async with app.db.read(leaf=True) as session:
            rows = await session.execute(query, _keys(keys))
            return {row.id: row for row in rows}

    return _loader(info, name, fetch)


def _facility_statement(one: bool) -> tuple[Any, list[Part]]:
    query, layout = _joined(Facility, FacilityReason, Organization, Agency)
    query = (
        query.select_from(table_of(Facility))
        .outerjoin(table_of(FacilityReason), _c(FacilityReason).facility_id == _c(Facility).id)
        .outerjoin(table_of(Organization), _c(Organization).id == _c(Facility).organization_id)
        .outerjoin(table_of(Agency), _c(Agency).id == _c(Facility).agency_id)
        .where(_in_keys(_c(Facility).id, one))
        .order_by(_c(FacilityReason).due_by))
    return query, layout


def facilities(info: Info) -> DataLoader[str, Row | None]:
    """Facilities by id, each read with its open reasons, its organization and its agency
    (their loaders are primed with them): a facility's compliance status is its reasons,
    nearly every read asks it, and a facility's page shows its business and regulator."""
    async def fetch(app: Facilities, keys: list[str]) -> dict[str, Row]:
        query, (facility, reason, organization, agency) = _statement(
            "facility+reasons+org+agency", _facility_statement, keys)
        async with app.db.read(leaf=True) as session:
            rows = (await session.execute(query, _keys(keys))).all()
        found: dict[str, Row] = {}
        open_reasons: dict[str, list[Row]] = defaultdict(list)
        related: list[tuple[Row | None, Row | None]] = []
        for row in rows:
            facility_id = row[facility.at.start + facility.key]
            if facility_id not in found:
                found[facility_id] = facility.of(row)
                related.append((organization.of(row), agency.of(row)))
            open_reason = reason.of(row)
            if open_reason is not None:
                open_reasons[facility_id].append(open_reason)
        known = reasons(info)
        for facility_id in found:
            known.prime(facility_id, open_reasons.get(facility_id, []))
        for organization_row, agency_row in related:
            if organization_row is not None:
                organizations(info).prime(organization_row.id, organization_row)
            if agency_row is not None:
                agencies(info).prime(agency_row.id, agency_row)
        return found

    return _loader(info, "facility", fetch)


def _memberships_statement(_: bool) -> tuple[Any, list[Part]]:
    query, parts = _joined(Membership, Organization)
    return (query.select_from(table_of(Membership))
            .join(table_of(Organization), _c(Organization).id == _c(Membership).organization_id)
            .where(_c(Membership).user_id == bindparam("user_id"))), parts


async def user_memberships(info: Info, user_id: str) -> list[Row]:
    """The user's memberships, each read with its business (the organizations loader is
    primed with them: the portal asks each membership's organization)."""
    query, (membership, organization) = _statement(
        "memberships+org", _memberships_statement, [user_id])
    async with app_of(info).db.read(leaf=True) as session:
        rows = (await session.execute(query, {"user_id": user_id})).all()
    found: list[Row] = []
    known = organizations(info)
    for row in rows:
        found.append(membership.of(row))
        organization_row = organization.of(row)
        known.prime(organization_row.id, organization_row)
    return found


def organizations(info: Info) -> DataLoader[str, Row | None]:
    return _by_id(info, "organization", Organization)


def agencies(info: Info) -> DataLoader[str, Row | None]:
    return _by_id(info, "agency", Agency)


def reasons(info: Info) -> DataLoader[str, list[Row] | None]:
    return _grouped(
        info, "reasons", FacilityReason, FacilityReason.facility_id, FacilityReason.due_by
    )


def permits(info: Info) -> DataLoader[str, list[Row] | None]:
    return _grouped(info, "permits", Permit, Permit.facility_id, Permit.issued_at)


def members(info: Info) -> DataLoader[str, list[Row] | None]:
    return _grouped(info, "members", Membership, Membership.organization_id, Membership.granted_at)


def jurisdictions(info: Info) -> DataLoader[str, list[Row] | None]:
    return _grouped(
        info, "jurisdictions", Jurisdiction, Jurisdiction.agency_id, Jurisdiction.county_id
    )


def staff(info: Info) -> DataLoader[str, list[Row] | None]:
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


def _newest_history(one: bool) -> Any:
    """The newest ``:first`` entries: of one facility, the last ones by id (newest first: the
    caller reverses them); of several, the windowed form, in the order they happened."""
    entry = _c(HistoryEntry)
    if one:
        return (_rows_of(HistoryEntry).where(entry.facility_id == bindparam("key"))
                .order_by(entry.id.desc()).limit(bindparam("first")))
    rank = func.row_number().over(partition_by=entry.facility_id, order_by=entry.id.desc())
    ranked = select(entry.id.label("id"), rank.label("rank")).where(
        entry.facility_id.in_(bindparam("keys", expanding=True))).subquery()
    return (_rows_of(HistoryEntry).join(ranked, ranked.c.id == entry.id)
            .where(ranked.c.rank <= bindparam("first")).order_by(entry.id))


def history(info: Info) -> DataLoader[tuple[str, int], list[Row]]:
    """The newest ``first`` history entries of each facility, in the order they happened, in
    one query per batch (and page size)."""
    app = app_of(info)

    async def load(keys: Sequence[tuple[str, int]]) -> list[list[Row]]:
        sizes: dict[int, list[str]] = defaultdict(list)
        for facility_id, first in keys:
            sizes[first].append(facility_id)
        found: dict[tuple[str, int], list[Row]] = defaultdict(list)
        async with app.db.read(leaf=True) as session:
            for first, ids in sizes.items():
                query = _statement("history", _newest_history, ids)
                rows = list(await session.execute(query, {**_keys(ids), "first": first}))
                if len(ids) == 1:
                    rows.reverse()
                for row in rows:
                    found[(row.facility_id, first)].append(row)
        return [found.get(k, []) for k in keys]

    return context_of(info).loader("history", lambda: DataLoader(load_fn=load))
