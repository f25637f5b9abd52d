"""Tables of the statewide search, the change feed and the audit of both.

``search_facilities`` has one row per facility of the read model: what a filter or a scope
needs to know about it (business, agency, county, compliance dates, reported point) and which
inventory is its current one. ``search_materials`` has one row per material of that current
inventory, with the facility's columns copied in so that any combination of filters is one
indexed table scan ordered by CERS ID. Both are derived: ``python -m services.submittal
reindex`` rebuilds them from the elements and the read model.

``feed_entries`` is the integration feed: every submittal event and every facility change,
numbered by ``position`` in commit order with no gaps (see service_layer/feed.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Text, text
from sqlmodel import Field

from common.timestamps import UTCDateTime
from services.submittal.adapters.tables import Base


def _byte_ordered(length: int) -> Any:
    # A prefix is a btree range only where the collation orders bytes ("C"); SQLite's default
    # BINARY does, a PostgreSQL database's default locale may not.
    return Field(default="", sa_column=Column(
        String(length).with_variant(String(length, collation="C"), "postgresql"),
        nullable=False))


def _bigint_pk() -> Any:
    # BIGINT on PostgreSQL; INTEGER on SQLite, where only that is the rowid alias.
    return Field(default=None, sa_column=Column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True))


class SearchFacility(Base, table=True):
    __tablename__ = "search_facilities"
    __table_args__ = (
        Index("ix_search_facilities_cers", "cers_id"),
        Index("ix_search_facilities_agency", "agency_id", "cers_id"),
        Index("ix_search_facilities_org", "organization_id", "cers_id"),
        Index("ix_search_facilities_county", "county_id", "cers_id"),
        Index("ix_search_facilities_due", "annual_due_date", "cers_id"),
        Index("ix_search_facilities_point", "latitude", "longitude"),
    )
    facility_id: str = Field(primary_key=True, max_length=36)
    cers_id: int = Field(default=0)
    organization_id: str = Field(default="", max_length=36)
    agency_id: str | None = Field(default=None, max_length=36)
    county_id: int | None = Field(default=None)
    annual_due_date: date | None = Field(default=None)
    update_due_by: date | None = Field(default=None)
    latitude: float | None = Field(default=None)
    longitude: float | None = Field(default=None)
    location_element_id: str | None = Field(default=None, max_length=36)
    inventory_element_id: str | None = Field(default=None, max_length=36)
    inventory_status: str | None = Field(default=None, max_length=20)
    inventory_submitted_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True))
    material_count: int = Field(default=0)
    # The name keys of the current inventory's materials, one a line: every material's, and
    # only those that are not trade secrets. "Name contains" with no other material
    # condition counts its facilities here, one row each, instead of distinct CERS IDs over
    # a few hundred thousand material rows.
    names: str = Field(default="", sa_column=Column(Text(), nullable=False, server_default=""))
    public_names: str = Field(default="", sa_column=Column(Text(), nullable=False,
                                                           server_default=""))


class SearchMaterial(Base, table=True):
    __tablename__ = "search_materials"
    __table_args__ = (
        Index("ix_search_materials_facility", "facility_id"),
        Index("ix_search_materials_cers", "cers_id", "position"),
        # Covering on PostgreSQL: "this chemical, sorted by amount" and the statewide
        # trade-secret rule read the index alone, not 30,000 scattered table pages.
        Index("ix_search_materials_cas", "cas_number", "cers_id",
              postgresql_include=["trade_secret", "pounds", "gallons", "cubic_feet",
                                  "agency_id"]),
        # Covering on PostgreSQL: a name prefix, its scope and the trade-secret rule (and so
        # its total) from the two indexes alone.
        Index("ix_search_materials_common", "common_key", "cers_id",
              postgresql_include=["trade_secret", "agency_id", "organization_id"]),
        Index("ix_search_materials_chemical", "chemical_key", "cers_id",
              postgresql_include=["trade_secret", "agency_id", "organization_id"]),
        Index("ix_search_materials_ehs", "ehs", "cers_id"),
        Index("ix_search_materials_state", "physical_state", "cers_id"),
        Index("ix_search_materials_pounds", "pounds"),
        Index("ix_search_materials_gallons", "gallons"),
        Index("ix_search_materials_cubic_feet", "cubic_feet"),
        # Covering on PostgreSQL: a regulator's search of its jurisdiction by any material
        # condition reads the index alone.
        Index("ix_search_materials_agency", "agency_id", "cers_id",
              postgresql_include=["ehs", "physical_state", "hazard_mask", "pounds", "gallons",
                                  "cubic_feet", "trade_secret"]),
        Index("ix_search_materials_org", "organization_id", "cers_id"),
        Index("ix_search_materials_county", "county_id", "cers_id"),
        Index("ix_search_materials_point", "latitude", "longitude"),
        Index("ix_search_materials_due", "annual_due_date"),
        Index("ix_search_materials_update_due", "update_due_by"),
    )
    id: int | None = _bigint_pk()
    facility_id: str = Field(max_length=36)
    element_id: str = Field(max_length=36)
    position: int
    # The facility's columns (copies of search_facilities).
    cers_id: int
    organization_id: str = Field(max_length=36)
    agency_id: str | None = Field(default=None, max_length=36)
    county_id: int | None = Field(default=None)
    annual_due_date: date | None = Field(default=None)
    update_due_by: date | None = Field(default=None)
    latitude: float | None = Field(default=None)
    longitude: float | None = Field(default=None)
    inventory_status: str = Field(max_length=20)
    # The material.
    cas_number: str | None = Field(default=None, max_length=15)
    common_name: str | None = Field(default=None, max_length=500)
    chemical_name: str | None = Field(default=None, max_length=500)
    # Lower-cased names: prefix search is a btree range on these, "contains" a trigram index
    # on name_key (PostgreSQL).
    common_key: str = _byte_ordered(500)
    chemical_key: str = _byte_ordered(500)
    name_key: str = Field(default="", max_length=1001)
    trade_secret: bool = Field(default=False)
    location_confidential: bool = Field(default=False)
    ehs: bool = Field(default=False)
    physical_state: str | None = Field(default=None, max_length=10)
    hm_type: str | None = Field(default=None, max_length=10)
    hazard_mask: int = Field(default=0)
    maximum_daily_amount: float | None = Field(default=None)
    units: str | None = Field(default=None, max_length=12)
    # The maximum daily amount in each unit, or NULL where it does not convert.
    pounds: float | None = Field(default=None)
    gallons: float | None = Field(default=None)
    cubic_feet: float | None = Field(default=None)


class FeedEntry(Base, table=True):
    """One change an integration reads: a submittal event or a facility change.

    ``position`` is NULL until the writing transaction commits: it is assigned as the last
    step before the commit, under a lock on the feed counter, so positions are dense and
    increase in commit order. The scope columns say who may read the entry; ``also_*`` name a
    second agency or business that must hear of it (the one a facility left).
    """

    __tablename__ = "feed_entries"
    __table_args__ = (
        Index("uq_feed_entries_position", "position", unique=True),
        Index("ix_feed_entries_unpositioned", "id", sqlite_where=text("position IS NULL"),
              postgresql_where=text("position IS NULL")),
        Index("ix_feed_entries_agency", "agency_id", "position"),
        Index("ix_feed_entries_also_agency", "also_agency_id", "position"),
        Index("ix_feed_entries_org", "organization_id", "position"),
        Index("ix_feed_entries_also_org", "also_organization_id", "position"),
        Index("ix_feed_entries_occurred", "occurred_at"),
    )
    id: int | None = _bigint_pk()
    position: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    event_id: str = Field(max_length=36, unique=True)
    type: str = Field(max_length=80)
    facility_id: str = Field(max_length=36)
    cers_id: int | None = Field(default=None)
    organization_id: str | None = Field(default=None, max_length=36)
    agency_id: str | None = Field(default=None, max_length=36)
    also_organization_id: str | None = Field(default=None, max_length=36)
    also_agency_id: str | None = Field(default=None, max_length=36)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor: str | None = Field(default=None, max_length=100)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class FeedCounter(Base, table=True):
    """The last feed position handed out (one row); its row lock orders the commits."""

    __tablename__ = "feed_counter"
    name: str = Field(primary_key=True, max_length=20)
    last_position: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class SearchAudit(Base, table=True):
    """Who searched, exported or read the feed, with what filter, and how much came back."""

    __tablename__ = "search_audit"
    __table_args__ = (Index("ix_search_audit_at", "at"), Index("ix_search_audit_actor", "actor"))
    id: int | None = _bigint_pk()
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor: str | None = Field(default=None, max_length=100)
    client_id: str | None = Field(default=None, max_length=100)
    portal: str | None = Field(default=None, max_length=20)
    statewide: bool = Field(default=False)
    action: str = Field(max_length=30)
    filter: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    result_count: int | None = Field(default=None)
    request_id: str | None = Field(default=None, max_length=100)
