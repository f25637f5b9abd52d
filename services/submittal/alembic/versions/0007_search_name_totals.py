"""search totals by name: covering prefix indexes, each facility's material names

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 16:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INCLUDE = ["trade_secret", "agency_id", "organization_id"]


def upgrade() -> None:
    with op.batch_alter_table("search_facilities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("names", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("public_names", sa.Text(), nullable=False,
                                      server_default=""))
    with op.batch_alter_table("search_materials", schema=None) as batch_op:
        batch_op.drop_index("ix_search_materials_common")
        batch_op.drop_index("ix_search_materials_chemical")
        batch_op.create_index("ix_search_materials_common", ["common_key", "cers_id"],
                              unique=False, postgresql_include=INCLUDE)
        batch_op.create_index("ix_search_materials_chemical", ["chemical_key", "cers_id"],
                              unique=False, postgresql_include=INCLUDE)
    postgresql = op.get_bind().dialect.name == "postgresql"
    joined = ("string_agg(m.name_key, E'\\n' ORDER BY m.position)" if postgresql
              else "group_concat(m.name_key, char(10))")
    for column, secret in (("names", ""), ("public_names", " AND NOT m.trade_secret")):
        op.execute(f"UPDATE search_facilities SET {column} = COALESCE((SELECT {joined} FROM "
                   f"search_materials m WHERE m.facility_id = search_facilities.facility_id"
                   f"{secret}), '')")
    if postgresql:
        for column in ("names", "public_names"):
            op.execute(f"CREATE INDEX ix_search_facilities_{column}_trgm ON search_facilities "
                       f"USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_search_facilities_names_trgm")
    op.execute("DROP INDEX IF EXISTS ix_search_facilities_public_names_trgm")
    with op.batch_alter_table("search_materials", schema=None) as batch_op:
        batch_op.drop_index("ix_search_materials_common")
        batch_op.drop_index("ix_search_materials_chemical")
        batch_op.create_index("ix_search_materials_common", ["common_key"], unique=False)
        batch_op.create_index("ix_search_materials_chemical", ["chemical_key"], unique=False)
    with op.batch_alter_table("search_facilities", schema=None) as batch_op:
        batch_op.drop_column("public_names")
        batch_op.drop_column("names")
