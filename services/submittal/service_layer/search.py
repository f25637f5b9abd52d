"""Searching the current inventories of every facility the caller may see.

Who sees what (DESIGN §4): a regulator the facilities of its agencies, a business its own,
a statewide reader every county. A statewide reader never finds a trade-secret material by its
identity (CAS number or name) unless it is also the facility's business or regulator, and sees
such a material's identity withheld, exactly as the inventory itself shows it.

The query is one table (``search_materials``), grouped by facility and keyset-paged on the
sort key plus the CERS ID; the total counts distinct facilities with the same conditions.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    and_,
    any_,
    bindparam,
    false,
    func,
    not_,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.submittal.adapters.search_tables import SearchFacility, SearchMaterial
from services.submittal.adapters.tables import FacilityView
from services.submittal.domain import search as rules
from services.submittal.domain.geo import EARTH_RADIUS_MILES, box_around, miles_between
from services.submittal.domain.hmi import HazardCategory, PhysicalState, Units
from services.submittal.domain.search import SearchFilter, Sort, SortBy
from services.submittal.domain.secrets import WITHHELD
from services.submittal.domain.units import POUNDS_PER_TON, convert
from services.submittal.service_layer.access import Caller
from services.submittal.service_layer.errors import Invalid

MAX_PAGE = 200
MAX_MATERIALS_PER_RESULT = 100
COUNT_LIMIT = 10_000
M = SearchMaterial


@dataclass(frozen=True)
class Scope:
    statewide: bool
    agencies: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()

    @classmethod
    def of(cls, caller: Caller) -> Scope:
        return cls(caller.is_statewide, tuple(sorted(caller.staff)),
                   tuple(sorted(caller.business)))

    @property
    def sees_nothing(self) -> bool:
        return not (self.statewide or self.agencies or self.organizations)

    def own(self, agency_id: str | None, organization_id: str) -> bool:
        """The caller is this facility's regulator or business: it sees its secrets."""
        return (agency_id is not None and agency_id in self.agencies) or (
            organization_id in self.organizations)

    def own_condition(self, table: Any = M) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = []
        if self.agencies:
            parts.append(col(table.agency_id).in_(self.agencies))
        if self.organizations:
            parts.append(col(table.organization_id).in_(self.organizations))
        return or_(*parts) if parts else false()


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the sort value (distance or amount) and the CERS ID."""

    cers_id: int
    value: float | None = None


@dataclass(slots=True)
class MaterialMatch:
    position: int
    common_name: str | None
    chemical_name: str | None
    cas_number: str | None
    trade_secret: bool
    ehs: bool
    physical_state: PhysicalState | None
    hm_type: str | None
    hazard_categories: list[HazardCategory]
    maximum_daily_amount: float | None
    units: Units | None
    amount_in_units: float | None
    conversion_problem: str | None
    withheld: list[str]


@dataclass
class Result:
    facility_id: str
    cers_id: int
    cursor: Cursor
    name: str = ""
    record: dict[str, Any] = field(default_factory=dict)
    latitude: float | None = None
    longitude: float | None = None
    distance_miles: float | None = None
    county_id: int | None = None
    agency_id: str | None = None
    organization_id: str = ""
    compliance_status: rules.ComplianceStatus | None = None
    inventory_element_id: str | None = None
    inventory_status: str | None = None
    inventory_submitted_at: dt.datetime | None = None
    matching_material_count: int = 0
    materials: list[MaterialMatch] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    results: list[Result]
    has_next_page: bool
    total_count: Count | None = None
    not_convertible: Count | None = None


def _distance(near: rules.Near, table: Any = M) -> ColumnElement[float]:
    """Haversine miles from the point; SQLite (3.35+ math functions) and PostgreSQL alike."""
    lat0, lon0 = math.radians(near.latitude), math.radians(near.longitude)
    dlat = (func.radians(col(table.latitude)) - lat0) / 2
    dlon = (func.radians(col(table.longitude)) - lon0) / 2
    a = (func.sin(dlat) * func.sin(dlat) + math.cos(lat0) * func.cos(func.radians(
        col(table.latitude))) * func.sin(dlon) * func.sin(dlon))
    return 2 * EARTH_RADIUS_MILES * func.asin(func.sqrt(a))


def _amount_column(units: Units) -> Any:
    return getattr(M, rules.AMOUNT_COLUMNS[units])


def _amount_threshold(above: rules.AmountAbove) -> ColumnElement[bool]:
    column = _amount_column(above.units)
    amount = above.amount * POUNDS_PER_TON if above.units is Units.TONS else above.amount
    return col(column) > amount


def _compliance(statuses: Sequence[rules.ComplianceStatus], today: dt.date, table: Any
                ) -> ColumnElement[bool]:
    parts = []
    for status in statuses:
        window = rules.status_range(status, today)
        conds: list[ColumnElement[bool]] = [col(table.annual_due_date).is_not(None)]
        if window.due_after is not None:
            conds.append(col(table.annual_due_date) > window.due_after)
        if window.due_on_or_before is not None:
            conds.append(col(table.annual_due_date) <= window.due_on_or_before)
        if window.has_reasons is True:
            conds.append(col(table.update_due_by).is_not(None))
        elif window.has_reasons is False:
            conds.append(col(table.update_due_by).is_(None))
        parts.append(and_(*conds))
    return or_(*parts)


def facility_level(flt: SearchFilter, sort: Sort) -> bool:
    """No condition on a material: one row per facility answers it (search_facilities)."""
    return not (flt.has_material_identity or flt.ehs is not None or flt.physical_states
                or flt.hazard_categories or flt.maximum_daily_amount_above is not None
                or sort.by is SortBy.AMOUNT)


def conditions(flt: SearchFilter, scope: Scope, today: dt.date,
               *, skip_amount: bool = False, table: Any = M,
               prefix_of: str | None = None) -> list[ColumnElement[bool]]:
    """The WHERE clause of a filter within a scope (without the page's keyset). ``table`` is
    search_materials, or search_facilities for a filter without material conditions.
    ``prefix_of`` ("common_key" or "chemical_key") keeps one side of a name prefix."""
    T = table  # noqa: N806 - the table the facility conditions read
    conds: list[ColumnElement[bool]] = []
    if T is SearchFacility:
        conds.append(col(SearchFacility.material_count) > 0)
    if not scope.statewide:
        conds.append(scope.own_condition(T))
    identity: list[ColumnElement[bool]] = []
    if flt.cas_numbers:
        identity.append(col(M.cas_number).in_([rules.normalize_cas(c) for c in flt.cas_numbers]))
    if flt.name_starts_with:
        low, high = rules.prefix_bounds(rules.name_key(flt.name_starts_with))
        sides = [and_(col(getattr(M, key)) >= low, col(getattr(M, key)) < high)
                 for key in ("common_key", "chemical_key") if prefix_of in (None, key)]
        identity.append(or_(*sides))
    if flt.name_contains:
        identity.append(col(M.name_key).contains(rules.name_key(flt.name_contains),
                                                 autoescape=True))
    if identity and scope.statewide:
        # A secret identity is never found by its identity, except by its own business or
        # regulator (who may also hold a statewide token).
        conds.append(or_(not_(col(M.trade_secret)), scope.own_condition()))
    conds += identity
    if flt.ehs is not None:
        conds.append(col(M.ehs) == flt.ehs)
    if flt.physical_states:
        conds.append(col(M.physical_state).in_([s.value for s in flt.physical_states]))
    if flt.hazard_categories:
        bits = 0
        for category in flt.hazard_categories:
            bits |= rules.HAZARD_BITS[category]
        conds.append(col(M.hazard_mask).op("&")(bits) != 0)
    if flt.maximum_daily_amount_above is not None and not skip_amount:
        conds.append(_amount_threshold(flt.maximum_daily_amount_above))
    if flt.counties:
        conds.append(col(T.county_id).in_(flt.county_ids))
    if flt.agency_ids:
        conds.append(col(T.agency_id).in_(flt.agency_ids))
    if flt.inventory_statuses:
        conds.append(col(T.inventory_status).in_(flt.inventory_statuses))
    if flt.compliance_statuses:
        conds.append(_compliance(flt.compliance_statuses, today, T))
    if flt.near is not None:
        box = box_around(flt.near.latitude, flt.near.longitude, flt.near.radius_miles)
        conds += [col(T.latitude).between(box.min_latitude, box.max_latitude),
                  col(T.longitude).between(box.min_longitude, box.max_longitude),
                  _distance(flt.near, T) <= flt.near.radius_miles]
    return conds


def check(flt: SearchFilter, sort: Sort) -> None:
    issues = rules.check_filter(flt, sort)
    if issues:
        raise Invalid(issues)


def page_query(flt: SearchFilter, scope: Scope, sort: Sort, after: Cursor | None,
               today: dt.date) -> tuple[Any, ColumnElement[Any] | None]:
    """The SELECT of one page's CERS IDs (and sort values), without its LIMIT."""
    T = SearchFacility if facility_level(flt, sort) else M  # noqa: N806
    where = conditions(flt, scope, today, table=T)
    key: ColumnElement[Any] | None = None
    having: ColumnElement[bool] | None = None
    page_where = list(where)
    query: Any
    if sort.by is SortBy.DISTANCE:
        assert flt.near is not None
        key = _distance(flt.near, T)
        if after is not None:
            page_where.append(or_(key > after.value, and_(key == after.value,
                                                          col(T.cers_id) > after.cers_id)))
        query = (select(col(T.cers_id), key.label("k"))
                 .where(*page_where)
                 .group_by(col(T.cers_id), col(T.latitude), col(T.longitude))
                 .order_by(key, col(T.cers_id)))
    elif sort.by is SortBy.AMOUNT:
        key = func.coalesce(func.max(_amount_column(sort.units)), -1.0)
        if after is not None:
            having = or_(key < after.value, and_(key == after.value,
                                                 col(M.cers_id) > after.cers_id))
        query = (select(col(M.cers_id), key.label("k"))
                 .where(*page_where).group_by(col(M.cers_id))
                 .order_by(key.desc(), col(M.cers_id)))
        if having is not None:
            query = query.having(having)
    else:
        if after is not None:
            page_where.append(col(T.cers_id) > after.cers_id)
        query = (select(col(T.cers_id))
                 .where(*page_where).group_by(col(T.cers_id))
                 .order_by(col(T.cers_id)))
    return query, key


async def search(session: AsyncSession, scope: Scope, flt: SearchFilter, sort: Sort,
                 first: int, after: Cursor | None, today: dt.date, *,
                 with_total: bool = False,
                 max_materials: int | None = MAX_MATERIALS_PER_RESULT) -> Page:
    """One page of facilities, each with its matching materials (at most ``max_materials``
    of them; ``matching_material_count`` has them all)."""
    check(flt, sort)
    first = max(0, min(first, MAX_PAGE))
    if scope.sees_nothing:
        none = Count(0, True)
        return Page([], False, none if with_total else None, none if with_total else None)
    query, key = page_query(flt, scope, sort, after, today)
    rows = (await session.execute(query.limit(first + 1))).all()
    more = len(rows) > first
    rows = rows[:first]
    # Grouping by the CERS ID alone lets PostgreSQL answer from an index (the id of each
    # facility comes with its search row, read here).
    facilities = {row[0]: row for row in (await session.execute(
        select(col(SearchFacility.cers_id), *FACILITY_COLUMNS)
        .where(_one_of(session, SearchFacility.cers_id, [r.cers_id for r in rows]))))}
    results = [Result(facility_id=facilities[r.cers_id][1], cers_id=r.cers_id,
                      cursor=Cursor(r.cers_id, float(r.k) if key is not None else None))
               for r in rows if r.cers_id in facilities]
    await _fill(session, results, {row[1]: row[1:] for row in facilities.values()},
                conditions(flt, scope, today), scope, flt, sort, today, max_materials)
    total = not_convertible = None
    if with_total:
        total, not_convertible = await count(session, scope, flt, today)
    return Page(results, more, total, not_convertible)


@dataclass(frozen=True)
class Count:
    """How many: exact up to ``limit``; past it, ``value`` is the limit and a lower bound."""

    value: int
    exact: bool


async def _bounded(session: AsyncSession, query: Any, limit: int) -> Count:
    value = (await session.execute(
        select(func.count()).select_from(query.limit(limit + 1).subquery()))).scalar_one()
    return Count(min(int(value), limit), int(value) <= limit)


async def count(session: AsyncSession, scope: Scope, flt: SearchFilter, today: dt.date,
                limit: int = COUNT_LIMIT) -> tuple[Count, Count]:
    """Matching facilities, and materials left out only because their amount does not
    convert to the unit of the amount filter; each counted up to ``limit`` (a count of every
    row of a broad statewide filter would cost a scan of millions of rows)."""
    if scope.sees_nothing:
        return Count(0, True), Count(0, True)
    T = SearchFacility if facility_level(flt, Sort()) else M  # noqa: N806
    total = await _bounded(session, total_query(flt, scope, today, T), limit)
    not_convertible = Count(0, True)
    above = flt.maximum_daily_amount_above
    if above is not None:
        unconverted = [*conditions(flt, scope, today, skip_amount=True),
                       col(_amount_column(above.units)).is_(None)]
        not_convertible = await _bounded(session, select(col(M.id)).where(*unconverted), limit)
    return total, not_convertible


def _one_of(session: AsyncSession, column: Any, values: list[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL as ``= ANY(array)``, one parameter instead of one
    per value (rendering 50 casted parameters on every page cost more than the query)."""
    element: Any = col(column)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        any_value: ColumnElement[bool] = element == any_(
            bindparam(None, values, type_=ARRAY(element.type)))
        return any_value
    in_values: ColumnElement[bool] = element.in_(values)
    return in_values


def total_query(flt: SearchFilter, scope: Scope, today: dt.date, table: Any) -> Any:
    """The CERS IDs a total counts. "Name contains" alone on materials reads one row per
    facility (its material names, trigram-indexed on PostgreSQL); a name prefix reads its two
    covering indexes, common and chemical name, one at a time (their OR would read the table).
    """
    if flt.name_contains and facility_level(replace(flt, name_contains=None), Sort()):
        F = SearchFacility  # noqa: N806
        key = rules.name_key(flt.name_contains)
        named = col(F.names).contains(key, autoescape=True)
        if scope.statewide:
            # As on the materials: a secret name is found only by its business or regulator.
            named = or_(col(F.public_names).contains(key, autoescape=True),
                        and_(scope.own_condition(F), named))
        return select(col(F.cers_id)).where(
            *conditions(replace(flt, name_contains=None), scope, today, table=F), named)
    if flt.name_starts_with and table is M:
        return union(*(select(col(M.cers_id)).where(
            *conditions(flt, scope, today, prefix_of=key))
            for key in ("common_key", "chemical_key")))
    return select(col(table.cers_id)).where(*conditions(flt, scope, today, table=table)
                                            ).distinct()


async def _fill(session: AsyncSession, results: list[Result],
                facilities: dict[str, Sequence[Any]], where: list[ColumnElement[bool]],
                scope: Scope, flt: SearchFilter, sort: Sort, today: dt.date,
                max_materials: int | None) -> None:
    """Facility columns (``FACILITY_COLUMNS`` by facility id), the record (name, address)
    and the matching materials of a page."""
    if not results:
        return
    ids = [r.facility_id for r in results]
    views = {row[0]: row for row in (await session.execute(
        select(col(FacilityView.id), col(FacilityView.name), col(FacilityView.record))
        .where(_one_of(session, FacilityView.id, ids))))}
    # Plain tuples of the columns a match needs: a broad filter matches every material of a
    # page's facilities (about 650), and building ORM objects of them, or reading a row's
    # columns by name, cost more than the query.
    matches: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for material in (await session.execute(
            select(*MATCH_COLUMNS).where(*where, _one_of(session, M.facility_id, ids))
            .order_by(col(M.facility_id), col(M.position)))):
        matches[material[0]].append(tuple(material))
    units = (flt.maximum_daily_amount_above.units if flt.maximum_daily_amount_above
             else sort.units)
    near = flt.near
    for result in results:
        sf, view = facilities.get(result.facility_id), views.get(result.facility_id)
        if sf is not None:
            (_, result.latitude, result.longitude, result.county_id, result.agency_id,
             result.organization_id, annual_due_date, update_due_by,
             result.inventory_element_id, result.inventory_status,
             result.inventory_submitted_at) = sf
            result.compliance_status = rules.compliance_status(annual_due_date,
                                                               update_due_by, today)
        if view is not None:
            result.name, result.record = view[1], dict(view[2])
        if near is not None and result.latitude is not None and result.longitude is not None:
            result.distance_miles = miles_between(near.latitude, near.longitude,
                                                  result.latitude, result.longitude)
        found = matches.get(result.facility_id, [])
        result.matching_material_count = len(found)
        result.materials = [_match(m, scope, units) for m in found[:max_materials]]


FACILITY_COLUMNS = tuple(col(getattr(SearchFacility, name)) for name in (
    "facility_id", "latitude", "longitude", "county_id", "agency_id", "organization_id",
    "annual_due_date", "update_due_by", "inventory_element_id", "inventory_status",
    "inventory_submitted_at"))
MATCH_COLUMNS = tuple(col(getattr(M, name)) for name in (
    "facility_id", "position", "common_name", "chemical_name", "cas_number", "trade_secret",
    "agency_id", "organization_id", "ehs", "physical_state", "hm_type", "hazard_mask",
    "maximum_daily_amount", "units", "pounds", "gallons", "cubic_feet"))
STATES = {state.value: state for state in PhysicalState}
UNITS = {unit.value: unit for unit in Units}
WITHHELD_FIELDS = ("chemicalName", "commonName", "casNumber", "components")


def _match(m: tuple[Any, ...], scope: Scope, units: Units) -> MaterialMatch:
    (_, position, common, chemical, cas, trade_secret, agency_id, organization_id, ehs,
     physical_state, hm_type, hazard_mask, maximum_daily_amount, reported_units, pounds,
     gallons, cubic_feet) = m
    withheld: list[str] = []
    if trade_secret and not scope.own(agency_id, organization_id):
        common = chemical = WITHHELD
        cas = None
        withheld = list(WITHHELD_FIELDS)
    state = STATES.get(physical_state) if physical_state is not None else None
    unit = UNITS.get(reported_units) if reported_units is not None else None
    amount: float | None = None
    problem: str | None = None
    if maximum_daily_amount is not None and unit is not None:
        if units is Units.POUNDS:
            amount = pounds
        elif units is Units.GALLONS:
            amount = gallons
        elif units is Units.CUBIC_FEET:
            amount = cubic_feet
        else:
            amount = pounds / POUNDS_PER_TON if pounds is not None else None
        if amount is None:
            problem = convert(maximum_daily_amount, unit, units, state=state).problem
    return MaterialMatch(
        position=position, common_name=common, chemical_name=chemical, cas_number=cas,
        trade_secret=trade_secret, ehs=ehs, physical_state=state, hm_type=hm_type,
        hazard_categories=rules.hazard_categories(hazard_mask),
        maximum_daily_amount=maximum_daily_amount, units=unit, amount_in_units=amount,
        conversion_problem=problem, withheld=withheld)
