"""The whole sign-up and sign-in journey, over real HTTP against uvicorn on a free port."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import nats
import pytest
import uvicorn
from nats.js.errors import NotFoundError

from common.mail import read_mail_drop
from common.natsserver import free_port
from services.identity.app import create_app
from tests.identity.conftest import REGISTER, make_settings, pkce

PASSWORD = "Juniper-Canyon-Relay-19"


@pytest.fixture
async def served(
    database_url: str, tmp_path: Path, nats_server: Any
) -> AsyncIterator[tuple[str, Path]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(database_url, tmp_path, nats_server.url, base)
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None,
                            lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(400):
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    assert server.started, "identity did not start"
    yield base, settings.mail_dir
    server.should_exit = True
    await task


def field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no field {name} in page"
    return found.group(1).replace("&amp;", "&")


async def published(nats_url: str, subject: str, aggregate_id: str) -> dict[str, Any]:
    """The envelope the relay published for this aggregate (waiting up to ~20 s for it)."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        for _ in range(200):
            try:
                message = await js.get_last_msg("IDENTITY", subject)
                data: dict[str, Any] = json.loads(message.data or b"{}")
                if data.get("aggregate_id") == aggregate_id:
                    return data
            except NotFoundError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"nothing published on {subject} for {aggregate_id}")
    finally:
        await connection.close()


async def test_register_activate_sign_in_and_call_me_over_http(
    served: tuple[str, Path], nats_server: Any
) -> None:
    base, mail_dir = served
    async with httpx.AsyncClient(base_url=base) as http:
        registered = await http.post("/graphql", json={"query": REGISTER, "variables": {"input": {
            "portal": "BUSINESS", "username": "journey.jo", "email": "jo@example.com",
            "password": PASSWORD, "firstName": "Jo", "lastName": "Journey",
        }}})
        assert registered.json()["data"]["registerAccount"]["userErrors"] == []

        mail = [m for m in read_mail_drop(mail_dir) if m["To"] == "jo@example.com"][-1]
        link = re.search(rf"{re.escape(base)}/account/activate\?token=[\w-]+", mail.get_content())
        assert link, mail.get_content()
        page = await http.get(link.group(0))
        activated = await http.post("/account/activate", data={
            "csrf": field(page.text, "csrf"), "token": field(page.text, "token"),
        })
        assert "Your account is active" in activated.text

        verifier, challenge = pkce()
        query = urlencode({
            "response_type": "code", "client_id": "business-web",
            "redirect_uri": f"{base}/auth/callback", "scope": "openid profile email",
            "state": "j1", "code_challenge": challenge, "code_challenge_method": "S256",
        })
        step1 = await http.get(f"/authorize?{query}")
        assert '<label for="username">User name</label>' in step1.text
        step2 = await http.post("/account/signin/username", data={
            "csrf": field(step1.text, "csrf"), "q": field(step1.text, "q"),
            "username": "journey.jo",
        })
        assert '<label for="password">Password</label>' in step2.text
        done = await http.post("/account/signin/password", data={
            "csrf": field(step2.text, "csrf"), "q": field(step2.text, "q"),
            "username": "journey.jo", "password": PASSWORD,
        })
        assert done.status_code == 302
        location = urlsplit(done.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == f"{base}/auth/callback"
        code = parse_qs(location.query)["code"][0]

        token = await http.post("/token", data={
            "grant_type": "authorization_code", "code": code, "client_id": "business-web",
            "redirect_uri": f"{base}/auth/callback", "code_verifier": verifier,
        })
        access = token.json()["access_token"]
        me = await http.post("/graphql", json={"query": "{ me { id username email portal } }"},
                             headers={"authorization": f"Bearer {access}"})
        mine = me.json()["data"]["me"]
        user_id = mine.pop("id")
        assert mine == {
            "username": "journey.jo", "email": "jo@example.com", "portal": "BUSINESS",
        }

    activated_event = await published(nats_server.url, "identity.user.activated", user_id)
    assert activated_event["type"] == "identity.user.activated"
    assert activated_event["data"]["email"] == "jo@example.com"
