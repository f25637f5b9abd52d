"""The SubmittalElement entity, the Facility extension and their connections."""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet
from strawberry.scalars import JSON

from common.graphql import (
    PageInfo,
    UserError,
    coded_error,
    decode_cursor,
    encode_cursor,
    list_size,
)
from common.graphql import Severity as GqlSeverity
from services.submittal.adapters.tables import Element
from services.submittal.domain.changes import ChangeClass
from services.submittal.domain.diff import DifferenceKind, differences
from services.submittal.domain.element_data import InvalidData, parse, validate
from services.submittal.domain.elements import (
    ElementType,
    SubmittalStatus,
)
from services.submittal.domain.facility_info import FacilityInformation as FacilityInfoModel
from services.submittal.domain.hmi import HazardousMaterialsInventory
from services.submittal.domain.issues import Issue
from services.submittal.domain.model import Model
from services.submittal.domain.plans import EmergencyPlans as EmergencyPlansModel
from services.submittal.domain.secrets import redact, redact_json
from services.submittal.graphql import data_types as dt
from services.submittal.graphql import element_types as et
from services.submittal.graphql.context import (
    Info,
    caller_of,
    element_data,
    elements_by_id,
    facilities,
    latest_submitted_ids,
)
from services.submittal.service_layer.access import require_in_step
from services.submittal.service_layer.elements import may_see
from services.submittal.service_layer.errors import Refused

if TYPE_CHECKING:
    from services.submittal.graphql.facility import Facility

ChangeClassEnum = strawberry.enum(ChangeClass, name="ChangeClass")
DifferenceKindEnum = strawberry.enum(DifferenceKind, name="DifferenceKind")


@strawberry.type(description="One field (or record) that differs from the previous submission.")
class ElementDifference:
    path: list[str] = strawberry.field(description="Where in the element's data, as findings "
                                       "name fields (list positions are the current ones; for "
                                       "a removed record, its position before).")
    label: str = strawberry.field(description="The field as the form names it, with its record "
                                  "(\"Tank T-2 › Capacity (gallons)\").")
    kind: DifferenceKindEnum  # type: ignore[valid-type]
    before: str | None = strawberry.field(description="The previous value, as people read it.")
    after: str | None = strawberry.field(description="The current value, as people read it.")
    significant: bool = strawberry.field(description="The change makes the submission at least "
                                         "SIGNIFICANT.")


@strawberry.enum
class BasedOn(enum.Enum):
    BLANK = "BLANK"
    LAST_SUBMITTAL = "LAST_SUBMITTAL"


@strawberry.enum
class ReviewAction(enum.Enum):
    UNDER_REVIEW = "UNDER_REVIEW"
    ACCEPT = "ACCEPT"
    NOT_ACCEPT = "NOT_ACCEPT"


@strawberry.federation.type(keys=[Key(fields=FieldSet("id"), resolvable=False)])
class User:
    id: strawberry.ID


def user(user_id: str | None) -> User | None:
    return User(id=strawberry.ID(user_id)) if user_id else None


def user_errors(issues: list[Issue]) -> list[UserError]:
    return [UserError(field=i.field, message=i.message, code=i.code,
                      severity=GqlSeverity(i.severity.value)) for i in issues]


@strawberry.type
class Review:
    action: ReviewAction
    comments: str | None
    reviewer: User | None
    reviewed_at: datetime


@strawberry.type
class HazardousMaterialEdge:
    cursor: str
    node: dt.HazardousMaterial


@strawberry.type
class HazardousMaterialConnection:
    edges: list[HazardousMaterialEdge]
    page_info: PageInfo
    total_count: int


@strawberry.federation.type(keys=["id"])
class SubmittalElement:
    id: strawberry.ID
    element: dt.ElementTypeEnum  # type: ignore[valid-type]
    status: dt.SubmittalStatusEnum  # type: ignore[valid-type]
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    no_change_certification: bool
    certification_statement: str | None
    change_from_previous: ChangeClassEnum | None  # type: ignore[valid-type]
    based_on: BasedOn
    row: strawberry.Private[Element]
    sees_secrets: strawberry.Private[bool]
    # The parsed data, once per element and request: an inventory can hold thousands of rows.
    parsed: strawberry.Private[list[Any]] = dataclasses.field(default_factory=list)

    @classmethod
    def from_domain(cls, row: Element, sees_secrets: bool) -> SubmittalElement:
        return cls(
            id=strawberry.ID(row.id), element=ElementType(row.element_type),
            status=SubmittalStatus(row.status), created_at=row.created_at,
            updated_at=row.updated_at, submitted_at=row.submitted_at,
            no_change_certification=row.no_change_certification,
            certification_statement=row.certification_statement,
            change_from_previous=ChangeClass(row.change_from_previous)
            if row.change_from_previous else None,
            based_on=BasedOn(row.based_on), row=row, sees_secrets=sees_secrets,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, **kwargs: Any) -> SubmittalElement | None:
        return await visible_element(info, str(kwargs["id"]))

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The facility. Null only when its fields cannot be fetched (the facility "
        "service is unreachable): the element itself is still answered.")
    def facility(self) -> Annotated[Facility, strawberry.lazy(
            "services.submittal.graphql.facility")] | None:
        from services.submittal.graphql.facility import Facility

        return Facility(id=strawberry.ID(self.row.facility_id))

    @strawberry.field
    def created_by(self) -> User | None:
        return user(self.row.created_by)

    @strawberry.field
    def submitted_by(self) -> User | None:
        return user(self.row.submitted_by)

    @strawberry.field
    def based_on_element_id(self) -> strawberry.ID | None:
        return strawberry.ID(self.row.based_on_id) if self.row.based_on_id else None

    @strawberry.field
    def review(self) -> Review | None:
        row = self.row
        if row.review_action is None or row.reviewed_at is None:
            return None
        return Review(action=ReviewAction(row.review_action), comments=row.review_comments,
                      reviewer=user(row.reviewed_by), reviewed_at=row.reviewed_at)

    async def _model(self, info: Info) -> Any:
        if not self.parsed:
            data = await element_data(info, self.row)
            if self.parsed:  # another field of this element parsed it meanwhile
                return self.parsed[0]
            try:
                self.parsed.append(parse(ElementType(self.row.element_type), data)
                                   if data is not None else None)
            except InvalidData:
                self.parsed.append(None)
        return self.parsed[0]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Facility Information data (that element only).")
    async def facility_information(self, info: Info) -> dt.FacilityInformation | None:
        model = await self._model(info)
        if not isinstance(model, FacilityInfoModel):
            return None
        return dt.FacilityInformation.from_pydantic(model)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Inventory records, in reported order (keyset on position).")
    async def hazardous_materials(self, info: Info, first: int = 100, after: str | None = None
                                  ) -> HazardousMaterialConnection | None:
        model = await self._model(info)
        if not isinstance(model, HazardousMaterialsInventory):
            return None
        start = _position(after) + 1 if after else 0
        first = max(0, min(first, 1000))
        edges = []
        for index, material in enumerate(model.materials[start:start + first], start=start):
            withheld: list[str] = []
            if not self.sees_secrets:
                material, withheld = redact(material)
            node = dt.HazardousMaterial.from_pydantic(  # type: ignore[attr-defined]
                material, extra={"withheld": withheld})
            edges.append(HazardousMaterialEdge(cursor=encode_cursor(index), node=node))
        end = start + len(edges)
        return HazardousMaterialConnection(
            edges=edges, total_count=len(model.materials),
            page_info=PageInfo(has_next_page=end < len(model.materials),
                               end_cursor=edges[-1].cursor if edges else after))

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The inventory's site map document slot.")
    async def site_map(self, info: Info) -> dt.DocumentSlot | None:
        model = await self._model(info)
        if not isinstance(model, HazardousMaterialsInventory) or model.site_map is None:
            return None
        return dt.DocumentSlot.from_pydantic(model.site_map)  # type: ignore[attr-defined,no-any-return]

    @strawberry.field
    async def emergency_plans(self, info: Info) -> dt.EmergencyPlans | None:
        model = await self._model(info)
        if not isinstance(model, EmergencyPlansModel):
            return None
        return dt.EmergencyPlans.from_pydantic(model)  # type: ignore[attr-defined,no-any-return]

    async def _typed(self, info: Info, element: ElementType) -> Any:
        model = await self._model(info)
        if ElementType(self.row.element_type) is not element or model is None:
            return None
        return et.OUTPUTS[type(model)].from_pydantic(model)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Underground Storage Tanks data (that element only).")
    async def ust(self, info: Info) -> et.UndergroundStorageTanks | None:
        return await self._typed(info, ElementType.UST)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Tiered Permitting (onsite hazardous waste treatment) data "
                      "(that element only).")
    async def tiered_permitting(self, info: Info) -> et.TieredPermitting | None:
        return await self._typed(info, ElementType.TIERED_PERMITTING)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Recyclable Materials Report data (that element only).")
    async def recyclable_materials_report(self, info: Info) -> et.RecyclableMaterialsReport | None:
        return await self._typed(info, ElementType.RECYCLABLE_MATERIALS_REPORT)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Remote Waste Consolidation Site notification data (that "
                      "element only).")
    async def remote_waste_consolidation(self, info: Info) -> et.RemoteWasteConsolidation | None:
        return await self._typed(info, ElementType.REMOTE_WASTE_CONSOLIDATION)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Hazardous Waste Tank Closure Certification data (that "
                      "element only).")
    async def hazardous_waste_tank_closure(self, info: Info) -> et.HazardousWasteTankClosure | None:
        return await self._typed(info, ElementType.HAZARDOUS_WASTE_TANK_CLOSURE)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="APSA data (that element only).")
    async def apsa(self, info: Info) -> et.AbovegroundPetroleumStorage | None:
        return await self._typed(info, ElementType.APSA)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="CalARP documents (that element only).")
    async def cal_arp(self, info: Info) -> et.CalArp | None:
        return await self._typed(info, ElementType.CALARP)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Data this element held before its fields were typed that no field could "
        "take (kept by the upgrade, docs/elements.md); null when everything was mapped.")
    def legacy_data(self) -> JSON | None:
        return JSON(self.row.legacy_data) if self.row.legacy_data else None

    async def _previous_id(self, info: Info) -> str | None:
        row = self.row
        if row.previous_id or row.status != SubmittalStatus.DRAFT.value:
            return row.previous_id
        if row.based_on_id:
            return row.based_on_id
        return await latest_submitted_ids(info).load((row.facility_id, row.element_type))

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The submission this one is compared with: the one before it (for a "
        "draft, the one it copies, else the latest). Null for a first submission.")
    async def previous_submittal(self, info: Info) -> SubmittalElement | None:
        previous_id = await self._previous_id(info)
        return await visible_element(info, previous_id) if previous_id else None

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Field-by-field differences from previousSubmittal (from nothing for a "
        "first submission), in form order; at most `first` (up to 2,000).")
    async def differences(self, info: Info, first: int = 500) -> list[ElementDifference]:
        if self.row.status == SubmittalStatus.NOT_APPLICABLE.value:
            return []
        current = await self._model(info)
        if current is None:
            return []
        previous: Model | None = None
        previous_id = await self._previous_id(info)
        if previous_id:
            row = await elements_by_id(info).load(previous_id)
            previous_data = await element_data(info, row) if row is not None else None
            if (row is not None and previous_data is not None
                    and row.element_type == self.row.element_type):
                try:
                    previous = parse(ElementType(row.element_type), previous_data)
                except InvalidData:
                    previous = None
        if not self.sees_secrets:
            current, previous = _withheld(current), _withheld(previous)
        found = differences(previous, current)[:max(0, min(first, 2000))]
        return [ElementDifference(path=d.field, label=d.label,
                                  kind=DifferenceKindEnum(d.kind.value),
                                  before=d.before, after=d.after, significant=d.significant)
                for d in found]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The whole element data as JSON, in the documented schema.")
    async def data(self, info: Info) -> JSON:
        data = dict(await element_data(info, self.row) or {})
        if (not self.sees_secrets
                and self.row.element_type == ElementType.HAZARDOUS_MATERIALS_INVENTORY.value):
            data = redact_json(data)
        return JSON(data)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Current findings: ERROR blocks submission, WARNING does not.",
        directives=[list_size(assumed=100)])
    async def validation(self, info: Info) -> list[UserError]:
        model = await self._model(info)
        if model is None:
            return []
        facility = await facilities(info).load(self.row.facility_id)
        county = facility.record.get("county") if facility is not None else None
        return user_errors(validate(ElementType(self.row.element_type), model, county))


def _withheld(model: Any) -> Any:
    """An inventory as a reader without trade-secret rights sees it."""
    if not isinstance(model, HazardousMaterialsInventory):
        return model
    return model.model_copy(update={"materials": tuple(redact(m)[0] for m in model.materials)})


def _position(cursor: str) -> int:
    values = decode_cursor(cursor)
    if len(values) != 1 or not isinstance(values[0], int) or values[0] < 0:
        raise coded_error("BAD_USER_INPUT", "Invalid cursor: pass endCursor unchanged.")
    return values[0]


async def visible_element(info: Info, element_id: str) -> SubmittalElement | None:
    row = await elements_by_id(info).load(element_id)
    if row is None:
        return None
    caller = await caller_of(info)
    facility = await facilities(info).load(row.facility_id)
    if facility is not None:
        try:
            require_in_step(caller, facility)
        except Refused as refused:
            raise coded_error(refused.code, refused.message) from refused
    if facility is None or not may_see(caller, facility, row):
        return None
    return SubmittalElement.from_domain(row, caller.sees_secrets(facility))


@strawberry.type
class SubmittalElementEdge:
    cursor: str
    node: SubmittalElement


@strawberry.type
class SubmittalElementConnection:
    edges: list[SubmittalElementEdge]
    page_info: PageInfo
