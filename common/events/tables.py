"""The outbox, inbox and bookkeeping tables, added to a service's own MetaData.

A service's first Alembic migration creates them with :func:`create_event_tables_op`, which
builds them from the very same definitions, so the migration and the code cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
Position = BigInteger().with_variant(Integer(), "sqlite")

OUTBOX = "event_outbox"
SEQUENCES = "event_sequences"
INBOX = "event_inbox"
POSITIONS = "event_positions"
LEASES = "event_relay_leases"
HELD = "event_held"
TABLE_NAMES = (OUTBOX, SEQUENCES, INBOX, POSITIONS, LEASES, HELD)
# What the services' first migrations created; later tables come with later revisions.
INITIAL_TABLE_NAMES = (OUTBOX, SEQUENCES, INBOX, POSITIONS, LEASES)
TRACE_CONTEXT = "trace_context"  # an outbox column added by a later revision


@dataclass(frozen=True)
class EventTables:
    outbox: Table
    sequences: Table
    inbox: Table
    positions: Table
    leases: Table
    held: Table


def event_tables(metadata: MetaData) -> EventTables:
    """Define the event tables on ``metadata`` (once; a second call returns the same tables).

    - ``event_outbox``: events written with their change; ``position`` is the publish order and
      ``sent_at`` is set once JetStream acknowledged the event. ``trace_context`` holds the
      W3C trace context of the transaction that wrote it (JSON; NULL when not traced).
    - ``event_sequences``: the last ``sequence`` handed out per aggregate.
    - ``event_inbox``: event ids each consumer has applied.
    - ``event_positions``: the last sequence each consumer applied per aggregate.
    - ``event_relay_leases``: who runs the outbox relay, until when.
    - ``event_held``: events a consumer received but could not apply yet: ahead of a missing
      predecessor (parked until it arrives), or failing (``last_error``, and
      ``dead_lettered_at`` once retries ran out). Their aggregate is behind until they apply.
    """
    if OUTBOX in metadata.tables:
        return EventTables(*(metadata.tables[name] for name in TABLE_NAMES))
    outbox = Table(
        OUTBOX,
        metadata,
        Column("position", Position, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False),
        Column("subject", String(255), nullable=False),
        Column("aggregate_id", String(255), nullable=False),
        Column("sequence", BigInteger(), nullable=False),
        Column("payload", Text(), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("sent_at", DateTime(timezone=True), nullable=True),
        Column(TRACE_CONTEXT, String(512), nullable=True),
        UniqueConstraint("event_id", name="uq_event_outbox_event_id"),
    )
    # Partial: the relay's "unsent, in order" query stays cheap however many rows were sent.
    Index(
        "ix_event_outbox_unsent",
        outbox.c.position,
        postgresql_where=outbox.c.sent_at.is_(None),
        sqlite_where=outbox.c.sent_at.is_(None),
    )
    sequences = Table(
        SEQUENCES,
        metadata,
        Column("aggregate_id", String(255), primary_key=True),
        Column("last_sequence", BigInteger(), nullable=False),
    )
    inbox = Table(
        INBOX,
        metadata,
        Column("consumer", String(100), nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("subject", String(255), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("consumer", "event_id", name="pk_event_inbox"),
    )
    positions = Table(
        POSITIONS,
        metadata,
        Column("consumer", String(100), nullable=False),
        Column("aggregate_id", String(255), nullable=False),
        Column("last_sequence", BigInteger(), nullable=False),
        PrimaryKeyConstraint("consumer", "aggregate_id", name="pk_event_positions"),
    )
    leases = Table(
        LEASES,
        metadata,
        Column("name", String(100), primary_key=True),
        Column("holder", String(100), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
    )
    held = Table(
        HELD,
        metadata,
        Column("consumer", String(100), nullable=False),
        Column("aggregate_id", String(255), nullable=False),
        Column("sequence", BigInteger(), nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("subject", String(255), nullable=False),
        Column("payload", Text(), nullable=False),
        Column("held_at", DateTime(timezone=True), nullable=False),
        Column("attempts", Integer(), nullable=False),
        Column("last_error", Text(), nullable=True),
        Column("dead_lettered_at", DateTime(timezone=True), nullable=True),
        PrimaryKeyConstraint("consumer", "aggregate_id", "sequence", name="pk_event_held"),
    )
    return EventTables(outbox, sequences, inbox, positions, leases, held)


def create_event_tables_op(op: Any, names: tuple[str, ...] = TABLE_NAMES) -> None:
    """Create the event tables from an Alembic migration: ``create_event_tables_op(op)``.

    A later revision that adds a table passes its name: ``create_event_tables_op(op, (HELD,))``.
    """
    metadata = MetaData()
    event_tables(metadata)
    for table in metadata.sorted_tables:
        if table.name not in names:
            continue
        columns = [column._copy() for column in table.columns]
        constraints: list[Any] = []
        for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
            name = str(constraint.name) if constraint.name else None
            if isinstance(constraint, UniqueConstraint):
                keys = [column.name for column in constraint.columns]
                constraints.append(UniqueConstraint(*keys, name=name))
            elif isinstance(constraint, PrimaryKeyConstraint) and name:
                keys = [column.name for column in constraint.columns]
                constraints.append(PrimaryKeyConstraint(*keys, name=name))
        op.create_table(table.name, *columns, *constraints)
        for index in table.indexes:
            op.create_index(
                index.name,
                table.name,
                [column.name for column in index.columns],
                unique=index.unique,
                **index.dialect_kwargs,
            )


def drop_event_tables_op(op: Any, names: tuple[str, ...] = TABLE_NAMES) -> None:
    """Drop the event tables in a downgrade: ``drop_event_tables_op(op)``."""
    for name in reversed(names):
        if name == OUTBOX:
            op.drop_index("ix_event_outbox_unsent", table_name=OUTBOX)
        op.drop_table(name)


def add_outbox_trace_context_op(op: Any) -> None:
    """Add ``event_outbox.trace_context`` in a revision: ``add_outbox_trace_context_op(op)``.

    Skipped where the first revision, which builds the outbox from these very definitions,
    created it already.
    """
    from sqlalchemy import inspect

    columns = {column["name"] for column in inspect(op.get_bind()).get_columns(OUTBOX)}
    if TRACE_CONTEXT not in columns:
        metadata = MetaData()
        op.add_column(OUTBOX, event_tables(metadata).outbox.c[TRACE_CONTEXT]._copy())


def drop_outbox_trace_context_op(op: Any) -> None:
    op.drop_column(OUTBOX, TRACE_CONTEXT)
