from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from common.db import Database
from common.events import event_tables
from common.events.tables import TABLE_NAMES
from common.migrations import alembic_config, upgrade_async

ENV_PY = """
from sqlalchemy import MetaData

from common.events import event_tables
from common.migrations import run_env

metadata = MetaData()
event_tables(metadata)
run_env(metadata)
"""

FIRST_REVISION = '''
"""the event tables"""
from common.events import create_event_tables_op, drop_event_tables_op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_event_tables_op(op)


def downgrade():
    drop_event_tables_op(op)


from alembic import op  # noqa: E402
'''


def write_migrations(root: Path) -> Path:
    (root / "versions").mkdir(parents=True)
    (root / "env.py").write_text(ENV_PY)
    (root / "script.py.mako").write_text("")
    (root / "versions" / "0001_events.py").write_text(FIRST_REVISION)
    return root


async def test_a_migration_using_the_op_helper_matches_event_tables(
    database_url: str, tmp_path: Path
):
    await upgrade_async(write_migrations(tmp_path / "alembic"), database_url)
    metadata = MetaData()
    event_tables(metadata)
    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
            indexes = await conn.run_sync(
                lambda sync: {
                    table: {index["name"] for index in inspect(sync).get_indexes(table)}
                    for table in TABLE_NAMES
                }
            )
    finally:
        await db.dispose()
    assert differences == []
    assert "ix_event_outbox_unsent" in indexes["event_outbox"]


async def test_the_op_helper_downgrade_drops_every_event_table(database_url: str, tmp_path: Path):
    script_location = write_migrations(tmp_path / "alembic")
    await upgrade_async(script_location, database_url)
    await asyncio.to_thread(
        command.downgrade, alembic_config(script_location, database_url), "base"
    )
    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    finally:
        await db.dispose()
    assert names & set(TABLE_NAMES) == set()


def test_event_tables_are_defined_once_per_metadata():
    metadata = MetaData()
    assert event_tables(metadata) == event_tables(metadata)
    assert set(metadata.tables) == set(TABLE_NAMES)
