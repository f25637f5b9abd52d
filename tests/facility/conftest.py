from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
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


# --- a real loopback JWKS and tokens minted with a test RSA key --------------------------------

import asyncio  # noqa: E402
import functools  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from joserfc import jwt  # noqa: E402
from joserfc.jwk import RSAKey  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from common.auth import JWKSVerifier  # noqa: E402

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
    import threading

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
