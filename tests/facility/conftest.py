from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from common.auth import Principal
from common.db import Database
from common.mail import Mailer
from common.settings import load_settings
from services.facility.migrate import migrate
from services.facility.service_layer.context import Facilities


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path):
    return dataclasses.replace(load_settings(), data_dir=tmp_path, smtp_host="")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    await migrate(database_url)
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def app(db: Database, settings, clock: FakeClock) -> Facilities:
    return Facilities(db=db, mailer=Mailer(settings), clock=clock)


def person(user_id: str, portal: str = "business") -> Principal:
    return Principal(
        sub=user_id,
        portal=portal,  # type: ignore[arg-type]
        scopes=frozenset({"openid"}),
        client_id="portal",
        token_id=f"t-{user_id}",
    )
