"""when each signing key was first loaded: its age, for the rotation alerts (issue 19)

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-10 09:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys_seen",
        sa.Column("kid", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kid"),
    )


def downgrade() -> None:
    op.drop_table("signing_keys_seen")
