"""The submittal service's tables. ``Base.metadata`` is this service's MetaData alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from common.closed_accounts import closed_accounts_table
from common.events.tables import event_tables
from common.timestamps import UTCDateTime


class Base(SQLModel, registry=registry()):
    pass


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = False, **kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, **kwargs))


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Element(Base, table=True):
    """One draft or one submission of one element of one facility.

    A submitted row never changes its ``data``; a correction is a new draft. Review fields and
    the status move as regulators act.
    """

    __tablename__ = "elements"
    __table_args__ = (
        # One open draft per facility and element, enforced by the database.
        Index("uq_elements_open_draft", "facility_id", "element_type", unique=True,
              sqlite_where=text("status = 'DRAFT'"), postgresql_where=text("status = 'DRAFT'")),
        Index("ix_elements_facility", "facility_id", "element_type", "submitted_at"),
        Index("ix_elements_queue", "status", "submitted_at", "id"),
    )
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    facility_id: str = Field(max_length=36)
    element_type: str = Field(max_length=40)
    status: str = Field(max_length=20)
    data: dict[str, Any] = _json()
    based_on: str = Field(default="BLANK", max_length=20)
    based_on_id: str | None = Field(default=None, max_length=36)
    created_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    submitted_by: str | None = Field(default=None, max_length=100)
    submitted_at: datetime | None = _ts(nullable=True)
    change_from_previous: str | None = Field(default=None, max_length=20)
    no_change_certification: bool = Field(default=False)
    certification_statement: str | None = Field(default=None, max_length=2000)
    review_action: str | None = Field(default=None, max_length=20)
    review_comments: str | None = Field(default=None, max_length=1500)
    reviewed_by: str | None = Field(default=None, max_length=100)
    reviewed_at: datetime | None = _ts(nullable=True)
    # The submission this one was compared with (its changeFromPrevious and differences).
    previous_id: str | None = Field(default=None, max_length=36)
    # Data kept from before the element was typed that no field could take (migration 0002).
    legacy_data: dict[str, Any] | None = Field(default=None,
                                               sa_column=Column(JSON, nullable=True))


class Document(Base, table=True):
    """An uploaded file; its bytes live in the document storage under ``storage_key``."""

    __tablename__ = "documents"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    facility_id: str = Field(index=True, max_length=36)
    filename: str = Field(max_length=254)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=200)
    uploaded_by: str | None = Field(default=None, max_length=100)
    uploaded_at: datetime = _ts()
    # Set when an element naming it is submitted: from then on regulators may read it too.
    submitted: bool = Field(default=False)


class FacilityView(Base, table=True):
    """Read model of a facility, from facility events: who owns it, who regulates it."""

    __tablename__ = "rm_facilities"
    id: str = Field(primary_key=True, max_length=36)
    organization_id: str = Field(index=True, max_length=36)
    agency_id: str | None = Field(default=None, index=True, max_length=36)
    cers_id: int | None = Field(default=None)
    name: str = Field(default="", max_length=200)
    # The county's name in lower case, for the review queue's county filter.
    county_key: str = Field(default="", max_length=60, index=True)
    record: dict[str, Any] = _json()
    updated_at: datetime = _ts()


class OrganizationView(Base, table=True):
    __tablename__ = "rm_organizations"
    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(default="", max_length=200)


class MembershipView(Base, table=True):
    __tablename__ = "rm_memberships"
    organization_id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(primary_key=True, max_length=100)
    role: str = Field(max_length=20)


class StaffView(Base, table=True):
    __tablename__ = "rm_staff"
    agency_id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(primary_key=True, max_length=100, index=True)
    role: str = Field(max_length=20)


EVENTS = event_tables(Base.metadata)
CLOSED_ACCOUNTS = closed_accounts_table(Base.metadata)
