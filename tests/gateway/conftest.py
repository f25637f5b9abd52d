from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

from common.auth import JWKSVerifier
from common.settings import load_settings
from gateway.app import create_app
from gateway.config import GatewayConfig
from tests.gateway.compose import SUPERGRAPHS
from tests.gateway.servers import ServerThread
from tests.gateway.subgraphs import SETS

ISSUER = "http://gateway.test"
AUDIENCE = "cers-api"


@functools.cache
def signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, {"kid": "test-1"})


def mint_token(sub: str = "u1", **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "portal": "business",
        "scope": "openid profile", "client_id": "web", "iat": now, "exp": now + 600,
        "jti": uuid.uuid4().hex, **overrides,
    }
    header = {"alg": "RS256", "typ": "at+jwt", "kid": "test-1"}
    return jwt.encode(header, claims, signing_key())


# (subgraph as "set/name", request body) of every GraphQL request a test subgraph received
REQUESTS: list[tuple[str, Any]] = []


class Recorder:
    def __init__(self, app: ASGIApp, name: str, path: str) -> None:
        self.app = app
        self.name = name
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        REQUESTS.append((self.name, json.loads(body) if body else None))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def requests_to(name: str) -> list[Any]:
    return [body for n, body in REQUESTS if n == name]


def subgraph_app(
    name: str, schema: Any, record: bool = True, path: str = "/graphql"
) -> Starlette:
    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(routes=[
        Route(path, GraphQL(schema, graphql_ide=None), methods=["GET", "POST"]),
        Route("/healthz", healthz),
    ])
    if record:
        app.add_middleware(Recorder, name=name, path=path)
    return app


# A gateway's public base URL -> the base URL of its operations app (the internal port).
OPS_URLS: dict[str, str] = {}


def subgraph_path(subgraph: str) -> str:
    """Test subgraphs answer at /<set-less name>/api, never at /graphql: the gateways must
    use each supergraph url exactly as given."""
    return f"/{subgraph}/api"


@dataclass
class Federation:
    """Running subgraphs of one set, and a way to start gateways over them."""

    threads: ServerThread
    name: str
    urls: dict[str, str]
    jwks_url: str

    @property
    def supergraph_sdl(self) -> str:
        return (SUPERGRAPHS / f"{self.name}.graphql").read_text()

    def gateway(self, **config: Any) -> str:
        overrides = config.pop("urls", None) or self.urls
        sdl = config.pop("sdl", None) or self.supergraph_sdl
        settings = replace(load_settings(), **config.pop("settings", {}))
        cfg = replace(GatewayConfig(), **config)
        verifier = JWKSVerifier(self.jwks_url, issuer=ISSUER, audience=AUDIENCE)
        app = create_app(
            settings, config=cfg, supergraph_sdl=sdl,
            subgraph_url_overrides=overrides, verifier=verifier,
        )
        base = self.threads.serve(app)
        OPS_URLS[base] = self.threads.serve(app.state.ops, lifespan="off")
        return base


@pytest.fixture(scope="session")
def server_thread() -> Iterator[ServerThread]:
    threads = ServerThread()
    yield threads
    threads.close()


@pytest.fixture(scope="session")
def jwks_url(server_thread: ServerThread) -> str:
    async def jwks(_: Request) -> Response:
        return JSONResponse({"keys": [signing_key().as_dict(private=False)]})

    return server_thread.serve(Starlette(routes=[Route("/jwks.json", jwks)])) + "/jwks.json"


@functools.cache
def _started(threads: ServerThread, name: str) -> tuple[tuple[str, str], ...]:
    return tuple(
        (n, threads.serve(subgraph_app(f"{name}/{n}", s, path=subgraph_path(n))) + subgraph_path(n))
        for n, s in SETS[name].items()
    )


@pytest.fixture(scope="session")
def federation_factory(
    server_thread: ServerThread, jwks_url: str
) -> Callable[[str], Federation]:
    def make(name: str) -> Federation:
        return Federation(server_thread, name, dict(_started(server_thread, name)), jwks_url)

    return make


@pytest.fixture(scope="session")
def core(federation_factory: Callable[[str], Federation]) -> Federation:
    return federation_factory("core")


@pytest.fixture(scope="session")
def core_gateway(core: Federation) -> str:
    return core.gateway()


class Client:
    def __init__(self, http: httpx.AsyncClient, base: str) -> None:
        self.http = http
        self.base = base

    async def post(self, query: str, variables: dict[str, Any] | None = None,
                   token: str | None = None, **extra: Any) -> dict[str, Any]:
        response = await self.raw(query, variables, token, **extra)
        return response.json()  # type: ignore[no-any-return]

    async def raw(self, query: str, variables: dict[str, Any] | None = None,
                  token: str | None = None, headers: dict[str, str] | None = None,
                  **extra: Any) -> httpx.Response:
        body: dict[str, Any] = {"query": query, **extra}
        if variables is not None:
            body["variables"] = variables
        hdrs = dict(headers or {})
        if token:
            hdrs["authorization"] = f"Bearer {token}"
        return await self.http.post(self.base + "/graphql", json=body, headers=hdrs)


@pytest.fixture
async def client(core_gateway: str) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield Client(http, core_gateway)
