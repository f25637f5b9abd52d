"""Counting what a request asks of its database: the statements it sends and the connections
it checks out. A hot read's counts are pinned in tests, so an N+1 or a lost cache fails CI
(counts, never timings)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from common.db import Database


@dataclass
class Statements:
    sql: list[str] = field(default_factory=list)
    checkouts: int = 0

    @property
    def queries(self) -> list[str]:
        """The statements other than transaction control (BEGIN on SQLite)."""
        return [s for s in self.sql if s.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT")]


_counting: ContextVar[Statements | None] = ContextVar("counting", default=None)


@contextmanager
def counting(*databases: Database) -> Iterator[Statements]:
    """What the code run inside the block (and the tasks it starts) asks of ``databases``;
    the service's background work (its outbox relay, its consumers) is not counted."""
    counted = Statements()
    engines = {id(e.sync_engine): e.sync_engine
               for db in databases for e in (db.engine, db.read_engine)}

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if _counting.get() is counted:
            counted.sql.append(" ".join(statement.split()))

    def on_checkout(*_: Any) -> None:
        if _counting.get() is counted:
            counted.checkouts += 1

    for engine in engines.values():
        event.listen(engine, "before_cursor_execute", on_execute)
        event.listen(engine.pool, "checkout", on_checkout)
    token = _counting.set(counted)
    try:
        yield counted
    finally:
        _counting.reset(token)
        for engine in engines.values():
            event.remove(engine, "before_cursor_execute", on_execute)
            event.remove(engine.pool, "checkout", on_checkout)
