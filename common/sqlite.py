"""SQLite through aiosqlite, one trip to its thread per statement.

SQLAlchemy's aiosqlite adapter sends each statement to the connection's thread four times
(open a cursor, execute, fetch the rows, close the cursor), each trip a queued call, a wake-up
of the event loop and a handover of the GIL. On a simple read those trips cost more CPU than
SQLite itself. This adapter does the four steps in one call on the connection's thread and
keeps the rows, the description, the row count and the last row id it read there.

A transaction's BEGIN (``begin_lazily``) rides along with its first statement, and ending a
transaction that is not open on the thread (no statement ran, or it already ended) takes no
trip.

A read outside any transaction (a request's shared read session: each statement reads the
latest commit) takes no trip at all when it can: it runs on the calling thread, where even
one trip costs more CPU than a point read (0.75x the CPU of the Facility page's requests).
Two bounds keep it from stalling the event loop: it gives up after ``INLINE_STEPS`` of
SQLite's virtual machine (about a millisecond of work), and it does not wait for a lock
(busy timeout 0 while it runs). A read that gives up runs again on the connection's thread,
as every statement did before, where the loop goes on while SQLite works or waits.
"""

from __future__ import annotations

import collections
import contextlib
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

_Outcome = tuple[Any, list[Any], int, int | None]

# SQLite calls the progress handler every INLINE_STEP virtual-machine instructions; an inline
# read is abandoned (and run on the thread instead) at the INLINE_STEPS-th call.
INLINE_STEP = 1000
INLINE_STEPS = 20
_READS = ("SELECT", "WITH")


# Between two tries of BEGIN IMMEDIATE while another connection writes (then the last, again).
_BUSY_POLL_SECONDS = (0.0005, 0.001, 0.002, 0.004)


def _begin(connection: sqlite3.Connection, begin: str) -> None:
    """Run ``begin``; a BEGIN IMMEDIATE that finds another writer tries again every few ms.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25... ms between tries, so a writer
    that queued behind a 10 ms transaction slept 18 ms, behind a 20 ms one 33 ms (what the
    event path's writers measured). Here the tries are at most 4 ms apart, and the
    connection's busy timeout still bounds the whole wait.
    """
    if begin != "BEGIN IMMEDIATE":
        connection.execute(begin)
        return
    (timeout_ms,) = connection.execute("PRAGMA busy_timeout").fetchone()
    with _no_busy_wait(connection, timeout_ms):
        deadline = time.monotonic() + timeout_ms / 1000
        tries = 0
        while True:
            try:
                connection.execute(begin)
                return
            except sqlite3.OperationalError as error:
                if (getattr(error, "sqlite_errorcode", None) != sqlite3.SQLITE_BUSY
                        or time.monotonic() >= deadline):
                    raise
            time.sleep(_BUSY_POLL_SECONDS[min(tries, len(_BUSY_POLL_SECONDS) - 1)])
            tries += 1


@contextlib.contextmanager
def _no_busy_wait(connection: sqlite3.Connection, restore_ms: int) -> Iterator[None]:
    """SQLite answers "busy" at once instead of sleeping in its busy handler; the
    connection's busy timeout (``restore_ms``) is back afterwards."""
    connection.execute("PRAGMA busy_timeout=0")
    try:
        yield
    finally:
        connection.execute(f"PRAGMA busy_timeout={int(restore_ms)}")


def _run(connection: sqlite3.Connection, begin: str | None, operation: str,
         parameters: Any, many: bool) -> _Outcome:
    if begin is not None:
        _begin(connection, begin)
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
            return cursor.description, [], cursor.rowcount, cursor.lastrowid
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _inline(connection: sqlite3.Connection, operation: str, parameters: Any,
            busy_timeout_ms: int) -> _Outcome | None:
    """The read run on this thread, or None if it would exceed its budget or wait for a
    lock (or failed in any way: the thread's run then reports what went wrong)."""
    calls = 0

    def over_budget() -> bool:
        nonlocal calls
        calls += 1
        return calls >= INLINE_STEPS

    with _no_busy_wait(connection, busy_timeout_ms):
        connection.set_progress_handler(over_budget, INLINE_STEP)
        try:
            return _run(connection, None, operation, parameters, many=False)
        except sqlite3.Error:
            return None
        finally:
            connection.set_progress_handler(None, 0)


def _is_read(operation: Any) -> bool:
    return isinstance(operation, str) and operation.lstrip()[:6].upper().startswith(_READS)


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No cursor is opened here: each execute opens and closes its own on the thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    async def _async_soft_close(self) -> None:
        return None  # nothing stays open on the thread

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._trip(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_(self._trip(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        adapted: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        async with adapted._execute_mutex:
            begin, adapted.pending_begin = adapted.pending_begin, None
            conn = connection._conn
            if begin is None and not many and not conn.in_transaction and _is_read(operation):
                if adapted.busy_timeout_ms is None:
                    adapted.busy_timeout_ms = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
                inline = _inline(conn, operation, parameters, adapted.busy_timeout_ms)
                if inline is not None:
                    self._keep(inline)
                    return
            try:
                outcome: _Outcome = await connection._execute(  # type: ignore[no-untyped-call]
                    _run, connection._conn, begin, operation, parameters, many)
            except BaseException:
                if begin is not None and not connection._conn.in_transaction:
                    adapted.pending_begin = begin  # it did not start: the next statement's
                raise
        self._keep(outcome)

    def _keep(self, outcome: _Outcome) -> None:
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("busy_timeout_ms", "pending_begin")
    _cursor_cls = OneTripCursor  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.pending_begin: str | None = None
        # The busy timeout an inline read restores after running without one.
        self.busy_timeout_ms: int | None = None

    def begin_lazily(self, statement: str) -> None:
        """Send ``statement`` (BEGIN or BEGIN IMMEDIATE) with the next statement, not now."""
        self.pending_begin = statement

    def cursor(self, server_side: bool = False) -> Any:
        if server_side and self.pending_begin is not None:
            begin, self.pending_begin = self.pending_begin, None
            try:
                await_(self._connection.execute(begin))
            except Exception as error:
                self._handle_exception(error)
        return super().cursor(server_side)

    def _idle(self) -> bool:
        # No transaction open on the thread (sqlite3 would make ROLLBACK and COMMIT no-ops):
        # nothing ran since BEGIN was asked for, or the transaction has already ended.
        self.pending_begin = None
        connection = self._connection._connection
        return connection is None or not connection.in_transaction

    def rollback(self) -> None:
        if not self._idle():
            super().rollback()

    def commit(self) -> None:
        if not self._idle():
            super().commit()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        # Inline reads use the connection from the event loop's thread too, never while its
        # own thread runs something (the execute mutex and the session's one-at-a-time use).
        kw["check_same_thread"] = False
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def dbapi() -> OneTripDBAPI:
    """The DBAPI module to give ``create_async_engine(..., module=...)`` for aiosqlite URLs."""
    return OneTripDBAPI(aiosqlite, sqlite3)
