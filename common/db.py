"""Async database engines and sessions for SQLite (embedded) and PostgreSQL (production).

On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` so concurrent writers queue
on ``busy_timeout`` instead of failing with "database is locked" halfway through.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from common.tracing import instrument_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000


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
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, *, immediate: bool = True, **kwargs: Any) -> AsyncEngine:
    if is_sqlite(url):
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine, immediate=immediate)
        return instrument_engine(engine)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return instrument_engine(create_async_engine(url, **kwargs))


class Database:
    """One service's database: a write engine and, on SQLite, a separate read engine.

    Reads on SQLite use a deferred BEGIN so they never wait behind a writer (WAL).
    """

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, immediate=True, **engine_kwargs)
        self.read_engine = (
            make_engine(url, immediate=False, **engine_kwargs) if is_sqlite(url) else self.engine
        )
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)
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
            for hook in self._commit_hooks:
                hook(session.info)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read_sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
