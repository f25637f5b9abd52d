"""closed accounts, the read model's county, and no made-up demo actor

``closed_accounts`` lists the accounts identity closed (from identity.user.deactivated), whose
tokens are refused. ``rm_facilities.county_key`` (the county's name in lower case, indexed)
serves the review queue's county filter; it is filled from the facility record the read model
already holds. The demo seed used to record "demo-seed" as the creator and submitter of its
elements, an id no account has: those become null.

Revision ID: 0002_closed_accounts
Revises: 0001
Create Date: 2026-12-01 11:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0002_closed_accounts'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'closed_accounts',
        sa.Column('user_id', sa.String(length=100), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user_id'),
    )
    with op.batch_alter_table('rm_facilities', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'county_key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False,
            server_default=''))
        batch_op.create_index(batch_op.f('ix_rm_facilities_county_key'), ['county_key'],
                              unique=False)
    county = (
        "record->>'county'" if op.get_bind().dialect.name == "postgresql"
        else "json_extract(record, '$.county')"
    )
    op.execute(f"UPDATE rm_facilities SET county_key = lower(trim(coalesce({county}, '')))")
    elements = sa.table('elements', sa.column('created_by', sa.String),
                        sa.column('submitted_by', sa.String))
    op.execute(elements.update().where(elements.c.created_by == 'demo-seed')
               .values(created_by=None))
    op.execute(elements.update().where(elements.c.submitted_by == 'demo-seed')
               .values(submitted_by=None))


def downgrade() -> None:
    with op.batch_alter_table('rm_facilities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rm_facilities_county_key'))
        batch_op.drop_column('county_key')
    op.drop_table('closed_accounts')
