from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from joserfc import jws

from tests.identity.conftest import make_settings, open_env, tokens_for

STATE_PASSWORD = "Sierra-Statewide-Reader-77"


async def cli(*args: str, data_dir: Path, database_url: str, **env: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.identity", *args,
        env={**os.environ, "DATA_DIR": str(data_dir), "IDENTITY_DATABASE_URL": database_url,
             "LOG_FORMAT": "text", **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


def claims(token: str) -> dict[str, Any]:
    return dict(json.loads(jws.extract_compact(token.encode()).payload))


async def test_operators_create_state_accounts_and_clients_and_rotate_keys(
    database_url: str, tmp_path: Path, nats_server: Any
) -> None:
    where: dict[str, Any] = {"data_dir": tmp_path, "database_url": database_url}
    out = await cli("create-state-account", "--username", "state.sam", "--email",
                    "sam@state.example", "--first-name", "Sam", "--last-name", "State",
                    IDENTITY_NEW_PASSWORD=STATE_PASSWORD, **where)
    assert "STATE account state.sam created" in out
    out = await cli("create-client", "county-feed", "--confidential", **where)
    secret = out.split("client secret (shown once): ")[1].strip()
    first_kid = (await cli("rotate-keys", **where)).split()[3].rstrip(";")
    second_kid = (await cli("rotate-keys", **where)).split()[3].rstrip(";")

    async with open_env(make_settings(database_url, tmp_path, nats_server.url)) as env:
        keys = (await env.http.get("/jwks.json")).json()["keys"]
        assert [k["kid"] for k in keys] == [second_kid, first_kid]

        tokens = await tokens_for(env, "state.sam", STATE_PASSWORD, client_id="mobile",
                                  redirect_uri="http://127.0.0.1:40123/callback", portal="state")
        assert claims(tokens["access_token"])["portal"] == "state"

        feed = await env.http.post("/token", data={"grant_type": "client_credentials"},
                                   auth=("county-feed", secret))
        assert feed.status_code == 200
        assert claims(feed.json()["access_token"])["scope"] == "statewide:read"
        wrong = await env.http.post("/token", data={"grant_type": "client_credentials"},
                                    auth=("county-feed", secret + "x"))
        assert wrong.status_code == 401


async def test_demo_mode_seeds_activated_accounts_and_the_state_demo_client(
    database_url: str, tmp_path: Path, nats_server: Any
) -> None:
    settings = make_settings(database_url, tmp_path, nats_server.url, demo=True)
    async with open_env(settings) as env:
        await tokens_for(env, "demo.business", "Demo-Business-2026!")
        await tokens_for(env, "demo.plumas", "Demo-Plumas-2026!", client_id="regulator-web")
        state = await env.http.post("/token", data={"grant_type": "client_credentials"},
                                    auth=("state-demo", "state-demo-secret"))
        assert state.status_code == 200
    # A second start finds the accounts and seeds nothing twice.
    async with open_env(settings) as env:
        await tokens_for(env, "demo.business", "Demo-Business-2026!")


async def test_operators_register_web_origins_and_post_logout_uris_and_bad_ones_are_refused(
    database_url: str, tmp_path: Path, nats_server: Any
) -> None:
    where: dict[str, Any] = {"data_dir": tmp_path, "database_url": database_url}
    out = await cli("create-client", "planner-web", "--name", "Planner", "--portal", "business",
                    "--redirect-uri", "https://planner.example.org/callback",
                    "--post-logout-redirect-uri", "https://planner.example.org/",
                    "--web-origin", "https://planner.example.org", **where)
    assert "client planner-web" in out
    refused = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.identity", "create-client", "bad-web",
        "--redirect-uri", "https://bad.example.org/cb",
        "--web-origin", "https://Bad.example.org/app",
        env={**os.environ, "DATA_DIR": str(tmp_path), "IDENTITY_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await refused.communicate()
    assert refused.returncode == 1 and "not an origin" in err.decode()

    async with open_env(make_settings(database_url, tmp_path, nats_server.url)) as env:
        preflight = await env.http.options("/token", headers={
            "origin": "https://planner.example.org", "access-control-request-method": "POST"})
        assert preflight.status_code == 204
        unregistered = await env.http.options("/token", headers={
            "origin": "https://bad.example.org", "access-control-request-method": "POST"})
        assert unregistered.status_code == 403
        back = await env.http.get("/logout", params={
            "client_id": "planner-web", "post_logout_redirect_uri": "https://planner.example.org/"})
        assert back.status_code == 302
        assert back.headers["location"] == "https://planner.example.org/"
