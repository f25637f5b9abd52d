"""The PostgreSQL init script, run for real: the migration role owns the schema, the service's
role reads and writes rows and can change nothing else."""

from __future__ import annotations

import asyncio
import importlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DATABASE_URL
from tests.deploy.manifests import SERVICES, find, rendered

needs_postgres = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL"
)


@dataclass
class Provisioned:
    service: str
    database: str
    owner: str
    app: str
    host: str
    port: int

    def url(self, role: str) -> str:
        return f"postgresql+asyncpg://{role}@{self.host}:{self.port}/{self.database}"

    async def connect(self, role: str) -> asyncpg.Connection:
        return await asyncpg.connect(
            host=self.host, port=self.port, user=role, database=self.database
        )


async def admin_connection() -> asyncpg.Connection:
    base = make_url(TEST_DATABASE_URL)
    return await asyncpg.connect(
        host=base.host, port=base.port or 5432, user=base.username, database=base.database
    )


@pytest.fixture(params=SERVICES)
async def provisioned(request: pytest.FixtureRequest) -> AsyncIterator[Provisioned]:
    """A database set up as the service's StatefulSet sets it up, with unique role names."""
    service = str(request.param)
    base = make_url(TEST_DATABASE_URL)
    prefix = f"t_{uuid.uuid4().hex[:12]}"
    setup = Provisioned(service, prefix, f"{prefix}_owner", f"{prefix}_app",
                        base.host or "127.0.0.1", base.port or 5432)
    admin = await admin_connection()
    await admin.execute(f'CREATE DATABASE "{setup.database}"')
    script = find(rendered("prod"), "ConfigMap", f"{service}-postgres-init")["data"]["10-roles.sh"]
    env = {
        **os.environ, "PGHOST": setup.host, "PGPORT": str(setup.port),
        "POSTGRES_USER": base.username or "postgres", "POSTGRES_DB": setup.database,
        "DB_OWNER_USER": setup.owner, "DB_OWNER_PASSWORD": "owner-secret",
        "DB_APP_USER": setup.app, "DB_APP_PASSWORD": "app-secret",
    }
    try:
        process = await asyncio.create_subprocess_exec(
            "sh", "-c", script, env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, stderr.decode()
        yield setup
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{setup.database}" WITH (FORCE)')
        await admin.execute(f'DROP ROLE IF EXISTS "{setup.owner}"')
        await admin.execute(f'DROP ROLE IF EXISTS "{setup.app}"')
        await admin.close()


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
