"""Setting up a database the way a service's PostgreSQL StatefulSet does, on the test server."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DATABASE_URL
from tests.deploy.manifests import find, rendered


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


async def provision(service: str) -> Provisioned:
    """A fresh database whose roles the manifests' own init script created (unique names)."""
    base = make_url(TEST_DATABASE_URL)
    prefix = f"t_{uuid.uuid4().hex[:12]}"
    setup = Provisioned(service, prefix, f"{prefix}_owner", f"{prefix}_app",
                        base.host or "127.0.0.1", base.port or 5432)
    admin = await admin_connection()
    try:
        await admin.execute(f'CREATE DATABASE "{setup.database}"')
    finally:
        await admin.close()
    script = find(rendered("prod"), "ConfigMap", f"{service}-postgres-init")["data"]["10-roles.sh"]
    env = {
        **os.environ, "PGHOST": setup.host, "PGPORT": str(setup.port),
        "POSTGRES_USER": base.username or "postgres", "POSTGRES_DB": setup.database,
        "DB_OWNER_USER": setup.owner, "DB_OWNER_PASSWORD": "owner-secret",
        "DB_APP_USER": setup.app, "DB_APP_PASSWORD": "app-secret",
    }
    process = await asyncio.create_subprocess_exec(
        "sh", "-c", script, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    if process.returncode != 0:
        await drop(setup)
        raise AssertionError(f"the init script failed: {stderr.decode()}")
    return setup


async def drop(setup: Provisioned) -> None:
    admin = await admin_connection()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{setup.database}" WITH (FORCE)')
        await admin.execute(f'DROP ROLE IF EXISTS "{setup.owner}"')
        await admin.execute(f'DROP ROLE IF EXISTS "{setup.app}"')
    finally:
        await admin.close()
