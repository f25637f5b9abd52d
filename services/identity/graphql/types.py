"""GraphQL types of the identity subgraph, built from table rows with ``from_domain``."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.dataloader import DataLoader

from common.graphql import Context, UserError, context_of
from services.identity.adapters import repository as repo
from services.identity.domain.accounts import Problem

if TYPE_CHECKING:
    from services.identity.adapters.tables import User as UserRow
    from services.identity.service_layer.deps import Deps


@strawberry.enum
class Portal(enum.Enum):
    BUSINESS = "business"
    REGULATOR = "regulator"
    STATE = "state"


@strawberry.enum
class AccountStatus(enum.Enum):
    PENDING = "pending"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


def deps_of(info: strawberry.Info[Any, Any]) -> Deps:
    deps: Deps = context_of(info).extra["deps"]
    return deps


def viewer_id(info: strawberry.Info[Any, Any]) -> str | None:
    principal = context_of(info).principal
    return principal.user_id if principal else None


def user_loader(context: Context, deps: Deps) -> DataLoader[str, UserRow | None]:
    async def load(ids: list[str]) -> Sequence[UserRow | None]:
        async with deps.db.read() as session:
            found = await repo.users_by_ids(session, ids)
        return [found.get(i) for i in ids]

    return context.loader("identity.users", lambda: DataLoader(load_fn=load))


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    username: str
    first_name: str
    last_name: str
    title: str | None
    portal: Portal
    status: AccountStatus
    created_at: datetime
    # Private to the owner; None for everyone else.
    email: str | None
    phone: str | None
    pending_email: str | None = strawberry.field(
        description="A new address waiting for verification; only its owner sees it."
    )

    @classmethod
    def from_domain(cls, row: UserRow, viewer: str | None) -> User:
        owner = viewer is not None and viewer == row.id
        return cls(
            id=strawberry.ID(row.id),
            username=row.username,
            first_name=row.first_name,
            last_name=row.last_name,
            title=row.title,
            portal=Portal(row.portal),
            status=AccountStatus(row.status),
            created_at=row.created_at,
            email=row.email if owner else None,
            phone=row.phone if owner else None,
            pending_email=row.pending_email if owner else None,
        )

    @classmethod
    async def resolve_reference(
        cls, info: strawberry.Info[Context, None], id: strawberry.ID, **_: Any
    ) -> User | None:
        principal = context_of(info).principal
        # Anonymous callers see no one: an absent answer, as for anything not visible.
        if principal is None:
            return None
        row = await user_loader(context_of(info), deps_of(info)).load(str(id))
        return cls.from_domain(row, principal.user_id) if row else None


def user_errors(problems: Sequence[Problem]) -> list[UserError]:
    return [
        UserError(field=[p.field] if p.field else None, message=p.message, code=p.code)
        for p in problems
    ]
