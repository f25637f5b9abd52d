from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import strawberry
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, select

from common.db import Database
from common.events.tables import TABLE_NAMES
from common.graphql import federation_schema
from common.timestamps import UTCDateTime

metadata = MetaData()
moments = Table(
    "moments", metadata, Column("id", Integer, primary_key=True), Column("at", UTCDateTime())
)
PACIFIC = timezone(timedelta(hours=-8))


async def test_a_stored_instant_reads_back_aware_and_in_utc_on_every_database(
    database_url: str,
) -> None:
    db = Database(database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with db.transaction() as session:
        pacific_morning = datetime(2026, 3, 1, 8, tzinfo=PACIFIC)
        await session.execute(moments.insert().values(id=1, at=pacific_morning))
        await session.execute(moments.insert().values(id=2, at=datetime(2026, 3, 1, 16, 0, 1)))
    async with db.read() as session:
        rows = dict((await session.execute(select(moments.c.id, moments.c.at))).all())
        # Comparisons bind through the same type, so a Pacific bound finds the UTC row.
        later = (
            await session.execute(
                select(moments.c.id).where(moments.c.at > datetime(2026, 3, 1, 8, tzinfo=PACIFIC))
            )
        ).scalars().all()
    await db.dispose()
    assert rows[1] == datetime(2026, 3, 1, 16, tzinfo=UTC) and rows[1].tzinfo is UTC
    # A naive value is taken as UTC, the way everything is stored.
    assert rows[2] == datetime(2026, 3, 1, 16, 0, 1, tzinfo=UTC) and rows[2].tzinfo is UTC
    assert later == [2]


def _service_metadata() -> list[MetaData]:
    from services.facility.adapters.tables import Base as FacilityBase
    from services.identity.adapters.tables import Base as IdentityBase
    from services.submittal.adapters.tables import Base as SubmittalBase

    return [FacilityBase.metadata, IdentityBase.metadata, SubmittalBase.metadata]


# common.events reads its own tables and treats a naive instant as UTC itself.
EVENT_TABLES = set(TABLE_NAMES)


@pytest.mark.parametrize("metadata", _service_metadata(), ids=["facility", "identity", "submittal"])
def test_every_instant_a_service_stores_reads_back_in_utc(metadata: MetaData) -> None:
    naive = [
        f"{table.name}.{column.name}"
        for table in metadata.tables.values()
        if table.name not in EVENT_TABLES
        for column in table.columns
        if isinstance(column.type, DateTime)
    ]
    assert naive == [], "use common.timestamps.UTCDateTime, which never reads back naive"
    assert any(
        isinstance(column.type, UTCDateTime)
        for table in metadata.tables.values()
        for column in table.columns
    )


@strawberry.type
class _Query:
    @strawberry.field
    def naive(self) -> datetime:
        return datetime(2026, 3, 1, 16, 0)

    @strawberry.field
    def pacific(self) -> datetime:
        return datetime(2026, 3, 1, 8, 0, tzinfo=PACIFIC)

    @strawberry.field
    def echo(self, at: datetime) -> datetime:
        assert at.tzinfo is not None
        return at


async def test_the_datetime_scalar_always_answers_utc_with_an_offset() -> None:
    schema = federation_schema(query=_Query)
    result = await schema.execute(
        '{ naive pacific echo(at: "2026-03-01T08:00:00-08:00") z: echo(at: "2026-03-01T16:00Z")'
        ' bare: echo(at: "2026-03-01T16:00:00") }'
    )
    assert result.errors is None
    assert result.data == {
        "naive": "2026-03-01T16:00:00+00:00",
        "pacific": "2026-03-01T16:00:00+00:00",
        "echo": "2026-03-01T16:00:00+00:00",
        "z": "2026-03-01T16:00:00+00:00",
        "bare": "2026-03-01T16:00:00+00:00",
    }
    bad = await schema.execute('{ echo(at: "yesterday") }')
    assert bad.errors and "ISO 8601" in bad.errors[0].message
