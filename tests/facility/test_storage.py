from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from services.facility.adapters.tables import Base, County, Facility
from services.facility.domain.record import FacilityRecord
from services.facility.service_layer.businesses import (
    CreateBusiness,
    add_facility,
    create_business,
)
from services.facility.service_layer.errors import DuplicateFacility

from .conftest import person


def record(street: str, name: str = "Quincy Yard", city: str = "Quincy") -> FacilityRecord:
    return FacilityRecord(
        name=name,
        site_address={"street": street, "city": city, "zip": "95971"},
        county="Plumas",
        city=city,
    )


async def test_the_migration_matches_the_tables_and_ships_the_58_counties(db):
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(County)) == 58
        assert (await session.get(County, 32)).name == "Plumas"
        conn = await session.connection()
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
        )
    # The trigram index exists only on PostgreSQL and only in the migration.
    assert [d for d in diff if getattr(d[1], "name", None) != "ix_facilities_name_trgm"] == []


async def test_a_new_business_gets_an_org_code_and_its_first_cers_id(app):
    org, facility = await create_business(
        app, person("u1"), CreateBusiness("Feather River", record("1 Main St"))
    )
    assert 10_000_001 <= org.org_code <= 99_999_999
    assert facility.cers_id == 10_000_001


async def test_concurrent_creations_never_share_a_cers_id(app):
    org, _ = await create_business(app, person("u1"), CreateBusiness("Chain", record("0 A St")))
    created = await asyncio.gather(
        *(add_facility(app, person("u1"), org.id, record(f"{n} Elm Street")) for n in range(12))
    )
    ids = sorted(f.cers_id for f in created)
    assert ids == list(range(10_000_002, 10_000_014))


async def test_a_second_facility_at_the_same_address_answers_with_the_existing_cers_id(app):
    org, first = await create_business(
        app, person("u1"), CreateBusiness("A", record("12 North Main Street"))
    )
    with pytest.raises(DuplicateFacility) as raised:
        await create_business(app, person("u2"), CreateBusiness("B", record("12 n. MAIN st")))
    assert raised.value.extensions["cersId"] == first.cers_id
    async with app.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Facility)) == 1


async def test_concurrent_adds_of_one_address_create_exactly_one_facility(app):
    org, _ = await create_business(app, person("u1"), CreateBusiness("A", record("1 Oak St")))
    results = await asyncio.gather(
        *(add_facility(app, person("u1"), org.id, record("77 Pine Road")) for _ in range(6)),
        return_exceptions=True,
    )
    made = [r for r in results if isinstance(r, Facility)]
    dupes = [r for r in results if isinstance(r, DuplicateFacility)]
    assert len(made) == 1 and len(dupes) == 5
    assert {d.extensions["cersId"] for d in dupes} == {made[0].cers_id}


def test_the_counties_table_is_a_file_in_the_repo():
    path = Path(__file__).resolve().parents[2] / "services/facility/data/counties.csv"
    assert path.read_text().splitlines()[1] == "1,Alameda"


async def test_the_migration_names_the_old_made_up_actors_and_lists_closed_accounts(
    database_url: str,
):
    from sqlalchemy import text

    from common.db import Database
    from common.migrations import upgrade
    from services.facility.migrate import SCRIPT_LOCATION

    await asyncio.to_thread(upgrade, SCRIPT_LOCATION, database_url, "0001")
    db = Database(database_url)
    now = "CURRENT_TIMESTAMP"
    async with db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO organizations (id, name, org_code, created_at, updated_at) "
                f"VALUES ('o1', 'Org', 10000001, {now}, {now})"
            )
        )
        await session.execute(
            text(
                "INSERT INTO facilities (id, cers_id, organization_id, name, county_id, city_key,"
                " site_address, mailing_address, contacts, owner_operator, address_key,"
                " annual_due_date, due_date_overridden, created_at, updated_at) VALUES ('f1',"
                " 10000001, 'o1', 'F', 32, '', '{}', '{}', '{}', '{}', 'k', '2027-03-01', false,"
                f" {now}, {now})"
            )
        )
        for actor in ("'seed'", "'demo-seed'", "'operator'", "NULL", "'u-1'"):
            await session.execute(
                text(
                    "INSERT INTO facility_history (facility_id, at, actor, action, changes) "
                    f"VALUES ('f1', {now}, {actor}, 'X', '{{}}')"
                )
            )
        await session.execute(
            text(
                "INSERT INTO known_users (user_id, email_key, email, active, updated_at) VALUES "
                f"('gone', 'g@x', 'g@x', false, {now}), ('here', 'h@x', 'h@x', true, {now})"
            )
        )
    await asyncio.to_thread(upgrade, SCRIPT_LOCATION, database_url, "head")
    async with db.read() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT actor, system_actor_kind, system_actor_name FROM facility_history "
                    "ORDER BY id"
                )
            )
        ).all()
        closed = (await session.execute(text("SELECT user_id FROM closed_accounts"))).all()
    await db.dispose()
    assert [tuple(r) for r in rows] == [
        (None, "DEMO_SEED", "demo-seed"),
        (None, "DEMO_SEED", "demo-seed"),
        (None, "OPERATOR_COMMAND", "operator"),
        (None, "SERVICE", "unrecorded"),
        ("u-1", None, None),
    ]
    assert [tuple(r) for r in closed] == [("gone",)]
