from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from common.natsserver import NatsServerProcess
from tests.tracing import Spans, recording

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")

DATABASE_KINDS = ["sqlite"] + (["postgres"] if TEST_DATABASE_URL else [])


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServerProcess]:
    """One nats-server from the wheel, on a free port, for the whole session."""
    server = NatsServerProcess(tmp_path_factory.mktemp("nats"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_nats_server(tmp_path: Path) -> Iterator[NatsServerProcess]:
    """A nats-server of the test's own, which the test may stop and start again."""
    server = NatsServerProcess(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


async def _create_postgres_database() -> tuple[str, str]:
    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(TEST_DATABASE_URL)
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(
        host=base.host, port=base.port or 5432, user=base.username, database=base.database
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return name, base.set(database=name).render_as_string(hide_password=False)


async def _drop_postgres_database(name: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(TEST_DATABASE_URL)
    admin = await asyncpg.connect(
        host=base.host, port=base.port or 5432, user=base.username, database=base.database
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=DATABASE_KINDS)
def database_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def new_database_url(
    database_kind: str, tmp_path: Path
) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """A factory of empty databases of the test's kind; all are dropped after the test."""
    created: list[str] = []

    async def factory() -> str:
        if database_kind == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path / f'db-{uuid.uuid4().hex[:8]}.db'}"
        name, url = await _create_postgres_database()
        created.append(name)
        return url

    yield factory
    for name in created:
        await _drop_postgres_database(name)


@pytest.fixture
async def database_url(new_database_url: Callable[[], Awaitable[str]]) -> str:
    """An empty database: a SQLite file, and a fresh PostgreSQL database where configured."""
    return await new_database_url()


@pytest.fixture
def spans() -> Iterator[Spans]:
    """Tracing on (the SDK, sampling everything) for this test; its finished spans."""
    with recording() as finished:
        yield finished


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Playwright's sync API keeps an event loop running in this thread for the browser's
    # session; async tests scheduled after it could not start their own. Browser tests last.
    items.sort(key=lambda item: "tests/web/" in item.nodeid)
