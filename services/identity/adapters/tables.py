"""identity's tables, in a registry of their own so no other service's tables mix in."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from common.events import event_tables
from common.timestamps import UTCDateTime
from services.identity.domain.lockout import utcnow

# Aware UTC back from SQLite too (it stores no offset).
TZ = UTCDateTime()


class Base(SQLModel, registry=registry()):
    pass


def new_id() -> str:
    return str(uuid.uuid4())


class User(Base, table=True):
    __tablename__ = "users"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    username: str = Field(max_length=64)
    # Lower-cased copies carry the uniqueness, so "Alice" and "alice" cannot both exist.
    username_key: str = Field(max_length=64, unique=True, index=True)
    email: str = Field(max_length=254)
    email_key: str = Field(max_length=254, unique=True, index=True)
    # A changed address waits here until its owner proves it works.
    pending_email: str | None = Field(default=None, max_length=254)
    first_name: str = Field(max_length=80)
    last_name: str = Field(max_length=80)
    title: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=25)
    portal: str = Field(max_length=16)
    status: str = Field(max_length=16, index=True)
    password_hash: str = Field(sa_type=Text)
    failed_count: int = 0
    first_failed_at: datetime | None = Field(default=None, sa_type=TZ)
    locked_until: datetime | None = Field(default=None, sa_type=TZ)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TZ)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=TZ)
    activated_at: datetime | None = Field(default=None, sa_type=TZ)
    deactivated_at: datetime | None = Field(default=None, sa_type=TZ)


class SigningKeySeen(Base, table=True):
    """When an identity process first loaded each signing key: the key's age, which the
    key-rotation alerts watch (a PEM key carries no date of its own)."""

    __tablename__ = "signing_keys_seen"

    kid: str = Field(primary_key=True, max_length=128)
    first_seen_at: datetime = Field(sa_type=TZ)


class EmailToken(Base, table=True):
    __tablename__ = "email_tokens"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=36)
    purpose: str = Field(max_length=32)
    email: str | None = Field(default=None, max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TZ)
    expires_at: datetime = Field(sa_type=TZ)
    used_at: datetime | None = Field(default=None, sa_type=TZ)


class OAuthClient(Base, table=True):
    __tablename__ = "oauth_clients"

    client_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=120)
    secret_hash: str | None = Field(default=None, sa_type=Text)
    # Space-separated lists; small and always read whole.
    redirect_uris: str = Field(default="", sa_type=Text)
    portal: str | None = Field(default=None, max_length=16)
    scopes: str = Field(default="", sa_type=Text)
    grant_types: str = Field(default="", sa_type=Text)
    # Where RP-initiated logout may send the browser back to (matched exactly).
    post_logout_redirect_uris: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TZ)


class ClientWebOrigin(Base, table=True):
    """An origin whose browser code may call the token, userinfo and revocation endpoints
    for this client (CORS). A table, not a list column, so a preflight (which names no
    client) finds whether any client registered its origin with one index lookup."""

    __tablename__ = "oauth_client_web_origins"

    origin: str = Field(primary_key=True, max_length=300)
    client_id: str = Field(
        primary_key=True, max_length=64, foreign_key="oauth_clients.client_id", index=True
    )


class SignInSession(Base, table=True):
    __tablename__ = "signin_sessions"

    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=36)
    portal: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TZ)
    expires_at: datetime = Field(sa_type=TZ)
    ended_at: datetime | None = Field(default=None, sa_type=TZ)


class AuthorizationCode(Base, table=True):
    __tablename__ = "authorization_codes"

    code_hash: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(max_length=64)
    user_id: str = Field(foreign_key="users.id", max_length=36)
    session_id: str | None = Field(default=None, max_length=64)
    portal: str = Field(max_length=16)
    redirect_uri: str = Field(sa_type=Text)
    scope: str = Field(default="", sa_type=Text)
    code_challenge: str = Field(max_length=128)
    code_challenge_method: str = Field(max_length=8)
    nonce: str | None = Field(default=None, sa_type=Text)
    auth_time: int = 0
    expires_at: datetime = Field(sa_type=TZ)
    used_at: datetime | None = Field(default=None, sa_type=TZ)


class RefreshToken(Base, table=True):
    __tablename__ = "refresh_tokens"

    token_hash: str = Field(primary_key=True, max_length=64)
    # Every rotation descends from one sign-in; reuse of a spent token revokes the family.
    family_id: str = Field(max_length=36, index=True)
    client_id: str = Field(max_length=64)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=36)
    session_id: str | None = Field(default=None, max_length=64, index=True)
    portal: str = Field(max_length=16)
    scope: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TZ)
    expires_at: datetime = Field(sa_type=TZ)
    rotated_at: datetime | None = Field(default=None, sa_type=TZ)
    revoked_at: datetime | None = Field(default=None, sa_type=TZ)


# Read model of facility's events (docs/events/facility.md): only what identity needs to decide
# whose names a caller may read. Keys are ids; facility owns everything else about them.


class MembershipView(Base, table=True):
    __tablename__ = "rm_memberships"

    organization_id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(primary_key=True, max_length=36, index=True)


class StaffView(Base, table=True):
    __tablename__ = "rm_staff"

    agency_id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(primary_key=True, max_length=36, index=True)


class FacilityView(Base, table=True):
    """Which business owns a facility and which agency regulates it."""

    __tablename__ = "rm_facilities"
    __table_args__ = (
        Index("ix_rm_facilities_organization_agency", "organization_id", "agency_id"),
        Index("ix_rm_facilities_agency_organization", "agency_id", "organization_id"),
    )

    id: str = Field(primary_key=True, max_length=36)
    organization_id: str = Field(max_length=36)
    agency_id: str | None = Field(default=None, max_length=36)


class AccessRequestView(Base, table=True):
    """Someone asked a business (or, without a lead user, its regulator) for access."""

    __tablename__ = "rm_access_requests"

    id: str = Field(primary_key=True, max_length=36)
    requester_id: str = Field(max_length=36, index=True)
    organization_id: str = Field(max_length=36)
    routed_to_agency_id: str | None = Field(default=None, max_length=36)


EVENTS = event_tables(Base.metadata)
