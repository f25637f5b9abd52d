"""GraphQL types of the identity subgraph, built from table rows with ``from_domain``."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.dataloader import DataLoader

from common.auth import Principal
from common.graphql import Context, UserError, coded_error, context_of
from services.identity.adapters import repository as repo
from services.identity.domain.accounts import Problem
from services.identity.service_layer.profile import admitted_user
from services.identity.service_layer.visibility import visible_users

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
        async with deps.db.read(leaf=True) as session:
            found = await repo.users_by_ids(session, ids)
        return [found.get(i) for i in ids]

    def make() -> DataLoader[str, UserRow | None]:
        loader: DataLoader[str, UserRow | None] = DataLoader(load_fn=load)
        caller = context.principal.user_id if context.principal is not None else None
        kept = admitted_user(deps, caller) if caller is not None else None
        if caller is not None and kept is not None:
            loader.prime(caller, kept[0])  # read with the closed-account check
        return loader

    return context.loader("identity.users", make)


def visibility_loader(
    context: Context, deps: Deps, principal: Principal
) -> DataLoader[str, bool]:
    async def load(ids: list[str]) -> Sequence[bool]:
        async with deps.db.read(leaf=True) as session:
            visible = await visible_users(session, principal, ids)
        return [i in visible for i in ids]

    return context.loader("identity.visible", lambda: DataLoader(load_fn=load))


def is_account_id(value: str) -> bool:
    """Accounts have UUIDs; anything else (a system actor's name) is no account at all. An
    unknown UUID is answered like an account you may not read, so nothing tells them apart."""
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


NOT_RELATED = (
    "You can read the account of someone you work with only: the members of your businesses, "
    "the staff of your agency, the regulators of your facilities and the businesses your "
    "agency regulates, and people who asked you for access."
)


@strawberry.federation.type(
    keys=["id"],
    description="A person's account. Another person's fields are null (with a FORBIDDEN error) "
    "unless you work with them: see Query.me for your own.",
)
class User:
    id: strawberry.ID
    # Nullable: a User reached through another subgraph's field (a reviewer, a history
    # actor) may be someone the caller must not read; the rest of the answer stays.
    username: str | None
    first_name: str | None
    last_name: str | None
    title: str | None
    portal: Portal | None
    status: AccountStatus | None
    created_at: datetime | None
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
        context = context_of(info)
        principal = context.principal
        if principal is None:
            raise coded_error("UNAUTHENTICATED", "Sign in to read people's accounts.")
        if not is_account_id(str(id)):
            # A system actor ("seed", an operator's script): no one's account, nothing hidden.
            return None
        deps = deps_of(info)
        # Everyone but yourself is decided by the read model of facility's events; a stale
        # one never grants (DESIGN §3: fail closed).
        if str(id) != principal.user_id and not context.extra["read_model_fresh"]():
            raise coded_error(
                "UNAVAILABLE", "Identity is catching up with recent changes to businesses and "
                "agencies; try again in a moment.")
        # Yourself too goes through the batch, so a batch loads its accounts in one query.
        if not await visibility_loader(context, deps, principal).load(str(id)):
            raise coded_error("FORBIDDEN", NOT_RELATED)
        row = await user_loader(context, deps).load(str(id))
        return cls.from_domain(row, principal.user_id) if row else None


def user_errors(problems: Sequence[Problem]) -> list[UserError]:
    return [
        UserError(field=[p.field] if p.field else None, message=p.message, code=p.code)
        for p in problems
    ]
