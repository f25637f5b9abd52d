"""Alembic, run per service. ``env.py`` of each service calls :func:`run_env`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from common.db import make_engine


def alembic_config(script_location: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(script_location: Path, url: str, revision: str = "head") -> None:
    """Upgrade synchronously. Safe to call from a thread while an event loop runs elsewhere."""
    command.upgrade(alembic_config(script_location, url), revision)


async def upgrade_async(script_location: Path, url: str) -> None:
    await asyncio.to_thread(upgrade, script_location, url)


def run_env(target_metadata: MetaData) -> None:
    """Body of a service's alembic ``env.py``: online migrations over the async engine."""
    from alembic import context

    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set"

    def do_run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = make_engine(url, immediate=False)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(do_run)
                await connection.commit()
        finally:
            await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(main())
