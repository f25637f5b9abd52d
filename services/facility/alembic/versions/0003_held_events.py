"""held events: what a consumer received but could not apply yet

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00
"""
from __future__ import annotations

from alembic import op

from common.events.tables import HELD, create_event_tables_op, drop_event_tables_op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_tables_op(op, (HELD,))


def downgrade() -> None:
    drop_event_tables_op(op, (HELD,))
