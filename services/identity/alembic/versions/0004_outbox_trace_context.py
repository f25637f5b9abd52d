"""trace context of the transaction that wrote each outbox row (issue 19)

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-10 09:00:00
"""
from __future__ import annotations

from alembic import op

from common.events.tables import add_outbox_trace_context_op, drop_outbox_trace_context_op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_trace_context_op(op)


def downgrade() -> None:
    drop_outbox_trace_context_op(op)
