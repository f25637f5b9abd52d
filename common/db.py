"""Async database engines and sessions for SQLite (embedded) and PostgreSQL (production).

On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` so concurrent writers queue
on ``busy_timeout`` instead of failing with "database is locked" halfway through.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from common import sqlite
from common.tracing import instrument_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_READ_POOL_SIZE = 16


class _Shared:
    __slots__ = ("busy", "leaf", "session", "stale", "waiters")

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.busy = False
        self.leaf = False
        self.stale = False
        self.waiters: deque[asyncio.Future[None]] = deque()

    def wake_one(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


class RequestReads:
    """One read session per database for one request (``Database.read`` uses it while set).

    A simple read used to open a session (a connection checkout, BEGIN, COMMIT; a pre-ping on
    PostgreSQL) for each of the caller's grants, the closed-account check and each DataLoader
    batch. Within a request they now share one session (in no transaction, see Database),
    one user at a time. A ``read(leaf=True)`` (a body that
    only runs its statements: a DataLoader batch, the caller's grants) waits while another
    leaf uses the shared session; any other ``read()`` that finds it in use opens a session
    of its own, as before, so nothing that awaits other work while holding the session can
    make anyone wait, and nothing deadlocks.
    The shared session never flushes nor commits; a write transaction committed by the same
    request ends its read transaction, so later reads see the write.
    """

    def __init__(self) -> None:
        self._shared: dict[int, _Shared] = {}
        self.closed = False
        self.sessions_opened = 0
        # What this request already read, by (database, what): forgotten when the request
        # commits a write to that database (see ``request_memo``).
        self.memo: dict[tuple[int, Any], Any] = {}

    async def take(self, db: Database, *, leaf: bool) -> _Shared | None:
        if self.closed:
            return None
        shared = self._shared.get(id(db))
        if shared is None:
            session = db._request_sessions()
            session.sync_session.autoflush = False
            shared = self._shared[id(db)] = _Shared(session)
            self.sessions_opened += 1
        while shared.busy:
            if not (leaf and shared.leaf) or self.closed:
                return None
            waiter = asyncio.get_running_loop().create_future()
            shared.waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    shared.wake_one()  # pass on the turn this waiter was given
                raise
        if self.closed:
            return None
        shared.busy = True
        shared.leaf = leaf
        return shared

    def written(self, db: Database) -> None:
        shared = self._shared.get(id(db))
        if shared is not None:
            shared.stale = True
        for key in [k for k in self.memo if k[0] == id(db)]:
            del self.memo[key]

    async def release(self, shared: _Shared, *, failed: bool) -> None:
        try:
            if self.closed:
                await shared.session.close()
            elif failed or shared.stale:
                await _end(shared)
        finally:
            shared.busy = False
            shared.wake_one()

    async def aclose(self) -> None:
        self.closed = True
        for shared in self._shared.values():
            while shared.waiters:
                shared.wake_one()
            if not shared.busy:  # a task still reading closes it on release
                await shared.session.close()


async def _end(shared: _Shared) -> None:
    # Detach what was loaded first: rolling back would expire the rows resolvers still hold.
    shared.session.expunge_all()
    await shared.session.rollback()
    shared.stale = False


_request_reads: ContextVar[RequestReads | None] = ContextVar("request_reads", default=None)


@asynccontextmanager
async def request_reads() -> AsyncIterator[RequestReads]:
    """Share one read session per database among the ``read()`` calls of this request."""
    reads = RequestReads()
    token = _request_reads.set(reads)
    try:
        yield reads
    finally:
        _request_reads.reset(token)
        await reads.aclose()


def remember(db: Database, what: Any, value: Any) -> None:
    """Keep ``value`` read from ``db`` for the rest of this request (nothing outside one)."""
    reads = _request_reads.get()
    if reads is not None and not reads.closed:
        reads.memo[(id(db), what)] = value


def recall(db: Database, what: Any) -> Any | None:
    """What this request ``remember``-ed of ``db`` under ``what``, unless it has written to
    ``db`` since."""
    reads = _request_reads.get()
    return reads.memo.get((id(db), what)) if reads is not None else None


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _configure_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over BEGIN from the driver so we can choose its kind below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(_STATEMENT_READS):
            return  # each statement reads the latest committed data (see Database)
        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        dbapi_connection = conn.connection.dbapi_connection
        if isinstance(dbapi_connection, sqlite.OneTripConnection):
            dbapi_connection.begin_lazily(begin)  # sent with the first statement
        else:
            conn.exec_driver_sql(begin)


def make_engine(url: str, *, immediate: bool = True, **kwargs: Any) -> AsyncEngine:
    if is_sqlite(url):
        if url.startswith("sqlite+aiosqlite:"):
            kwargs.setdefault("module", sqlite.dbapi())
        if not immediate:
            # Reads run side by side (WAL): keep a connection for each request commonly in
            # flight, or every burst past the pool opens and closes connections, each with
            # its own thread and PRAGMAs (0.8x the CPU of a token-checked request at c=16).
            kwargs.setdefault("pool_size", SQLITE_READ_POOL_SIZE)
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine, immediate=immediate)
        return instrument_engine(engine)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    if not url.startswith("postgresql+asyncpg:"):
        kwargs.setdefault("pool_pre_ping", True)
        return instrument_engine(create_async_engine(url, **kwargs))
    engine = create_async_engine(url, **kwargs)
    _drop_closed_connections(engine)
    return instrument_engine(engine)


def _drop_closed_connections(engine: AsyncEngine) -> None:
    """Never hand out a connection the server has closed (a restart, an idle timeout, a
    terminated backend). asyncpg learns of the close itself, as the event loop reads the
    socket, so checking costs nothing; SQLAlchemy's pre-ping sent BEGIN, a query and ROLLBACK
    on every checkout instead, three round trips per request (0.85x the CPU of `me` without
    them). The pool replaces a connection refused here with a new one."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection._connection.is_closed():
            raise exc.DisconnectionError("the PostgreSQL server closed this pooled connection")


_STATEMENT_READS = "cers_statement_reads"


class Database:
    """One service's database: a write engine and, on SQLite, a separate read engine.

    Reads on SQLite use a deferred BEGIN so they never wait behind a writer (WAL). The read
    session a request shares (RequestReads) opens no transaction: each of its statements
    reads the latest committed data, as every statement does under PostgreSQL's READ
    COMMITTED anyway, without BEGIN and ROLLBACK (round trips on PostgreSQL, trips to the
    connection's thread on SQLite). Reads outside a request (exports, snapshots, the event
    workers) keep their one transaction.
    """

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, immediate=True, **engine_kwargs)
        self.read_engine = (
            make_engine(url, immediate=False, **engine_kwargs) if is_sqlite(url) else self.engine
        )
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self._request_sessions = async_sessionmaker(
            self.read_engine.execution_options(**{_STATEMENT_READS: True}) if is_sqlite(url)
            else self.engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False)
        self._commit_hooks: list[Callable[[dict[str, Any]], None]] = []

    def add_commit_hook(self, hook: Callable[[dict[str, Any]], None]) -> None:
        """Call ``hook(session.info)`` after each write transaction commits (e.g. to wake the
        outbox relay when the transaction recorded events)."""
        self._commit_hooks.append(hook)

    def remove_commit_hook(self, hook: Callable[[dict[str, Any]], None]) -> None:
        if hook in self._commit_hooks:
            self._commit_hooks.remove(hook)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: commits on success, rolls back on any exception."""
        async with self._sessions() as session:
            async with session.begin():
                yield session
            reads = _request_reads.get()
            if reads is not None:
                reads.written(self)
            for hook in self._commit_hooks:
                hook(session.info)

    @asynccontextmanager
    async def read(self, *, leaf: bool = False) -> AsyncIterator[AsyncSession]:
        """A read-only session: the request's shared one when free (see RequestReads).

        ``leaf=True`` promises that the body only runs statements on the session (it awaits
        nothing else, no DataLoader, no other read): such reads queue for the shared session
        instead of opening sessions of their own."""
        reads = _request_reads.get()
        shared = await reads.take(self, leaf=leaf) if reads is not None else None
        if shared is None:
            async with self._read_sessions() as session, session.begin():
                yield session
            return
        assert reads is not None
        if shared.stale:
            await _end(shared)
        failed = True
        try:
            yield shared.session
            failed = False
        finally:
            await reads.release(shared, failed=failed)

    async def ping(self) -> None:
        async with self.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
