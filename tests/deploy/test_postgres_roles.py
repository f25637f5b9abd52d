"""The PostgreSQL init script, run for real: the migration role owns the schema, the service's
role reads and writes rows and can change nothing else."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.conftest import TEST_DATABASE_URL
from tests.deploy.manifests import SERVICES, find, rendered
from tests.deploy.postgres import Provisioned, admin_connection, drop, provision

needs_postgres = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL"
)


@pytest.fixture(params=SERVICES)
async def provisioned(request: pytest.FixtureRequest) -> AsyncIterator[Provisioned]:
    """A database set up as the service's StatefulSet sets it up, with unique role names."""
    setup = await provision(str(request.param))
    try:
        yield setup
    finally:
        await drop(setup)


def test_the_statefulset_passes_the_script_every_variable_it_uses() -> None:
    for service in SERVICES:
        statefulset = find(rendered("prod"), "StatefulSet", f"{service}-postgres")
        (container,) = statefulset["spec"]["template"]["spec"]["containers"]
        names = {e["name"] for e in container["env"]}
        assert {"POSTGRES_USER", "POSTGRES_DB", "DB_OWNER_USER", "DB_OWNER_PASSWORD",
                "DB_APP_USER", "DB_APP_PASSWORD"} <= names


@pytest.mark.postgres
@needs_postgres
async def test_after_the_real_migrations_the_service_role_may_use_every_table_and_sequence(
    provisioned: Provisioned,
) -> None:
    migrate = importlib.import_module(f"services.{provisioned.service}.migrate").migrate
    await migrate(provisioned.url(provisioned.owner))
    app = await provisioned.connect(provisioned.app)
    try:
        tables = [r["tablename"] for r in await app.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )]
        assert "alembic_version" in tables
        for table in tables:
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
                assert await app.fetchval(
                    "SELECT has_table_privilege($1, $2)", f"public.{table}", privilege
                ), f"{provisioned.app} lacks {privilege} on {table}"
            assert not await app.fetchval(
                "SELECT has_table_privilege($1, 'TRUNCATE')", f"public.{table}"
            )
        for row in await app.fetch(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ):
            assert await app.fetchval(
                "SELECT has_sequence_privilege($1, 'USAGE')", f"public.{row['sequencename']}"
            )
    finally:
        await app.close()


@pytest.mark.postgres
@needs_postgres
async def test_the_service_role_cannot_change_the_schema(provisioned: Provisioned) -> None:
    owner = await provisioned.connect(provisioned.owner)
    await owner.execute("CREATE TABLE things (id serial PRIMARY KEY, name text)")
    await owner.close()
    app = await provisioned.connect(provisioned.app)
    try:
        await app.execute("INSERT INTO things (name) VALUES ('written by the service')")
        assert await app.fetchval("SELECT name FROM things") == "written by the service"
        for statement in ("CREATE TABLE sneaky (id int)", "DROP TABLE things",
                          "ALTER TABLE things ADD COLUMN extra text", "TRUNCATE things"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await app.execute(statement)
    finally:
        await app.close()


@pytest.mark.postgres
@needs_postgres
async def test_other_roles_cannot_connect_to_the_database(provisioned: Provisioned) -> None:
    admin = await admin_connection()
    stranger = f"{provisioned.database}_stranger"
    await admin.execute(f'CREATE ROLE "{stranger}" LOGIN')
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await provisioned.connect(stranger)
    finally:
        await admin.execute(f'DROP ROLE "{stranger}"')
        await admin.close()
