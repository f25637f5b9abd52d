"""Keyset paging of the facility list stays flat: 150,000 facilities, page 1 vs middle vs end.

    python -m bench.facility_list [--facilities 150000] [--url postgresql+asyncpg://...]

Loads the facilities straight into a fresh database (SQLite file by default), then times
``facilities(first: 50, after: …)`` through the service layer the GraphQL resolver uses, for a
statewide caller, at the start, the middle and the end of the list. OFFSET paging of the same
query is timed alongside as the baseline that does not stay flat.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert

from common.auth import Principal
from common.db import Database
from services.facility.adapters.tables import Facility, Organization
from services.facility.migrate import migrate
from services.facility.service_layer import listing
from services.facility.service_layer.access import Caller

PAGE = 50
REPEAT = 15


async def load(db: Database, count: int) -> None:
    now = datetime.now(UTC)
    async with db.transaction() as session:
        await session.execute(
            insert(Organization),
            [
                {
                    "id": "org",
                    "name": "Bench Org",
                    "org_code": 10000001,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
    batch = 5000
    for start in range(0, count, batch):
        rows = [
            {
                "id": f"f{n:08d}",
                "cers_id": 10_000_001 + n,
                "organization_id": "org",
                "name": f"Facility {n}",
                "county_id": 1 + n % 58,
                "city_key": "",
                "site_address": {"street": f"{n} Main St"},
                "mailing_address": {},
                "contacts": {},
                "owner_operator": {},
                "address_key": f"{n} main st||{n % 58}",
                "annual_due_date": date(2027, 1 + n % 12, 1),
                "due_date_overridden": False,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(start, min(start + batch, count))
        ]
        async with db.transaction() as session:
            await session.execute(insert(Facility), rows)


async def timed(work) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        await work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def run(url: str, count: int) -> None:
    await migrate(url)
    db = Database(url)
    started = time.perf_counter()
    await load(db, count)
    print(
        f"loaded {count:,} facilities in {time.perf_counter() - started:.1f}s ({url.split(':')[0]})"
    )
    state = Principal(
        sub="bench", portal="state", scopes=frozenset(), client_id="bench", token_id=None
    )
    query = listing.filtered(Caller(state, {}, {}), listing.FacilityFilter(), date(2026, 6, 1))
    assert query is not None
    positions = {"start": 0, "middle": count // 2, "end": count - PAGE}
    keyset, offset = {}, {}
    for label, skip in positions.items():
        after = 10_000_000 + skip if skip else None

        async def by_keyset(after: int | None = after) -> None:
            async with db.read() as session:
                rows, _ = await listing.page(session, query, PAGE, after)
                assert len(rows) == PAGE

        async def by_offset(skip: int = skip) -> None:
            async with db.read() as session:
                result = await session.execute(
                    query.order_by(Facility.cers_id).offset(skip).limit(PAGE)
                )
                assert len(result.all()) == PAGE

        keyset[label] = await timed(by_keyset)
        offset[label] = await timed(by_offset)
    print(f"{'page at':<8} {'keyset ms':>10} {'offset ms':>10}")
    for label in positions:
        print(f"{label:<8} {keyset[label] * 1000:>10.2f} {offset[label] * 1000:>10.2f}")
    print(
        f"end/start ratio: keyset {keyset['end'] / keyset['start']:.2f}, "
        f"offset {offset['end'] / offset['start']:.2f} (flat is ~1)"
    )
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--facilities", type=int, default=150_000)
    parser.add_argument("--url", help="an empty database; default a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(run(url, args.facilities))


if __name__ == "__main__":
    main()
