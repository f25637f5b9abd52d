from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select, update

from common.db import Database

metadata = MetaData()
counters = Table(
    "counters", metadata, Column("name", String(20), primary_key=True), Column("value", Integer)
)


async def _database(url: str) -> Database:
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with db.transaction() as session:
        await session.execute(counters.insert().values(name="c", value=0))
    return db


async def test_a_failed_transaction_leaves_nothing_behind(database_url: str) -> None:
    db = await _database(database_url)
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await session.execute(update(counters).values(value=99))
            raise RuntimeError("boom")
    async with db.read() as session:
        assert (await session.execute(select(counters.c.value))).scalar_one() == 0
    await db.dispose()


async def test_concurrent_sqlite_writers_wait_instead_of_failing(tmp_path) -> None:
    # A read-modify-write in each transaction: without BEGIN IMMEDIATE two writers would both
    # read the same value, and the later upgrade to a write lock fails with "database is locked".
    db = await _database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")

    async def increment() -> None:
        async with db.transaction() as session:
            value = (await session.execute(select(counters.c.value))).scalar_one()
            await asyncio.sleep(0.01)
            await session.execute(update(counters).values(value=value + 1))

    await asyncio.gather(*(increment() for _ in range(20)))
    async with db.read() as session:
        assert (await session.execute(select(counters.c.value))).scalar_one() == 20
    await db.dispose()


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path) -> None:
    db = await _database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    async with db.engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one() == "wal"
        assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one() >= 5000
    await db.dispose()


async def test_ping_answers_for_a_reachable_database(database_url: str) -> None:
    db = Database(database_url)
    await db.ping()
    await db.dispose()
