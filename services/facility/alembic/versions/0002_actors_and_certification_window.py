"""system actors in the history, each agency's certification window, closed accounts

History entries named system actors with made-up user ids ("seed", "demo-seed", "operator")
that identity cannot resolve. A person is now only a real account id in ``actor``; anything
else is a system actor of a kind and a name. A cycle opens for certification
``certification_window_days`` (default 90) before its due date. ``closed_accounts`` lists the
accounts identity closed, whose tokens are refused; it starts from the known accounts already
marked inactive.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:30:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# What the old made-up ids meant: (old actor, kind, name).
LEGACY_ACTORS = (
    ("seed", "DEMO_SEED", "demo-seed"),
    ("demo-seed", "DEMO_SEED", "demo-seed"),
    ("operator", "OPERATOR_COMMAND", "operator"),
)


def upgrade() -> None:
    with op.batch_alter_table('facility_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'system_actor_kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column(
            'system_actor_name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True))
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'certification_window_days', sa.Integer(), nullable=False, server_default='90'))
    history = sa.table(
        'facility_history', sa.column('actor', sa.String), sa.column('system_actor_kind', sa.String),
        sa.column('system_actor_name', sa.String),
    )
    for old, kind, name in LEGACY_ACTORS:
        op.execute(history.update().where(history.c.actor == old).values(
            actor=None, system_actor_kind=kind, system_actor_name=name))
    op.create_table(
        'closed_accounts',
        sa.Column('user_id', sa.String(length=100), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.execute(
        "INSERT INTO closed_accounts (user_id, closed_at) "
        "SELECT user_id, updated_at FROM known_users WHERE active = false"
    )
    # Entries with no actor at all came from events that named no person.
    op.execute(history.update().where(
        history.c.actor.is_(None), history.c.system_actor_kind.is_(None),
    ).values(system_actor_kind="SERVICE", system_actor_name="unrecorded"))


def downgrade() -> None:
    op.drop_table('closed_accounts')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('certification_window_days')
    with op.batch_alter_table('facility_history', schema=None) as batch_op:
        batch_op.drop_column('system_actor_name')
        batch_op.drop_column('system_actor_kind')
