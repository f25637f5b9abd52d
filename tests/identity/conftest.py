from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from common.mail import read_mail_drop
from common.settings import Settings, load_settings
from services.identity.app import Identity, create_app

BASE = "http://127.0.0.1:8000"
CALLBACK = f"{BASE}/auth/callback"
STRONG = "Maple-Harbor-Quartz-71"


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Env:
    app: Starlette
    http: httpx.AsyncClient
    clock: Clock
    mail_dir: Path

    @property
    def identity(self) -> Identity:
        identity: Identity = self.app.state.identity
        return identity

    def new_client(self) -> httpx.AsyncClient:
        """Another browser: its own cookie jar."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE)

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = response.json()
        return body

    def mails(self, to: str) -> list[Any]:
        return [m for m in read_mail_drop(self.mail_dir) if to in str(m["To"])]

    def last_link(self, to: str, path: str) -> str:
        for message in reversed(self.mails(to)):
            found = re.search(rf"{re.escape(BASE)}{re.escape(path)}\?token=([\w-]+)",
                              message.get_content())
            if found:
                return found.group(1)
        raise AssertionError(f"no {path} link mailed to {to}")

    async def register(self, username: str = "alice", portal: str = "BUSINESS",
                       email: str | None = None, password: str = STRONG) -> dict[str, Any]:
        body = await self.gql(REGISTER, {"input": {
            "portal": portal, "username": username, "email": email or f"{username}@example.com",
            "password": password, "firstName": "Alice", "lastName": "Example",
            "title": "EHS Manager", "phone": "(530) 555-0199",
        }})
        payload: dict[str, Any] = body["data"]["registerAccount"]
        return payload

    async def active_user(self, username: str = "alice", portal: str = "BUSINESS") -> str:
        payload = await self.register(username, portal)
        assert payload["userErrors"] == [], payload
        token = self.last_link(f"{username}@example.com", "/account/activate")
        body = await self.gql(ACTIVATE, {"input": {"token": token}})
        assert body["data"]["activateAccount"]["userErrors"] == []
        return str(body["data"]["activateAccount"]["user"]["id"])


REGISTER = """mutation($input: RegisterAccountInput!) { registerAccount(input: $input) {
  message userErrors { field code message } } }"""
ACTIVATE = """mutation($input: ActivateAccountInput!) { activateAccount(input: $input) {
  user { id status } userErrors { field code message } } }"""
ME = "{ me { id username email phone firstName portal status } }"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(client_id: str = "business-web", redirect_uri: str = CALLBACK,
                  challenge: str | None = None, **extra: str) -> str:
    params = {
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
        "scope": "openid profile email offline_access", "state": "st-123",
        "code_challenge": challenge or pkce()[1], "code_challenge_method": "S256", **extra,
    }
    return "/authorize?" + urlencode(params)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1).replace("&amp;", "&")


async def sign_in(http: httpx.AsyncClient, username: str, password: str, *,
                  client_id: str = "business-web", redirect_uri: str = CALLBACK,
                  challenge: str | None = None, **extra: str) -> httpx.Response:
    """Walk the hosted pages: /authorize, user name, Next, password, Next."""
    page = await http.get(authorize_url(client_id, redirect_uri, challenge, **extra))
    assert page.status_code == 200, page.text
    step2 = await http.post("/account/signin/username", data={
        "csrf": hidden(page.text, "csrf"), "q": hidden(page.text, "q"), "username": username,
    })
    assert step2.status_code == 200, step2.text
    return await http.post("/account/signin/password", data={
        "csrf": hidden(step2.text, "csrf"), "q": hidden(step2.text, "q"),
        "username": username, "password": password,
    })


def code_of(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["st-123"]
    return query["code"][0]


async def tokens_for(env: Env, username: str, password: str = STRONG,
                     client_id: str = "business-web", **extra: str) -> dict[str, Any]:
    verifier, challenge = pkce()
    async with env.new_client() as browser:
        response = await sign_in(browser, username, password, client_id=client_id,
                                 challenge=challenge, **extra)
    code = code_of(response)
    redirect_uri = extra.get("redirect_uri", CALLBACK)
    token = await env.http.post("/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "client_id": client_id, "code_verifier": verifier,
    })
    assert token.status_code == 200, token.text
    body: dict[str, Any] = token.json()
    return body


def make_settings(
    database_url: str, data_dir: Path, nats_url: str, public_base_url: str = BASE,
    demo: bool = False,
) -> Settings:
    """Embedded settings; demo data only where a test asks (seeding costs argon2 hashes)."""
    base = load_settings()
    return replace(
        base, data_dir=data_dir, database_urls={**base.database_urls, "identity": database_url},
        nats_url=nats_url, public_base_url=public_base_url, auto_migrate=True, demo=demo,
        environment="embedded", smtp_host="",
    )


@pytest.fixture(autouse=True)
def _identity_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IDENTITY_SIGNING_KEY_FILE", "IDENTITY_PREVIOUS_SIGNING_KEY_FILE",
                 "IDENTITY_ADDRESS_ATTEMPTS_PER_MINUTE", "IDENTITY_TRUSTED_PROXY_HOPS"):
        monkeypatch.delenv(name, raising=False)
    # Still argon2id, at OWASP's floor instead of RFC 9106's 64 MiB x 3 x 4: the suite hashes
    # hundreds of passwords on a shared two-core machine. test_domain checks the default.
    monkeypatch.setenv("IDENTITY_ARGON2_MEMORY_KIB", "19456")
    monkeypatch.setenv("IDENTITY_ARGON2_TIME_COST", "2")
    monkeypatch.setenv("IDENTITY_ARGON2_PARALLELISM", "1")


@asynccontextmanager
async def open_env(settings: Settings) -> AsyncIterator[Env]:
    clock = Clock()
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE
        ) as http:
            yield Env(app, http, clock, settings.mail_dir)


@pytest.fixture
async def env(database_url: str, tmp_path: Path, nats_server: Any) -> AsyncIterator[Env]:
    async with open_env(make_settings(database_url, tmp_path, nats_server.url)) as opened:
        yield opened
