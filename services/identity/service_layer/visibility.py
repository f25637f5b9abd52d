"""Whose account (user name, names, title) a caller may read: people they work with.

Identity decides from its own read model of facility's events (``adapters/read_model.py``).
A caller sees, besides themselves:

- the members of each business they belong to;
- the staff of each agency they work at;
- the staff of each agency that regulates a facility of one of their businesses, and the
  members of each business with a facility their agency regulates (reviewers, permit
  issuers and submitters on both sides of a review);
- whoever asked one of their businesses (or, for a business without a lead user, their
  agency) for access;
- statewide readers (a STATE account or the ``statewide:read`` scope): every member of a
  business and every agency staff member, the people behind the records they read across
  counties.

Anyone else, including a former member, reads as absent. All of it is one query per batch of
ids, each part an index lookup bounded by the batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import (
    BindParameter,
    ScalarResult,
    Select,
    bindparam,
    exists,
    literal_column,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from common.auth import Principal
from services.identity.adapters.tables import (
    AccessRequestView,
    FacilityView,
    MembershipView,
    StaffView,
)

CHUNK = 500


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start:start + CHUNK])


async def visible_users(
    session: AsyncSession, principal: Principal, ids: Iterable[str]
) -> set[str]:
    wanted = set(ids)
    visible = {principal.user_id} & wanted if principal.user_id else set()
    rest = sorted(wanted - visible)
    for chunk in _chunks(rest):
        visible |= await _related(session, principal, chunk)
    return visible


async def _related(session: AsyncSession, principal: Principal, ids: list[str]) -> set[str]:
    statement = _related_statement(principal.is_statewide, principal.user_id is not None)
    if statement is None:
        return set()
    found: ScalarResult[object] = await session.scalars(
        statement, {"ids": ids, "me": principal.user_id})
    return {str(value) for value in found}


# Built once per kind of caller (statewide or not, a person or not), run with each batch's
# ids and the caller's id: building the union cost more than running it.
_RELATED: dict[tuple[bool, bool], Select[tuple[object]] | None] = {}


def _related_statement(statewide: bool, person: bool) -> Select[tuple[object]] | None:
    key = (statewide, person)
    if key in _RELATED:
        return _RELATED[key]
    ids: BindParameter[str] = bindparam("ids", expanding=True)
    member, staff = MembershipView, StaffView
    parts: list[Select[tuple[str]]] = []
    if statewide:
        parts += [
            select(col(member.user_id).label("id")).where(col(member.user_id).in_(ids)),
            select(col(staff.user_id).label("id")).where(col(staff.user_id).in_(ids)),
        ]
    if person:
        me: BindParameter[str] = bindparam("me")
        my_orgs = select(col(member.organization_id)).where(col(member.user_id) == me)
        my_agencies = select(col(staff.agency_id)).where(col(staff.user_id) == me)
        facility = FacilityView
        request = AccessRequestView
        parts += [
            # the members of my businesses
            select(col(member.user_id).label("id")).where(
                col(member.user_id).in_(ids), col(member.organization_id).in_(my_orgs)),
            # the staff of my agencies
            select(col(staff.user_id).label("id")).where(
                col(staff.user_id).in_(ids), col(staff.agency_id).in_(my_agencies)),
            # the members of businesses my agencies regulate
            select(col(member.user_id).label("id")).where(
                col(member.user_id).in_(ids),
                exists().where(col(facility.organization_id) == col(member.organization_id),
                               col(facility.agency_id).in_(my_agencies))),
            # the staff of agencies that regulate my businesses
            select(col(staff.user_id).label("id")).where(
                col(staff.user_id).in_(ids),
                exists().where(col(facility.agency_id) == col(staff.agency_id),
                               col(facility.organization_id).in_(my_orgs))),
            # whoever asked my businesses, or my agencies on their behalf, for access
            select(col(request.requester_id).label("id")).where(
                col(request.requester_id).in_(ids),
                or_(col(request.organization_id).in_(my_orgs),
                    col(request.routed_to_agency_id).in_(my_agencies))),
        ]
    statement: Select[tuple[object]] | None = (
        select(literal_column("id")).select_from(union(*parts).subquery()) if parts else None)
    _RELATED[key] = statement
    return statement
