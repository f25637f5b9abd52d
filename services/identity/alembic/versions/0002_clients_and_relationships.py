"""client post-logout URIs and web origins; read model of facility's relationships

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_id = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('post_logout_redirect_uris', sa.Text(), nullable=False,
                                      server_default=''))
    op.create_table('oauth_client_web_origins',
    sa.Column('origin', _id(length=300), nullable=False),
    sa.Column('client_id', _id(length=64), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['oauth_clients.client_id'], ),
    sa.PrimaryKeyConstraint('origin', 'client_id')
    )
    op.create_index(op.f('ix_oauth_client_web_origins_client_id'), 'oauth_client_web_origins',
                    ['client_id'], unique=False)
    op.create_table('rm_memberships',
    sa.Column('organization_id', _id(length=36), nullable=False),
    sa.Column('user_id', _id(length=36), nullable=False),
    sa.PrimaryKeyConstraint('organization_id', 'user_id')
    )
    op.create_index(op.f('ix_rm_memberships_user_id'), 'rm_memberships', ['user_id'],
                    unique=False)
    op.create_table('rm_staff',
    sa.Column('agency_id', _id(length=36), nullable=False),
    sa.Column('user_id', _id(length=36), nullable=False),
    sa.PrimaryKeyConstraint('agency_id', 'user_id')
    )
    op.create_index(op.f('ix_rm_staff_user_id'), 'rm_staff', ['user_id'], unique=False)
    op.create_table('rm_facilities',
    sa.Column('id', _id(length=36), nullable=False),
    sa.Column('organization_id', _id(length=36), nullable=False),
    sa.Column('agency_id', _id(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_rm_facilities_organization_agency', 'rm_facilities',
                    ['organization_id', 'agency_id'], unique=False)
    op.create_index('ix_rm_facilities_agency_organization', 'rm_facilities',
                    ['agency_id', 'organization_id'], unique=False)
    op.create_table('rm_access_requests',
    sa.Column('id', _id(length=36), nullable=False),
    sa.Column('requester_id', _id(length=36), nullable=False),
    sa.Column('organization_id', _id(length=36), nullable=False),
    sa.Column('routed_to_agency_id', _id(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_rm_access_requests_requester_id'), 'rm_access_requests',
                    ['requester_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_rm_access_requests_requester_id'), table_name='rm_access_requests')
    op.drop_table('rm_access_requests')
    op.drop_index('ix_rm_facilities_agency_organization', table_name='rm_facilities')
    op.drop_index('ix_rm_facilities_organization_agency', table_name='rm_facilities')
    op.drop_table('rm_facilities')
    op.drop_index(op.f('ix_rm_staff_user_id'), table_name='rm_staff')
    op.drop_table('rm_staff')
    op.drop_index(op.f('ix_rm_memberships_user_id'), table_name='rm_memberships')
    op.drop_table('rm_memberships')
    op.drop_index(op.f('ix_oauth_client_web_origins_client_id'),
                  table_name='oauth_client_web_origins')
    op.drop_table('oauth_client_web_origins')
    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.drop_column('post_logout_redirect_uris')
