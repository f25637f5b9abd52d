"""A closed account's unexpired token is refused as soon as submittal has seen the closing."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from common.closed_accounts import is_closed
from services.submittal.adapters.tables import CLOSED_ACCOUNTS, Base, Element
from tests.submittal.conftest import World, eventually
from tests.submittal.flows import REVIEW, START, SUBMIT, draft_hmbp, ok
from tests.submittal.test_documents import PDF, download, upload


async def close(world: World, user_id: str) -> None:
    h = world.h
    await h.publish("identity.user.deactivated", user_id,
                    {"user_id": user_id, "deactivated_at": "2026-12-01T09:00:00Z"})

    async def closed() -> bool:
        async with h.deps.db.read() as session:
            return await is_closed(session, CLOSED_ACCOUNTS, user_id)

    await eventually(closed, what=f"{user_id} closed")


async def elements(world: World) -> int:
    async with world.h.deps.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Element)) or 0)


async def test_drafts_submissions_reviews_and_documents_refuse_a_closed_accounts_token(
    world: World,
):
    h = world.h
    ids = await draft_hmbp(h, world.t("editor"), world.facility)
    status, document = await upload(world, "editor", PDF, "application/pdf")
    assert status == 201
    submitted = ok(await h.gql(SUBMIT, world.t("approver"), f=world.facility), "submitDrafts")
    first = submitted["elements"][0]["id"]
    for user in ("editor", "approver", "inspector"):
        await close(world, user)
    before = await elements(world)

    attempts = (
        ("editor", START, {"f": world.facility, "e": "HAZARDOUS_MATERIALS_INVENTORY",
                           "b": "LAST_SUBMITTAL"}),
        ("approver", SUBMIT, {"f": world.facility}),
        ("inspector", REVIEW, {"id": first, "a": "ACCEPT", "c": None}),
    )
    for user, operation, variables in attempts:
        answer = await h.gql(operation, world.t(user), **variables)
        assert [e["extensions"]["code"] for e in answer["errors"]] == ["UNAUTHENTICATED"], user
        assert "closed" in answer["errors"][0]["message"]
    assert (await upload(world, "editor", PDF, "application/pdf"))[0] == 401
    assert (await download(world, "editor", document["id"])).status_code == 401
    assert await elements(world) == before

    # Everyone else carries on.
    assert (await download(world, "viewer", document["id"])).status_code == 200
    reviewed = ok(await h.gql(REVIEW, world.t("approver-reg"), id=first, a="ACCEPT", c=None),
                  "reviewSubmittalElement")
    assert reviewed["element"]["status"] == "ACCEPTED"
    assert ids


TRIGRAM_INDEXES = {"ix_search_materials_name_trgm", "ix_search_facilities_names_trgm",
                   "ix_search_facilities_public_names_trgm"}


async def test_the_migrations_match_the_tables(world: World):
    async with world.h.deps.db.read() as session:
        connection = await session.connection()
        diff = await connection.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    # The trigram indexes of "name contains" are PostgreSQL's own (the migrations make them).
    assert [d for d in diff if getattr(d[1], "name", None) not in TRIGRAM_INDEXES] == []


async def test_the_migration_fills_the_county_and_forgets_the_made_up_demo_actor(
    database_url: str,
):
    import asyncio

    from sqlalchemy import text

    from common.db import Database
    from common.migrations import upgrade
    from services.submittal.migrate import SCRIPT_LOCATION

    await asyncio.to_thread(upgrade, SCRIPT_LOCATION, database_url, "0001")
    db = Database(database_url)
    async with db.transaction() as session:
        await session.execute(text(
            "INSERT INTO rm_facilities (id, organization_id, name, record, updated_at) VALUES "
            "('f1', 'o1', 'Quincy', '{\"county\": \"San Luis Obispo\"}', CURRENT_TIMESTAMP)"))
        await session.execute(text(
            "INSERT INTO elements (id, facility_id, element_type, status, data, based_on, "
            "created_by, created_at, updated_at, submitted_by, no_change_certification) VALUES "
            "('e1', 'f1', 'UST', 'SUBMITTED', '{}', 'BLANK', 'demo-seed', CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP, 'demo-seed', false)"))
    await asyncio.to_thread(upgrade, SCRIPT_LOCATION, database_url, "head")
    async with db.read() as session:
        county = await session.scalar(text("SELECT county_key FROM rm_facilities"))
        actors = (await session.execute(
            text("SELECT created_by, submitted_by FROM elements"))).one()
    await db.dispose()
    assert county == "san luis obispo"
    assert tuple(actors) == (None, None)
