"""``hazardousMaterialSearch``: facilities by what their current inventory holds, and where."""

from __future__ import annotations

import datetime as dt

import strawberry

from common.graphql import PageInfo, coded_error, context_of, decode_cursor, encode_cursor
from services.submittal.domain import search as rules
from services.submittal.domain.hmi import HazardCategory, PhysicalState, Units
from services.submittal.graphql import data_types as dt_types
from services.submittal.graphql.context import Info, caller_of, deps_of, elements_by_id
from services.submittal.graphql.facility import Facility
from services.submittal.graphql.types import SubmittalElement
from services.submittal.service_layer import audit
from services.submittal.service_layer import search as service
from services.submittal.service_layer.errors import Invalid

ComplianceStatusEnum = strawberry.enum(rules.ComplianceStatus, name="ComplianceStatus")
SortEnum = strawberry.enum(rules.SortBy, name="HazardousMaterialSearchSort",
                           description="CERS_ID (default), DISTANCE from filter.near (nearest "
                           "first) or AMOUNT (the largest matching maximum daily amount first, "
                           "in amountUnits).")


@strawberry.input(description="Facilities within radiusMiles of a point in California.")
class NearInput:
    latitude: float
    longitude: float
    radius_miles: float


@strawberry.input(description="A maximum daily amount above this, in these units. Amounts "
                  "reported in other units are converted (weight and volume through the "
                  "material's density); materials that cannot be converted do not match and "
                  "are counted in amountNotConvertible.")
class AmountAboveInput:
    amount: float
    units: Units


@strawberry.input(description="Every field is optional and they combine with AND; a list "
                  "means any of its values. Material conditions must hold for one material.")
class HazardousMaterialSearchFilter:
    cas_numbers: list[str] | None = None
    name_starts_with: str | None = strawberry.field(
        default=None, description="Common or chemical name starts with this (any case).")
    name_contains: str | None = strawberry.field(
        default=None, description="Common or chemical name contains this (any case, at least "
        "3 characters).")
    ehs: bool | None = None
    hazard_categories: list[HazardCategory] | None = None
    physical_states: list[PhysicalState] | None = None
    maximum_daily_amount_above: AmountAboveInput | None = None
    counties: list[str] | None = None
    agency_ids: list[strawberry.ID] | None = None
    compliance_statuses: list[ComplianceStatusEnum] | None = None  # type: ignore[valid-type]
    inventory_statuses: list[dt_types.SubmittalStatusEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Status of the current inventory (SUBMITTED, UNDER_REVIEW, "
        "ACCEPTED, NOT_ACCEPTED).")
    near: NearInput | None = None


@strawberry.type(description="A material of the facility's current inventory that matched. "
                 "Trade-secret identities are withheld from statewide readers, as everywhere.")
class HazardousMaterialMatch:
    position: int = strawberry.field(description="Index in the inventory's "
                                     "hazardousMaterials list.")
    common_name: str | None
    chemical_name: str | None
    cas_number: str | None
    trade_secret: bool
    ehs: bool
    physical_state: PhysicalState | None
    hazard_categories: list[HazardCategory]
    maximum_daily_amount: float | None
    units: Units | None
    amount_in_units: float | None = strawberry.field(description="The maximum daily amount in "
                                                      "the search's units; null when it does "
                                                      "not convert (see conversionProblem).")
    conversion_problem: str | None
    withheld: list[str]


@strawberry.type
class HazardousMaterialSearchResult:
    facility: Facility | None = strawberry.field(
        description="The facility. Null only when its fields cannot be fetched (the facility "
        "service is unreachable): the matching materials and the distance are still answered.")
    latitude: float | None
    longitude: float | None
    distance_miles: float | None
    compliance_status: ComplianceStatusEnum | None  # type: ignore[valid-type]
    inventory_status: dt_types.SubmittalStatusEnum | None  # type: ignore[valid-type]
    inventory_submitted_at: dt.datetime | None
    matching_material_count: int
    materials: list[HazardousMaterialMatch]
    inventory_id: strawberry.Private[str | None]
    sees_secrets: strawberry.Private[bool]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The current inventory element (the latest submitted).")
    async def inventory(self, info: Info) -> SubmittalElement | None:
        if self.inventory_id is None:
            return None
        row = await elements_by_id(info).load(self.inventory_id)
        return SubmittalElement.from_domain(row, self.sees_secrets) if row else None


@strawberry.type
class HazardousMaterialSearchEdge:
    cursor: str
    node: HazardousMaterialSearchResult


@strawberry.type
class HazardousMaterialSearchConnection:
    edges: list[HazardousMaterialSearchEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(
        description="Matching facilities (all pages), counted exactly up to 10,000; past "
        "that it is 10,000 and totalCountIsExact is false.")
    total_count_is_exact: bool
    amount_not_convertible: int = strawberry.field(
        description="Materials that met every other condition but whose amount does not "
        "convert to the units of maximumDailyAmountAbove (counted up to 10,000).")


def to_filter(value: HazardousMaterialSearchFilter | None) -> rules.SearchFilter:
    if value is None:
        return rules.SearchFilter()
    near = above = None
    if value.near is not None:
        near = rules.Near(value.near.latitude, value.near.longitude, value.near.radius_miles)
    if value.maximum_daily_amount_above is not None:
        above = rules.AmountAbove(value.maximum_daily_amount_above.amount,
                                  Units(value.maximum_daily_amount_above.units))
    return rules.SearchFilter(
        cas_numbers=tuple(value.cas_numbers or ()), name_starts_with=value.name_starts_with,
        name_contains=value.name_contains, ehs=value.ehs,
        hazard_categories=tuple(HazardCategory(h) for h in value.hazard_categories or ()),
        physical_states=tuple(PhysicalState(s) for s in value.physical_states or ()),
        maximum_daily_amount_above=above, counties=tuple(value.counties or ()),
        agency_ids=tuple(str(a) for a in value.agency_ids or ()),
        compliance_statuses=tuple(rules.ComplianceStatus(c)
                                  for c in value.compliance_statuses or ()),
        inventory_statuses=tuple(str(getattr(s, "value", s))
                                 for s in value.inventory_statuses or ()),
        near=near)


def encode(sort: rules.SortBy, cursor: service.Cursor) -> str:
    return encode_cursor(sort.value, cursor.cers_id, cursor.value)


def decode(sort: rules.SortBy, value: str) -> service.Cursor:
    parts = decode_cursor(value)
    if (len(parts) != 3 or parts[0] != sort.value or not isinstance(parts[1], int)
            or not (parts[2] is None or isinstance(parts[2], int | float))):
        raise coded_error("BAD_USER_INPUT", "Invalid cursor for this sort: pass endCursor "
                          "unchanged, with the same sort.", field="after")
    return service.Cursor(parts[1], None if parts[2] is None else float(parts[2]))


def _selected(info: Info, name: str) -> bool:
    return any(getattr(s, "name", None) == name
               for field in info.selected_fields for s in field.selections)


def result_node(result: service.Result, scope: service.Scope) -> HazardousMaterialSearchResult:
    return HazardousMaterialSearchResult(
        facility=Facility(id=strawberry.ID(result.facility_id)),
        latitude=result.latitude, longitude=result.longitude,
        distance_miles=result.distance_miles, compliance_status=result.compliance_status,
        inventory_status=result.inventory_status,
        inventory_submitted_at=result.inventory_submitted_at,
        matching_material_count=result.matching_material_count,
        materials=[HazardousMaterialMatch(
            position=m.position, common_name=m.common_name, chemical_name=m.chemical_name,
            cas_number=m.cas_number, trade_secret=m.trade_secret, ehs=m.ehs,
            physical_state=m.physical_state,
            hazard_categories=m.hazard_categories,
            maximum_daily_amount=m.maximum_daily_amount,
            units=m.units, amount_in_units=m.amount_in_units,
            conversion_problem=m.conversion_problem, withheld=m.withheld)
            for m in result.materials],
        inventory_id=result.inventory_element_id,
        sees_secrets=scope.own(result.agency_id, result.organization_id))


@strawberry.type
class SearchQuery:
    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Facilities whose current inventory (the latest submitted Hazardous "
        "Materials Inventory, never a draft) matches the filter, each with its matching "
        "materials; keyset-paged. A regulator searches its jurisdiction, a business its own "
        "facilities, a statewide reader every county. Every search is audit-logged.")
    async def hazardous_material_search(
        self, info: Info, filter: HazardousMaterialSearchFilter | None = None,
        sort: SortEnum = rules.SortBy.CERS_ID,  # type: ignore[valid-type]
        amount_units: Units = Units.POUNDS, first: int = 50, after: str | None = None,
    ) -> HazardousMaterialSearchConnection:
        principal = context_of(info).principal
        if principal is None:
            raise coded_error("UNAUTHENTICATED", "Sign in first: send 'Authorization: "
                              "Bearer <token>'.")
        caller = await caller_of(info)
        scope = service.Scope.of(caller)
        flt, order = to_filter(filter), rules.Sort(rules.SortBy(sort), Units(amount_units))
        cursor = decode(order.by, after) if after else None
        with_total = any(_selected(info, name) for name in (
            "totalCount", "totalCountIsExact", "amountNotConvertible"))
        deps = deps_of(info)
        try:
            async with deps.db.read() as session:
                page = await service.search(session, scope, flt, order, first, cursor,
                                            dt.date.today(), with_total=with_total)
        except Invalid as invalid:
            raise coded_error("BAD_USER_INPUT", "; ".join(i.message for i in invalid.issues),
                              field=invalid.issues[0].field) from invalid
        await audit.record(deps.db, principal, "SEARCH", {
            **flt.as_json(), "sort": order.by.value, "first": first, "after": after},
            page.total_count.value if page.total_count is not None else len(page.results))
        edges = [HazardousMaterialSearchEdge(cursor=encode(order.by, r.cursor),
                                             node=result_node(r, scope))
                 for r in page.results]
        return HazardousMaterialSearchConnection(
            edges=edges, page_info=PageInfo(has_next_page=page.has_next_page,
                                            end_cursor=edges[-1].cursor if edges else after),
            total_count=page.total_count.value if page.total_count else 0,
            total_count_is_exact=page.total_count.exact if page.total_count else True,
            amount_not_convertible=page.not_convertible.value if page.not_convertible else 0)

