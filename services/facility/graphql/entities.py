"""The entities of this subgraph and the types hanging off them, built with from_domain()."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, Optional, TypeAlias, TypeVar

import strawberry
from sqlalchemy import select
from sqlmodel import col
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON

from common.graphql import PageInfo, coded_error, list_size
from services.facility.adapters import tables as t
from services.facility.domain import compliance
from services.facility.domain.counties import counties
from services.facility.domain.roles import BusinessRole as Role
from services.facility.domain.roles import StaffRole as Staff
from services.facility.graphql import loaders
from services.facility.graphql.loaders import Row
from services.facility.graphql.values import (
    Address,
    AgencyKind,
    BusinessRole,
    ComplianceStatus,
    Contacts,
    OwnerOperator,
    StaffRole,
    SystemActorKind,
    UpdateRequiredReason,
)
from services.facility.service_layer.people import PENDING
from services.facility.service_layer.records import actor_of

Info = strawberry.Info[Any, Any]

MAX_HISTORY_PAGE = 200
MAX_REQUEST_PAGE = 200


def _check_page(first: int) -> None:
    if not 0 <= first <= MAX_REQUEST_PAGE:
        raise coded_error("BAD_USER_INPUT", f"first must be between 0 and {MAX_REQUEST_PAGE}.",
                          field=["first"])


def _newest_undecided_first(where: Any, first: int) -> Any:
    return (
        select(t.AccessRequest)
        .where(where)
        .order_by(col(t.AccessRequest.status) != PENDING, col(t.AccessRequest.created_at).desc())
        .limit(first)
    )


@strawberry.federation.type(keys=["id"])
class User:
    """A person; identity owns it. This subgraph adds ``memberships``."""

    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> User:
        return cls(id=id)

    @strawberry.field(description="The caller's own businesses and levels; null for others.",  # type: ignore[untyped-decorator]
                      directives=[list_size(assumed=20)])
    async def memberships(self, info: Info) -> list[Membership] | None:
        caller = await loaders.caller_of(info)
        if caller.user_id != str(self.id):
            return None
        rows = await loaders.user_memberships(info, caller.user_id)
        return [Membership.from_domain(m) for m in rows]


def user(user_id: str | None) -> User | None:
    return User(id=strawberry.ID(user_id)) if user_id else None


@strawberry.type
class Membership:
    user: User
    role: BusinessRole
    granted_at: datetime
    first_name: str | None
    last_name: str | None
    title: str | None
    email: str | None
    phone: str | None
    organization_id: strawberry.Private[str]

    @classmethod
    def from_domain(cls, row: t.Membership | Row) -> Membership:
        return cls(
            user=User(id=strawberry.ID(row.user_id)),
            role=Role(row.role),
            granted_at=row.granted_at,
            first_name=row.first_name,
            last_name=row.last_name,
            title=row.title,
            email=row.email,
            phone=row.phone,
            organization_id=row.organization_id,
        )

    @strawberry.field
    async def organization(self, info: Info) -> Organization | None:
        return await Organization.visible(info, self.organization_id)


@strawberry.type
class Invitation:
    id: strawberry.ID
    email: str
    role: BusinessRole
    status: str
    expires_at: datetime
    first_name: str | None
    last_name: str | None

    @classmethod
    def from_domain(cls, row: t.Invitation, now: datetime | None = None) -> Invitation:
        expired = row.status == "PENDING" and now is not None and row.expires_at <= now
        return cls(
            id=strawberry.ID(row.id),
            email=row.email,
            role=Role(row.role),
            status="EXPIRED" if expired else row.status,
            expires_at=row.expires_at,
            first_name=row.first_name,
            last_name=row.last_name,
        )


@strawberry.type
class AccessRequest:
    id: strawberry.ID
    requester: User
    requested_role: BusinessRole
    granted_role: BusinessRole | None
    status: str
    message: str | None
    decided_by: User | None
    created_at: datetime
    organization_id: strawberry.Private[str]
    facility_id: strawberry.Private[str | None]

    @classmethod
    def from_domain(cls, row: t.AccessRequest) -> AccessRequest:
        return cls(
            id=strawberry.ID(row.id),
            requester=User(id=strawberry.ID(row.requester_id)),
            requested_role=Role(row.requested_role),
            granted_role=Role(row.granted_role) if row.granted_role else None,
            status=row.status,
            message=row.message,
            decided_by=user(row.decided_by),
            created_at=row.created_at,
            organization_id=row.organization_id,
            facility_id=row.facility_id,
        )

    @strawberry.field
    async def organization(self, info: Info) -> Organization | None:
        row = await loaders.organizations(info).load(self.organization_id)
        return Organization.from_domain(row) if row else None

    @strawberry.field
    async def facility(self, info: Info) -> Facility | None:
        return await Facility.visible(info, self.facility_id) if self.facility_id else None


@strawberry.type
class StaffMember:
    user: User | None
    email: str
    role: StaffRole
    granted_at: datetime
    pending: bool

    @classmethod
    def from_domain(cls, row: t.StaffMember | Row) -> StaffMember:
        return cls(
            user=user(row.user_id),
            email=row.email,
            role=Staff(row.role),
            granted_at=row.granted_at,
            pending=row.user_id is None,
        )


@strawberry.type(name="Permit")
class PermitNode:
    id: strawberry.ID
    number: str
    issued_at: datetime
    expires_at: date
    issued_by: User | None

    @classmethod
    def from_domain(cls, row: t.Permit | Row) -> PermitNode:
        return cls(
            id=strawberry.ID(row.id),
            number=row.number,
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            issued_by=user(row.issued_by),
        )


@strawberry.type(description="A part of the system that made a change no person made.")
class SystemActor:
    kind: SystemActorKind
    name: str = strawberry.field(
        description="The operator command (e.g. set-jurisdiction), or the service, that acted."
    )


@strawberry.type(name="HistoryEntry")
class HistoryNode:
    id: strawberry.ID
    at: datetime
    actor: User | None = strawberry.field(
        description="The person who made the change; null when a system actor made it."
    )
    system_actor: SystemActor | None = strawberry.field(
        description="Set exactly when no person made the change."
    )
    action: str
    changes: JSON

    @classmethod
    def from_domain(cls, row: t.HistoryEntry | Row) -> HistoryNode:
        actor = actor_of(row)
        return cls(
            id=strawberry.ID(str(row.id)),
            at=row.at,
            actor=user(actor.user_id),
            system_actor=SystemActor(kind=actor.system_kind, name=actor.system_name or "")
            if actor.system_kind
            else None,
            action=row.action,
            changes=JSON(row.changes),
        )


def _contacts(root: Facility) -> Contacts:
    return Contacts.from_domain(root.row.contacts)


def _owner_operator(root: Facility) -> OwnerOperator:
    return OwnerOperator.from_domain(root.row.owner_operator)


K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")
Resolved: TypeAlias = R | Awaitable[R]


def _then(loader: DataLoader[K, V], key: K, build: Callable[[V], R]) -> Resolved[R]:
    """``build(value)`` now when ``loader`` already holds the value for ``key``, else an
    awaitable of it once loaded."""
    found = loader.cache_map.get(key)
    if found is not None and found.done() and not found.cancelled() and not found.exception():
        return build(found.result())

    async def later() -> R:
        return build(await loader.load(key))

    return later()


@strawberry.federation.type(keys=["id"])
class Facility:
    id: strawberry.ID
    cers_id: int
    name: str
    site_address: Address | None
    mailing_address: Address | None
    county: str
    city: str | None
    # Built when asked: most reads (the Facility page, listings) ask neither.
    contacts: Contacts = strawberry.field(resolver=_contacts)
    owner_operator: OwnerOperator = strawberry.field(resolver=_owner_operator)
    annual_due_date: date
    last_annual_update_at: datetime | None
    updated_at: datetime
    row: strawberry.Private[t.Facility | Row]

    @classmethod
    def from_domain(cls, row: t.Facility | Row) -> Facility:
        return cls(
            id=strawberry.ID(row.id),
            cers_id=row.cers_id,
            name=row.name,
            site_address=Address.from_domain(row.site_address),
            mailing_address=Address.from_domain(row.mailing_address),
            county=counties()[row.county_id],
            city=row.city,
            annual_due_date=row.annual_due_date,
            last_annual_update_at=row.last_annual_update_at,
            updated_at=row.updated_at,
            row=row,
        )

    @classmethod
    async def visible(cls, info: Info, facility_id: str) -> Facility | None:
        caller = await loaders.caller_of(info)
        row = await loaders.facilities(info).load(facility_id)
        return cls.from_domain(row) if row and caller.can_read_facility(row) else None

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID, **_: Any) -> Facility | None:
        return await cls.visible(info, str(id))

    # The fields below come from rows the facility's own read primed (its business, its
    # regulator, its open reasons): answered at once when the loader holds them, which spares
    # graphql-core a task per field; loaded as before otherwise.
    @strawberry.field(graphql_type=Optional["Organization"])  # type: ignore[untyped-decorator]
    def organization(self, info: Info) -> Resolved[Organization | None]:
        return _then(loaders.organizations(info), self.row.organization_id,
                     lambda row: Organization.from_domain(row) if row else None)

    @strawberry.field(graphql_type=Optional["RegulatorAgency"])  # type: ignore[untyped-decorator]
    def regulator(self, info: Info) -> Resolved[RegulatorAgency | None]:
        if not self.row.agency_id:
            return None
        return _then(loaders.agencies(info), self.row.agency_id,
                     lambda row: RegulatorAgency.from_domain(row) if row else None)

    @strawberry.field(graphql_type=list[UpdateRequiredReason],  # type: ignore[untyped-decorator]
                      directives=[list_size(assumed=20)])
    def update_required_reasons(self, info: Info) -> Resolved[list[UpdateRequiredReason]]:
        return _then(loaders.reasons(info), self.row.id,
                     lambda rows: [UpdateRequiredReason.from_domain(r) for r in rows or []])

    @strawberry.field(graphql_type=ComplianceStatus)  # type: ignore[untyped-decorator]
    def compliance_status(self, info: Info) -> Resolved[ComplianceStatus]:
        today = loaders.app_of(info).today()

        def status(rows: list[Row] | None) -> ComplianceStatus:
            open_reasons = [compliance.OpenReason(compliance.UpdateReason(r.reason), r.due_by)
                            for r in rows or []]
            return compliance.compliance_status(self.row.annual_due_date, open_reasons, today)

        return _then(loaders.reasons(info), self.row.id, status)

    @strawberry.field(  # type: ignore[untyped-decorator]
        graphql_type=date,
        description="The day the cycle due on annualDueDate opens: a certification counts for "
        "it from that day until it is certified; an earlier one is recorded and moves nothing."
    )
    def certification_opens_on(self, info: Info) -> Resolved[date]:
        def opens_on(agency: Row | None) -> date:
            window = compliance.DEFAULT_CERTIFICATION_WINDOW_DAYS
            window = agency.certification_window_days if agency else window
            return compliance.cycle_opens_on(self.row.annual_due_date, window)

        if not self.row.agency_id:
            return opens_on(None)
        return _then(loaders.agencies(info), self.row.agency_id, opens_on)

    @strawberry.field(directives=[list_size(assumed=50)])  # type: ignore[untyped-decorator]
    async def permits(self, info: Info) -> list[PermitNode]:
        rows = await loaders.permits(info).load(self.row.id) or []
        return [PermitNode.from_domain(r) for r in rows]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Who changed what, when: the newest `first` changes (at most "
        f"{MAX_HISTORY_PAGE}), in the order they happened. Only for the lead users of the "
        "facility's business and the staff of its regulator agency; null for everyone else, "
        "statewide readers included: statewide reading covers the facility's data, not the "
        "audit trail of who changed it.",
        directives=[list_size(slicing=["first"])])
    async def history(self, info: Info, first: int = 50) -> list[HistoryNode] | None:
        if not 0 <= first <= MAX_HISTORY_PAGE:
            raise coded_error("BAD_USER_INPUT", f"first must be between 0 and "
                              f"{MAX_HISTORY_PAGE}.", field=["first"])
        caller = await loaders.caller_of(info)
        if not caller.can_read_history(self.row):
            return None
        rows = await loaders.history(info).load((self.row.id, first))
        return [HistoryNode.from_domain(r) for r in rows]


@strawberry.type
class FacilityEdge:
    cursor: str
    node: Facility


@strawberry.type
class FacilityConnection:
    edges: list[FacilityEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Computed only when selected.")  # type: ignore[untyped-decorator]
    async def total_count(self) -> int:
        return await self.count()


@strawberry.federation.type(keys=["id"])
class Organization:
    id: strawberry.ID
    name: str
    org_code: int

    @classmethod
    def from_domain(cls, row: t.Organization | Row) -> Organization:
        return cls(id=strawberry.ID(row.id), name=row.name, org_code=row.org_code)

    @classmethod
    async def visible(cls, info: Info, organization_id: str) -> Organization | None:
        caller = await loaders.caller_of(info)
        row = await loaders.organizations(info).load(organization_id)
        if row is None:
            return None
        if caller.statewide or organization_id in caller.businesses:
            return cls.from_domain(row)
        agencies = frozenset(caller.agencies)
        if agencies and await loaders.regulated_organizations(info, agencies).load(row.id):
            return cls.from_domain(row)
        return None

    @classmethod
    async def resolve_reference(
        cls, info: Info, id: strawberry.ID, **_: Any
    ) -> Organization | None:
        return await cls.visible(info, str(id))

    @strawberry.field
    async def facilities(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> FacilityConnection:
        from services.facility.graphql.listing import facility_connection

        return await facility_connection(info, {"organization_id": str(self.id)}, first, after)

    @strawberry.field(description="The People list; members only.",  # type: ignore[untyped-decorator]
                      directives=[list_size(assumed=100)])
    async def people(self, info: Info) -> list[Membership] | None:
        caller = await loaders.caller_of(info)
        if caller.business_role(str(self.id)) is None:
            return None
        rows = await loaders.members(info).load(str(self.id)) or []
        return [Membership.from_domain(m) for m in rows]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Invitations, pending ones first, newest first; at most `first` (up to "
        f"{MAX_REQUEST_PAGE}). Lead users only.",
        directives=[list_size(slicing=["first"])])
    async def invitations(self, info: Info, first: int = 50) -> list[Invitation] | None:
        _check_page(first)
        caller = await loaders.caller_of(info)
        if caller.business_role(str(self.id)) is not Role.LEAD_USER:
            return None
        async with loaders.app_of(info).db.read() as session:
            rows = await session.execute(
                select(t.Invitation)
                .where(col(t.Invitation.organization_id) == str(self.id))
                .order_by(col(t.Invitation.status) != PENDING,
                          col(t.Invitation.created_at).desc())
                .limit(first)
            )
            now = loaders.app_of(info).now()
            return [Invitation.from_domain(r, now) for r in rows.scalars()]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Access requests, those to decide first, newest first; at most `first` "
        f"(up to {MAX_REQUEST_PAGE}). Lead users only.",
        directives=[list_size(slicing=["first"])])
    async def access_requests(self, info: Info, first: int = 50) -> list[AccessRequest] | None:
        _check_page(first)
        caller = await loaders.caller_of(info)
        if caller.business_role(str(self.id)) is not Role.LEAD_USER:
            return None
        async with loaders.app_of(info).db.read() as session:
            rows = await session.execute(
                _newest_undecided_first(col(t.AccessRequest.organization_id) == str(self.id),
                                        first)
            )
            return [AccessRequest.from_domain(r) for r in rows.scalars()]


@strawberry.type
class OrganizationEdge:
    cursor: str
    node: Organization


@strawberry.type
class OrganizationConnection:
    edges: list[OrganizationEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(name="JurisdictionPlace")
class Place:
    county: str
    city: str | None = strawberry.field(description="Null: the whole county.")


@strawberry.federation.type(keys=["id"])
class RegulatorAgency:
    id: strawberry.ID
    name: str
    kind: AgencyKind
    phone: str | None
    email: str | None
    address: str | None
    website: str | None
    default_due_date: str = strawberry.field(description="Month and day, as MM-DD.")
    certification_window_days: int = strawberry.field(
        description="A cycle opens for certification this many days before its due date."
    )

    @classmethod
    def from_domain(cls, row: t.Agency | Row) -> RegulatorAgency:
        from services.facility.domain.roles import AgencyKind as Kind

        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            kind=Kind(row.kind),
            phone=row.phone,
            email=row.email,
            address=row.address,
            website=row.website,
            default_due_date=f"{row.default_due_month:02d}-{row.default_due_day:02d}",
            certification_window_days=row.certification_window_days,
        )

    @classmethod
    async def resolve_reference(
        cls, info: Info, id: strawberry.ID, **_: Any
    ) -> RegulatorAgency | None:
        row = await loaders.agencies(info).load(str(id))
        return cls.from_domain(row) if row else None

    @strawberry.field
    async def counties(self, info: Info) -> list[str]:
        rows = await loaders.jurisdictions(info).load(str(self.id)) or []
        return sorted({counties()[j.county_id] for j in rows})

    @strawberry.field
    async def cities(self, info: Info) -> list[str]:
        rows = await loaders.jurisdictions(info).load(str(self.id)) or []
        return sorted({j.city for j in rows if j.city})

    @strawberry.field(description="Each place of the jurisdiction: a whole county, or a city.",  # type: ignore[untyped-decorator]
                      directives=[list_size(assumed=20)])
    async def places(self, info: Info) -> list[Place]:
        rows = await loaders.jurisdictions(info).load(str(self.id)) or []
        places = [Place(county=counties()[j.county_id], city=j.city) for j in rows]
        return sorted(places, key=lambda p: (p.county, p.city or ""))

    @strawberry.field(description="The agency's staff; visible to its own staff only.",  # type: ignore[untyped-decorator]
                      directives=[list_size(assumed=100)])
    async def staff(self, info: Info) -> list[StaffMember] | None:
        caller = await loaders.caller_of(info)
        if caller.staff_role(str(self.id)) is None:
            return None
        rows = await loaders.staff(info).load(str(self.id)) or []
        return [StaffMember.from_domain(s) for s in rows]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Requests for businesses without a lead user, those to decide first, "
        f"newest first; at most `first` (up to {MAX_REQUEST_PAGE}). APPROVER and above.",
        directives=[list_size(slicing=["first"])])
    async def access_requests(self, info: Info, first: int = 50) -> list[AccessRequest] | None:
        _check_page(first)
        caller = await loaders.caller_of(info)
        role = caller.staff_role(str(self.id))
        if role is None or not role.at_least(Staff.APPROVER):
            return None
        async with loaders.app_of(info).db.read() as session:
            rows = await session.execute(
                _newest_undecided_first(col(t.AccessRequest.agency_id) == str(self.id), first)
            )
            return [AccessRequest.from_domain(r) for r in rows.scalars()]
