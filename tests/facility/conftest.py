from __future__ import annotations

import asyncio
import dataclasses
import functools
import shutil
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from common.auth import JWKSVerifier, Principal
from common.db import Database
from common.mail import Mailer
from common.migrations import upgrade
from common.settings import load_settings
from services.facility.migrate import SCRIPT_LOCATION
from services.facility.service_layer.context import Facilities
from tests.conftest import TEST_DATABASE_URL


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


# Migrating once and copying the result keeps each test's fresh database cheap.


def _off_loop(work: Any, *args: Any) -> Any:
    """Run blocking setup that itself calls asyncio.run, from inside a running loop."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work, *args).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("facility-template") / "facility.db"
    _off_loop(upgrade, SCRIPT_LOCATION, f"sqlite+aiosqlite:///{path}")
    return path


async def _admin(sql: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(TEST_DATABASE_URL)
    conn = await asyncpg.connect(
        host=base.host, port=base.port or 5432, user=base.username, database=base.database
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _postgres_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    name = f"t_facility_template_{uuid.uuid4().hex[:8]}"
    _off_loop(asyncio.run, _admin(f'CREATE DATABASE "{name}"'))
    _off_loop(upgrade, SCRIPT_LOCATION, _postgres_url(name))
    yield name
    _off_loop(asyncio.run, _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def db(
    database_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    """A migrated, empty facility database of the test's kind."""
    if database_kind == "sqlite":
        path = tmp_path / "facility.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite+aiosqlite:///{path}")
        yield database
        await database.dispose()
        return
    template = request.getfixturevalue("postgres_template")
    name = f"t_{uuid.uuid4().hex[:16]}"
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    database = Database(_postgres_url(name))
    yield database
    await database.dispose()
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


# --- a real loopback JWKS and tokens minted with a test RSA key --------------------------------


ISSUER = "http://127.0.0.1:8000"
AUDIENCE = "cers-api"


@functools.cache
def signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, {"kid": "facility-test"})


def token(sub: str, portal: str | None = "business", scope: str = "openid profile email") -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "client_id": "portal" if portal else sub,
        "scope": scope,
        "iat": now,
        "exp": now + 900,
        "jti": uuid.uuid4().hex,
    }
    if portal:
        claims["portal"] = portal
    header = {"alg": "RS256", "typ": "at+jwt", "kid": "facility-test"}
    return jwt.encode(header, claims, signing_key())


@pytest.fixture(scope="session")
def jwks_url() -> Iterator[str]:
    """A loopback HTTP server publishing the test key's JWKS, on its own thread and loop."""
    app = Starlette(
        routes=[
            Route(
                "/jwks.json",
                lambda _r: JSONResponse({"keys": [signing_key().as_dict(private=False)]}),
            )
        ]
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/jwks.json"
    server.should_exit = True
    thread.join()
    sock.close()


class Api:
    """Calls the facility subgraph over ASGI as a given caller."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(
        self,
        query: str,
        as_: str | None = None,
        portal: str | None = "business",
        scope: str = "openid",
        **variables: Any,
    ) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token(as_, portal, scope)}"} if as_ else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        return response.json()


@pytest.fixture
async def api(app: Facilities, jwks_url: str) -> AsyncIterator[Api]:
    from services.facility.app import graphql_app

    verifier = JWKSVerifier(jwks_url, issuer=ISSUER, audience=AUDIENCE)
    asgi = graphql_app(app, verifier)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=asgi), base_url="http://facility"
    ) as client:
        yield Api(client)
    await verifier.aclose()
