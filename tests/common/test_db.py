from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select, text, update

from common.db import Database, request_reads

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


async def test_a_sqlite_writer_queued_behind_another_process_writes_once_it_commits(
    tmp_path,
) -> None:
    path = tmp_path / "q.db"
    db = await _database(f"sqlite+aiosqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process's writer holds the lock
    other.execute("UPDATE counters SET value = 10")
    events: list[str] = []

    async def write() -> None:
        async with db.transaction() as session:
            value = (await session.execute(select(counters.c.value))).scalar_one()
            events.append("began")  # BEGIN IMMEDIATE goes with the first statement
            await session.execute(update(counters).values(value=value + 1))

    writer = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert events == []  # still waiting for the lock, not failed
    events.append("other committed")
    other.execute("COMMIT")
    other.close()
    await writer
    assert events == ["other committed", "began"]
    async with db.engine.connect() as conn:
        assert (await conn.exec_driver_sql("SELECT value FROM counters")).scalar_one() == 11
        # The busy timeout is back for every later statement of the connection.
        assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one() >= 5000
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


async def test_a_request_shares_one_read_session_among_its_sequential_reads(
    database_url: str,
) -> None:
    db = await _database(database_url)
    async with request_reads() as reads:
        for _ in range(3):
            async with db.read() as session:
                assert (await session.execute(select(counters.c.value))).scalar_one() == 0
        assert reads.sessions_opened == 1
    await db.dispose()


async def test_concurrent_reads_of_one_request_never_share_a_session(database_url: str) -> None:
    db = await _database(database_url)
    used: list[object] = []
    both_inside = asyncio.Event()
    inside = 0

    async def read() -> None:
        nonlocal inside
        async with db.read() as session:
            used.append(session)
            inside += 1
            if inside == 2:
                both_inside.set()
            await asyncio.wait_for(both_inside.wait(), 10)  # both hold a session at once
            assert (await session.execute(select(counters.c.value))).scalar_one() == 0

    async with request_reads():
        await asyncio.gather(read(), read())
    assert len(used) == 2 and used[0] is not used[1]
    await db.dispose()


async def test_a_read_after_the_request_commits_a_write_sees_it(database_url: str) -> None:
    db = await _database(database_url)
    async with request_reads():
        async with db.read() as session:
            assert (await session.execute(select(counters.c.value))).scalar_one() == 0
        async with db.transaction() as session:
            await session.execute(update(counters).values(value=5))
        async with db.read() as session:
            assert (await session.execute(select(counters.c.value))).scalar_one() == 5
    await db.dispose()


async def test_a_failed_read_does_not_spoil_the_next_one(database_url: str) -> None:
    db = await _database(database_url)
    async with request_reads() as reads:
        with pytest.raises(Exception, match="no_such_table|does not exist|no such table"):
            async with db.read() as session:
                await session.execute(text("SELECT * FROM no_such_table"))
        async with db.read() as session:
            assert (await session.execute(select(counters.c.value))).scalar_one() == 0
        assert reads.sessions_opened == 1
    await db.dispose()


async def test_outside_a_request_or_after_it_each_read_has_its_own_session(
    database_url: str,
) -> None:
    db = await _database(database_url)
    async with request_reads() as reads:
        pass
    assert reads.closed
    async with db.read() as first, db.read() as second:
        assert first is not second
        assert (await second.execute(select(counters.c.value))).scalar_one() == 0
    await db.dispose()


async def test_leaf_reads_of_one_request_take_turns_on_the_shared_session(
    database_url: str,
) -> None:
    db = await _database(database_url)
    used: list[object] = []

    async def leaf() -> None:
        async with db.read(leaf=True) as session:
            used.append(session)
            await asyncio.sleep(0)  # the others arrive meanwhile, and wait
            assert (await session.execute(select(counters.c.value))).scalar_one() == 0

    async with request_reads() as reads:
        await asyncio.gather(*(leaf() for _ in range(5)))
        assert reads.sessions_opened == 1
    assert len(used) == 5 and all(s is used[0] for s in used)
    await db.dispose()


async def test_a_leaf_read_never_waits_for_a_read_that_may_await_it(database_url: str) -> None:
    # The outer read holds the shared session while it awaits a leaf (a DataLoader batch, say):
    # the leaf gets a session of its own instead of waiting forever.
    db = await _database(database_url)

    async def leaf() -> int:
        async with db.read(leaf=True) as session:
            return int((await session.execute(select(counters.c.value))).scalar_one())

    async with request_reads():
        async with db.read() as outer:
            assert await asyncio.wait_for(asyncio.create_task(leaf()), 10) == 0
            assert (await outer.execute(select(counters.c.value))).scalar_one() == 0
    await db.dispose()


async def test_a_sqlite_statement_is_one_trip_to_the_connections_thread_begin_included(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aiosqlite

    db = await _database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    async with db.read() as session:  # the read engine's connection is open from here on
        await session.execute(select(counters.c.value))
    trips = 0
    execute = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: object, *args: object,
                      **kwargs: object) -> object:
        nonlocal trips
        trips += 1
        return await execute(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    async with db.read() as session:
        await session.execute(select(counters.c.value))  # BEGIN rides with it
        assert trips == 1
        assert (await session.execute(select(counters.c.value))).scalar_one() == 0
        assert trips == 2
    assert trips == 3  # the COMMIT; the pool's ROLLBACK after it has nothing to end
    async with request_reads():
        async with db.read(leaf=True) as session:
            await session.execute(select(counters.c.value))
        async with db.read(leaf=True) as session:
            await session.execute(select(counters.c.value))
    # A request's reads open no transaction (nothing to end) and run on the calling thread.
    assert trips == 3
    async with db.transaction() as session:
        changed = await session.execute(update(counters).values(value=5))
        assert changed.rowcount == 1
        inserted = await session.execute(counters.insert().values(name="d", value=1))
        assert inserted.lastrowid == 2
        streamed = await session.stream(select(counters.c.name).order_by(counters.c.name))
        assert [row.name async for row in streamed] == ["c", "d"]  # sees its own writes
    trips = 0
    async with db.transaction():
        pass  # no statement: no BEGIN, no COMMIT, no trip
    assert trips == 0
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await session.execute(update(counters).values(value=99))
            raise RuntimeError("boom")
    async with db.read() as session:
        assert (await session.execute(select(counters.c.value).where(
            counters.c.name == "c"))).scalar_one() == 5
    await db.dispose()


async def test_a_requests_sqlite_reads_see_the_latest_commit_and_other_reads_one_snapshot(
    tmp_path,
) -> None:
    # The request's shared session reads as PostgreSQL's READ COMMITTED does (and so needs
    # no transaction to end); a read outside a request (an export, a snapshot) keeps one.
    db = await _database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    value = select(counters.c.value)

    async def bump(to: int) -> None:
        async with db.transaction() as session:
            await session.execute(update(counters).values(value=to))

    async with request_reads():
        async with db.read(leaf=True) as session:
            assert (await session.execute(value)).scalar_one() == 0
            await bump(1)  # another connection commits
            assert (await session.execute(value)).scalar_one() == 1
    async with db.read() as session:
        assert (await session.execute(value)).scalar_one() == 1
        await bump(2)
        assert (await session.execute(value)).scalar_one() == 1  # its own snapshot
    await db.dispose()


async def test_sqlite_keeps_its_read_connections_through_bursts_of_requests(tmp_path) -> None:
    # Sixteen requests at once, again and again: the connections of the first burst serve
    # the later ones, instead of each burst opening (a thread and PRAGMAs per connection) and
    # closing connections past a small pool.
    from sqlalchemy import event

    db = await _database(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    opened: list[object] = []
    event.listen(db.read_engine.sync_engine, "connect", lambda conn, _record: opened.append(conn))

    async def request() -> None:
        async with request_reads():
            async with db.read(leaf=True) as session:
                await session.execute(select(counters.c.value))
                await asyncio.sleep(0.01)  # all sixteen hold a connection at once

    await asyncio.gather(*(request() for _ in range(16)))
    first_burst = len(opened)
    for _ in range(3):
        await asyncio.gather(*(request() for _ in range(16)))
    assert first_burst == 16
    assert len(opened) == first_burst
    await db.dispose()


async def test_a_requests_read_runs_inline_unless_it_is_long_or_must_wait_for_a_lock(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3
    import threading

    import aiosqlite

    db = await _database(f"sqlite+aiosqlite:///{tmp_path / 'i.db'}")
    threads: list[str] = []
    execute = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: object, *args: object,
                      **kwargs: object) -> object:
        threads.append("trip")
        return await execute(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    # Counting to a million is far past an inline read's budget: the same statement runs
    # again on the connection's thread, with the same answer.
    long = text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                "WHERE i < 1000000) SELECT count(*) FROM n")
    async with request_reads():
        async with db.read(leaf=True) as session:
            await session.execute(select(counters.c.value))  # opens the connection
            threads.clear()
            assert (await session.execute(select(counters.c.value))).scalar_one() == 0
            assert threads == []
            assert (await session.execute(long)).scalar_one() == 1_000_000
            assert threads == ["trip"]

    # A read that would have to wait for a lock (here: SQLite says so on the loop's thread)
    # runs on its connection's thread instead, where the busy timeout applies.
    import common.sqlite

    run = common.sqlite._run

    def locked_on_the_loop(*args: object, **kwargs: object) -> object:
        if threading.current_thread() is threading.main_thread():
            raise sqlite3.OperationalError("database is locked")
        return run(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(common.sqlite, "_run", locked_on_the_loop)
    threads.clear()
    async with request_reads():
        async with db.read(leaf=True) as session:
            assert (await session.execute(select(counters.c.value))).scalar_one() == 0
    assert threads == ["trip"]
    # The inline attempt put the connection's busy timeout back.
    async with db.read_engine.connect() as conn:
        assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one() >= 5000
    await db.dispose()


async def test_a_connection_the_postgresql_server_closed_is_replaced_not_handed_out(
    database_url: str,
) -> None:
    # A restart or an idle timeout on the server closes pooled connections; the next request
    # must get a live one, not an error.
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's server-side close")
    from sqlalchemy.pool import NullPool

    db = await _database(database_url)
    async with db.read() as session:
        backend = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(database_url, poolclass=NullPool)
    async with admin.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    await admin.dispose()
    await asyncio.sleep(0.2)  # the terminated backend's close reaches our side
    for _ in range(3):
        async with request_reads():
            async with db.read(leaf=True) as session:
                assert (await session.execute(select(counters.c.value))).scalar_one() == 0
    await db.dispose()
