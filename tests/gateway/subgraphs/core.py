"""Three small subgraphs shaped like ours: users (identity), orgs (facility), elements (submittal).

State is in memory; ``CALLS`` records every operation each subgraph received so tests can
assert how the gateway talked to it (batching, deduplication, ordering of mutations).
"""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.types import Info

CALLS: list[tuple[str, str]] = []
MUTATION_LOG: list[str] = []


def _record(info: Info, service: str) -> None:
    request = info.context["request"]
    CALLS.append((service, request.headers.get("x-request-id", "")))


USERS = {
    "u1": ("alice", "Alice Lee"),
    "u2": ("bob", "Bob Chan"),
    "u3": ("carol", "Carol Diaz"),
}


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    username: str
    name: str

    @strawberry.field
    def flaky(self) -> str | None:
        raise ValueError(f"flaky field of {self.id} failed")

    @strawberry.field
    def authorization(self, info: Info) -> str | None:
        return info.context["request"].headers.get("authorization")

    @strawberry.field
    def forwarded(self, info: Info, name: str) -> str | None:
        return info.context["request"].headers.get(name)

    @strawberry.field
    async def slow(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "finally"

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> User | None:
        return user(id)


def user(id: str) -> User | None:
    if id not in USERS:
        return None
    username, name = USERS[id]
    return User(id=strawberry.ID(id), username=username, name=name)


@strawberry.type
class UsersQuery:
    @strawberry.field
    def me(self, info: Info) -> User | None:
        _record(info, "users")
        return user("u1")

    @strawberry.field
    def users(self, info: Info, ids: list[strawberry.ID]) -> list[User | None]:
        _record(info, "users")
        return [user(i) for i in ids]

    @strawberry.field
    def must_user(self, id: strawberry.ID) -> User:
        found = user(id)
        if found is None:
            raise ValueError(f"no user {id}")
        return found


users_schema = strawberry.federation.Schema(query=UsersQuery, federation_version="2.9")


# --- orgs ---------------------------------------------------------------------------------


@strawberry.enum
class Role(Enum):
    VIEWER = "VIEWER"
    LEAD_USER = "LEAD_USER"


ORGS = {"o1": "Acme Fuels", "o2": "Bay Plating"}
FACILITIES = {
    "f1": ("Acme Yard", 10000001, "o1"),
    "f2": ("Acme Depot", 10000002, "o1"),
    "f3": ("Bay Shop", 10000003, "o2"),
}
MEMBERSHIPS = [("u1", "o1", Role.LEAD_USER), ("u1", "o2", Role.VIEWER), ("u2", "o1", Role.VIEWER)]


@strawberry.federation.type(keys=["id"])
class Organization:
    id: strawberry.ID
    name: str

    @strawberry.field
    def facilities(self) -> list[Facility]:
        return [facility(f) for f, v in FACILITIES.items() if v[2] == self.id]  # type: ignore[misc]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Organization | None:
        return organization(id)


def organization(id: str) -> Organization | None:
    return Organization(id=strawberry.ID(id), name=ORGS[id]) if id in ORGS else None


@strawberry.federation.type(keys=["id"])
class Facility:
    id: strawberry.ID
    name: str
    cers_id: int

    @strawberry.field
    def organization(self) -> Organization:
        org = organization(FACILITIES[self.id][2])
        assert org is not None
        return org

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Facility | None:
        return facility(id)


def facility(id: str) -> Facility | None:
    if id not in FACILITIES:
        return None
    name, cers_id, _ = FACILITIES[id]
    return Facility(id=strawberry.ID(id), name=name, cers_id=cers_id)


@strawberry.type
class Membership:
    role: Role
    org_id: strawberry.Private[str]
    user_id: strawberry.Private[str]

    @strawberry.field
    def organization(self) -> Organization:
        org = organization(self.org_id)
        assert org is not None
        return org

    @strawberry.field
    def user(self) -> OrgsUser:
        return OrgsUser(id=strawberry.ID(self.user_id))


@strawberry.federation.type(keys=["id"], name="User")
class OrgsUser:
    id: strawberry.ID

    @strawberry.field
    def memberships(self) -> list[Membership]:
        return [Membership(role=r, org_id=o, user_id=u) for u, o, r in MEMBERSHIPS if u == self.id]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> OrgsUser:
        return OrgsUser(id=id)


@strawberry.type
class OrgsQuery:
    @strawberry.field
    def facilities(self, info: Info, first: int = 10) -> list[Facility]:
        _record(info, "orgs")
        return [f for f in (facility(i) for i in list(FACILITIES)[:first]) if f is not None]

    @strawberry.field
    def facility(self, id: strawberry.ID) -> Facility | None:
        return facility(id)

    @strawberry.field
    def organization(self, id: strawberry.ID) -> Organization | None:
        return organization(id)


@strawberry.type
class OrgsMutation:
    @strawberry.mutation
    def add_note(self, text: str) -> list[str]:
        MUTATION_LOG.append(f"orgs:{text}")
        return list(MUTATION_LOG)


orgs_schema = strawberry.federation.Schema(
    query=OrgsQuery, mutation=OrgsMutation, types=[OrgsUser], federation_version="2.9"
)


# --- elements -----------------------------------------------------------------------------


@strawberry.enum
class ElementKind(Enum):
    FACILITY_INFORMATION = "FACILITY_INFORMATION"
    HAZARDOUS_MATERIALS_INVENTORY = "HAZARDOUS_MATERIALS_INVENTORY"


ELEMENTS = {
    "e1": ("f1", ElementKind.FACILITY_INFORMATION, "u1"),
    "e2": ("f1", ElementKind.HAZARDOUS_MATERIALS_INVENTORY, "u2"),
    "e3": ("f3", ElementKind.FACILITY_INFORMATION, "u1"),
}


@strawberry.federation.type(keys=[Key(fields="id", resolvable=False)], name="User")
class ElementsUser:
    id: strawberry.ID


@strawberry.federation.type(keys=["id"], name="Facility")
class ElementsFacility:
    id: strawberry.ID

    @strawberry.field
    def elements(self) -> list[Element]:
        return [e for e in (element(i) for i in ELEMENTS) if e and e.facility_id == self.id]

    @strawberry.field
    def element_count(self) -> int:
        return len(self.elements())

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> ElementsFacility:
        return ElementsFacility(id=id)


@strawberry.federation.type(keys=["id"])
class Element:
    id: strawberry.ID
    kind: ElementKind
    facility_id: strawberry.Private[str]
    user_id: strawberry.Private[str]

    @strawberry.field
    def facility(self) -> ElementsFacility:
        return ElementsFacility(id=strawberry.ID(self.facility_id))

    @strawberry.field
    def submitted_by(self) -> ElementsUser | None:
        return ElementsUser(id=strawberry.ID(self.user_id))

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Element | None:
        return element(id)


def element(id: str) -> Element | None:
    if id not in ELEMENTS:
        return None
    fac, kind, uid = ELEMENTS[id]
    return Element(id=strawberry.ID(id), kind=kind, facility_id=fac, user_id=uid)


@strawberry.type
class ElementsQuery:
    @strawberry.field
    def element(self, id: strawberry.ID) -> Element | None:
        return element(id)


@strawberry.type
class ElementsMutation:
    @strawberry.mutation
    def submit(self, facility_id: strawberry.ID) -> ElementsFacility:
        MUTATION_LOG.append(f"elements:{facility_id}")
        return ElementsFacility(id=facility_id)


elements_schema = strawberry.federation.Schema(
    query=ElementsQuery,
    mutation=ElementsMutation,
    types=[ElementsUser, ElementsFacility],
    federation_version="2.9",
)

SCHEMAS = {"users": users_schema, "orgs": orgs_schema, "elements": elements_schema}
