"""The facility service's tables. ``Base.metadata`` is this service's MetaData alone."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Table, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from common.closed_accounts import closed_accounts_table
from common.events.tables import event_tables
from common.timestamps import UTCDateTime


class Base(SQLModel, registry=registry()):
    pass


def table_of(model: Any) -> Table:
    """A model's table, for statements of its columns alone (run by Core, see loaders)."""
    table: Table = model.__table__
    return table


def new_id() -> str:
    return str(uuid.uuid4())


def _ts(**kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kwargs))


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class County(Base, table=True):
    __tablename__ = "counties"
    id: int = Field(primary_key=True)
    name: str = Field(max_length=60, unique=True)


class IdAllocator(Base, table=True):
    """Counters taken with one atomic UPDATE ... RETURNING on SQLite (PostgreSQL uses sequences)."""

    __tablename__ = "id_allocators"
    name: str = Field(primary_key=True, max_length=40)
    last_value: int


class Organization(Base, table=True):
    __tablename__ = "organizations"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    org_code: int = Field(unique=True)
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


class Agency(Base, table=True):
    __tablename__ = "agencies"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    name: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=8)
    phone: str | None = Field(default=None, max_length=25)
    email: str | None = Field(default=None, max_length=254)
    address: str | None = Field(default=None, max_length=300)
    website: str | None = Field(default=None, max_length=300)
    default_due_month: int = 3
    default_due_day: int = 1
    # A cycle opens for certification this many days before its due date.
    certification_window_days: int = 90
    created_at: datetime = _ts(nullable=False)


class Jurisdiction(Base, table=True):
    """One county, or one city of a county (``city_key`` blank means the whole county)."""

    __tablename__ = "agency_jurisdictions"
    __table_args__ = (UniqueConstraint("county_id", "city_key", name="uq_jurisdiction_place"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    agency_id: str = Field(foreign_key="agencies.id", index=True, max_length=36)
    county_id: int = Field(foreign_key="counties.id")
    city: str | None = Field(default=None, max_length=60)
    city_key: str = Field(default="", max_length=60)


class Facility(Base, table=True):
    __tablename__ = "facilities"
    __table_args__ = (
        Index("ix_facilities_org_cers", "organization_id", "cers_id"),
        Index("ix_facilities_agency_cers", "agency_id", "cers_id"),
        Index("ix_facilities_county_cers", "county_id", "cers_id"),
        Index("ix_facilities_due_cers", "annual_due_date", "cers_id"),
        Index("ix_facilities_update_due", "update_due_by"),
        Index("ix_facilities_updated_at", "updated_at"),
    )
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    cers_id: int = Field(unique=True)
    organization_id: str = Field(foreign_key="organizations.id", max_length=36)
    agency_id: str | None = Field(default=None, foreign_key="agencies.id", max_length=36)
    name: str = Field(max_length=200)
    county_id: int = Field(foreign_key="counties.id")
    city: str | None = Field(default=None, max_length=60)
    city_key: str = Field(default="", max_length=60)
    site_address: dict[str, Any] = _json()
    mailing_address: dict[str, Any] = _json()
    contacts: dict[str, Any] = _json()
    owner_operator: dict[str, Any] = _json()
    address_key: str = Field(max_length=400, unique=True)
    annual_due_date: date
    due_date_overridden: bool = False
    last_annual_update_at: datetime | None = _ts(nullable=True)
    # Earliest dueBy of the open reasons, kept in step with facility_reasons so the
    # complianceStatus filter is a plain indexed range.
    update_due_by: date | None = None
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


class FacilityReason(Base, table=True):
    __tablename__ = "facility_reasons"
    __table_args__ = (
        UniqueConstraint("facility_id", "reason", "element", name="uq_facility_reason"),
    )
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    facility_id: str = Field(foreign_key="facilities.id", index=True, max_length=36)
    reason: str = Field(max_length=20)
    # Blank unless the reason is a CORRECTION of one element (blank, not NULL, so the unique
    # constraint holds on PostgreSQL too).
    element: str = Field(default="", max_length=40)
    raised_at: datetime = _ts(nullable=False)
    due_by: date


class HistoryEntry(Base, table=True):
    """Append-only; the increasing id orders entries written within one clock tick."""

    __tablename__ = "facility_history"
    __table_args__ = (Index("ix_facility_history_facility_id", "facility_id", "id"),)
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    )
    facility_id: str = Field(foreign_key="facilities.id", max_length=36)
    at: datetime = _ts(nullable=False)
    # A person's account id, or else the system actor's kind and name (domain/actors.py).
    actor: str | None = Field(default=None, max_length=100)
    system_actor_kind: str | None = Field(default=None, max_length=20)
    system_actor_name: str | None = Field(default=None, max_length=60)
    action: str = Field(max_length=40)
    changes: dict[str, Any] = _json()


class Membership(Base, table=True):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organization_id", "user_id", name="uq_membership"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    organization_id: str = Field(foreign_key="organizations.id", max_length=36)
    user_id: str = Field(index=True, max_length=100)
    role: str = Field(max_length=20)
    first_name: str | None = Field(default=None, max_length=80)
    last_name: str | None = Field(default=None, max_length=80)
    title: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=25)
    granted_at: datetime = _ts(nullable=False)


class Invitation(Base, table=True):
    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_email_status", "email_key", "status"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    organization_id: str = Field(foreign_key="organizations.id", index=True, max_length=36)
    email: str = Field(max_length=254)
    email_key: str = Field(max_length=254)
    role: str = Field(max_length=20)
    first_name: str | None = Field(default=None, max_length=80)
    last_name: str | None = Field(default=None, max_length=80)
    title: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=25)
    token_hash: str = Field(max_length=64, unique=True)
    status: str = Field(max_length=20)
    expires_at: datetime = _ts(nullable=False)
    created_at: datetime = _ts(nullable=False)
    created_by: str | None = Field(default=None, max_length=100)


class AccessRequest(Base, table=True):
    __tablename__ = "access_requests"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    requester_id: str = Field(index=True, max_length=100)
    organization_id: str = Field(foreign_key="organizations.id", index=True, max_length=36)
    facility_id: str | None = Field(default=None, foreign_key="facilities.id", max_length=36)
    # Set when the business had no lead user, so the facility's regulator decides.
    agency_id: str | None = Field(default=None, foreign_key="agencies.id", index=True)
    requested_role: str = Field(max_length=20)
    message: str | None = Field(default=None, max_length=1000)
    status: str = Field(max_length=20)
    granted_role: str | None = Field(default=None, max_length=20)
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts(nullable=False)


class StaffMember(Base, table=True):
    """A staff grant; ``user_id`` stays empty until an account with that email activates."""

    __tablename__ = "agency_staff"
    __table_args__ = (UniqueConstraint("agency_id", "email_key", name="uq_agency_staff_email"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    agency_id: str = Field(foreign_key="agencies.id", max_length=36)
    user_id: str | None = Field(default=None, index=True, max_length=100)
    email: str = Field(max_length=254)
    email_key: str = Field(max_length=254, index=True)
    role: str = Field(max_length=20)
    granted_at: datetime = _ts(nullable=False)


class KnownUser(Base, table=True):
    """Activated accounts and their verified email, from identity's events."""

    __tablename__ = "known_users"
    user_id: str = Field(primary_key=True, max_length=100)
    email_key: str = Field(max_length=254, index=True)
    email: str = Field(max_length=254)
    first_name: str | None = Field(default=None, max_length=80)
    last_name: str | None = Field(default=None, max_length=80)
    active: bool = True
    updated_at: datetime = _ts(nullable=False)


class Permit(Base, table=True):
    __tablename__ = "permits"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    facility_id: str = Field(foreign_key="facilities.id", index=True, max_length=36)
    number: str = Field(max_length=40, unique=True)
    issued_at: datetime = _ts(nullable=False)
    expires_at: date
    issued_by: str = Field(max_length=100)


class ReminderSent(Base, table=True):
    """One row per facility, cycle and kind, so each reminder goes out once per cycle."""

    __tablename__ = "reminders_sent"
    facility_id: str = Field(foreign_key="facilities.id", primary_key=True, max_length=36)
    due_date: date = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=20)
    sent_at: datetime = _ts(nullable=False)


class OutgoingMail(Base, table=True):
    """Email written in the transaction that causes it and sent after commit, so a rolled-back
    change never emails and a redelivered event never emails twice."""

    __tablename__ = "outgoing_mail"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subject: str = Field(max_length=300)
    body: str
    created_at: datetime = _ts(nullable=False)
    sent_at: datetime | None = _ts(nullable=True, index=True)


EVENTS = event_tables(Base.metadata)
CLOSED_ACCOUNTS = closed_accounts_table(Base.metadata)
