"""The real identity provider on a free port, the clients a relying party registers, and a
browser that walks the hosted sign-in pages: what the relying-party conformance suites share."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from common.natsserver import free_port
from services.identity.app import Identity, create_app
from services.identity.domain.clients import PEOPLE_SCOPES, STATEWIDE_SCOPE, ClientSpec
from services.identity.service_layer.accounts import Registration
from services.identity.service_layer.clients import save_client
from services.identity.service_layer.seed import create_active_account
from tests.identity.conftest import STRONG, Clock, hidden, make_settings

WEB_ORIGIN = "https://rp.example.org"
WEB_CALLBACK = f"{WEB_ORIGIN}/cb"
WEB_LOGGED_OUT = f"{WEB_ORIGIN}/signed-out?from=cers"
APP_CALLBACK = "https://app.example.org/cb"
APP_SECRET = "app-secret-for-the-conformance-suite"
SERVICE_SECRET = "service-secret-for-the-conformance-suite"
NATIVE_CALLBACK = "http://127.0.0.1/callback"

# client id -> (spec, secret)
CLIENTS: dict[str, tuple[ClientSpec, str | None]] = {
    "rp-web": (ClientSpec(
        "rp-web", "A single-page app on another origin", (WEB_CALLBACK,), "business",
        post_logout_redirect_uris=(WEB_LOGGED_OUT,), web_origins=(WEB_ORIGIN,),
    ), None),
    "rp-app": (ClientSpec(
        "rp-app", "A server-side web app", (APP_CALLBACK,), "business",
    ), APP_SECRET),
    "rp-native": (ClientSpec(
        "rp-native", "A native app", (NATIVE_CALLBACK, "org.example.rp:/callback"), None,
        scopes=("openid", "profile", "offline_access"),
    ), None),
    "rp-service": (ClientSpec(
        "rp-service", "A statewide integration", (), None, scopes=(STATEWIDE_SCOPE,),
        grant_types=("client_credentials",),
    ), SERVICE_SECRET),
}
assert set(PEOPLE_SCOPES) >= set(CLIENTS["rp-native"][0].scopes)

USERNAME = "riley.rp"


@dataclass
class Provider:
    base: str
    app: Starlette
    clock: Clock
    mail_dir: Path
    user_id: str

    @property
    def identity(self) -> Identity:
        identity: Identity = self.app.state.identity
        return identity

    def browser(self) -> httpx.AsyncClient:
        """A browser of its own (its own cookie jar) talking real HTTP to the provider."""
        return httpx.AsyncClient(base_url=self.base, timeout=30)


@asynccontextmanager
async def serve(database_url: str, data_dir: Path, nats_url: str) -> AsyncIterator[Provider]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(database_url, data_dir, nats_url, base)
    clock = Clock()
    app = create_app(settings, clock=clock)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(400):
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "identity did not start"
        identity: Identity = app.state.identity
        for spec, secret in CLIENTS.values():
            await save_client(identity.deps, spec, secret, replace=True)
        result = await create_active_account(identity.deps, Registration(
            portal="business", username=USERNAME, email="riley@example.com", password=STRONG,
            first_name="Riley", last_name="Party",
        ))
        assert result.ok and result.user is not None, result.problems
        yield Provider(base, app, clock, settings.mail_dir, result.user.id)
    finally:
        server.should_exit = True
        await task


@dataclass
class Authorized:
    """Where the provider sent the browser back, and whether it had to sign in for it."""

    location: str
    signed_in: bool


async def authorize(
    browser: httpx.AsyncClient, url: str, username: str | None = USERNAME,
    password: str = STRONG,
) -> Authorized:
    """Open an authorization URL; sign in on the hosted pages when they ask."""
    page = await browser.get(url)
    if page.status_code == 302:
        return Authorized(page.headers["location"], signed_in=False)
    assert page.status_code == 200 and 'name="username"' in page.text, page.text[:500]
    assert username is not None, "the provider asked for a sign-in"
    step2 = await browser.post("/account/signin/username", data={
        "csrf": hidden(page.text, "csrf"), "q": hidden(page.text, "q"), "username": username,
    })
    done = await browser.post("/account/signin/password", data={
        "csrf": hidden(step2.text, "csrf"), "q": hidden(step2.text, "q"),
        "username": username, "password": password,
    })
    assert done.status_code == 302, done.text[:500]
    return Authorized(done.headers["location"], signed_in=True)


def json_of(response: httpx.Response) -> Any:
    return response.json()
