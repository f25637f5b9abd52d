from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from common.db import Database
from services.identity.adapters.tables import Base
from services.identity.migrate import migrate


async def test_the_migrations_build_exactly_the_tables_the_code_maps(database_url: str) -> None:
    await migrate(database_url)
    db = Database(database_url)
    try:
        async with db.read() as session:
            conn = await session.connection()
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
    finally:
        await db.dispose()
    assert diff == []
