from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.identity.conftest import (
    CALLBACK,
    STRONG,
    Env,
    authorize_url,
    code_of,
    hidden,
    make_settings,
    open_env,
    pkce,
    sign_in,
)


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrf" value="[^"]*"', "", html)


async def test_unknown_user_and_wrong_password_get_identical_answers(env: Env) -> None:
    await env.active_user("alice")
    challenge = pkce()[1]
    async with env.new_client() as one, env.new_client() as two:
        unknown_step = await _username_step(one, "nobody-here", challenge)
        known_step = await _username_step(two, "alice", challenge)
        assert without_csrf(unknown_step.text).replace("nobody-here", "X") == without_csrf(
            known_step.text
        ).replace("alice", "X")
    async with env.new_client() as one, env.new_client() as two:
        unknown = await sign_in(one, "nobody-here", "Wrong-Password-123", challenge=challenge)
        wrong = await sign_in(two, "alice", "Wrong-Password-123", challenge=challenge)
    assert unknown.status_code == wrong.status_code == 401
    assert without_csrf(unknown.text).replace("nobody-here", "X") == without_csrf(
        wrong.text
    ).replace("alice", "X")
    assert "The user name or password is not right." in wrong.text


async def _username_step(
    http: httpx.AsyncClient, username: str, challenge: str
) -> httpx.Response:
    page = await http.get(authorize_url(challenge=challenge))
    return await http.post("/account/signin/username", data={
        "csrf": hidden(page.text, "csrf"), "q": hidden(page.text, "q"), "username": username,
    })


async def test_pages_are_green_for_business_and_blue_for_regulators(env: Env) -> None:
    business = await env.http.get(authorize_url("business-web"))
    regulator = await env.http.get(authorize_url("regulator-web"))
    mobile = await env.http.get(authorize_url(
        "mobile", "http://127.0.0.1:53121/callback", portal="regulator"
    ))
    assert "portal-business" in business.text and "#1b6e3a" in business.text
    assert "portal-regulator" in regulator.text and "#1f4e99" in regulator.text
    assert "portal-regulator" in mobile.text
    assert '<label for="username">User name</label>' in business.text
    assert "<script" not in business.text
    assert 'href="/account/forgot?portal=business"' in business.text


async def test_a_locked_account_says_so_only_after_the_right_password(env: Env) -> None:
    await env.active_user("lena")
    for _ in range(5):
        async with env.new_client() as browser:
            assert (await sign_in(browser, "lena", "Not-Her-Password-1")).status_code == 401
    async with env.new_client() as browser:
        wrong = await sign_in(browser, "lena", "Not-Her-Password-1")
    assert wrong.status_code == 401 and "locked" not in wrong.text
    async with env.new_client() as browser:
        right = await sign_in(browser, "lena", STRONG)
    assert right.status_code == 403 and "Your account is locked" in right.text
    env.clock.advance(minutes=15, seconds=1)
    async with env.new_client() as browser:
        assert code_of(await sign_in(browser, "lena", STRONG))


async def test_an_unactivated_account_says_so_only_after_the_right_password(env: Env) -> None:
    await env.register("newbie")
    async with env.new_client() as browser:
        wrong = await sign_in(browser, "newbie", "Wrong-Password-123")
    assert wrong.status_code == 401 and "activat" not in wrong.text
    async with env.new_client() as browser:
        right = await sign_in(browser, "newbie", STRONG)
    assert right.status_code == 403 and "not activated" in right.text
    assert "/account/resend-activation" in right.text


async def test_an_account_cannot_sign_in_on_the_other_portal(env: Env) -> None:
    await env.active_user("reggie", portal="REGULATOR")
    async with env.new_client() as browser:
        refused = await sign_in(browser, "reggie", STRONG, client_id="business-web")
    assert refused.status_code == 403 and "Regulator Portal" in refused.text
    async with env.new_client() as browser:
        assert code_of(await sign_in(browser, "reggie", STRONG, client_id="regulator-web"))


async def test_a_form_without_the_csrf_cookie_is_refused(env: Env) -> None:
    page = await env.http.get(authorize_url())
    async with env.new_client() as attacker:
        forged = await attacker.post("/account/signin/username", data={
            "csrf": hidden(page.text, "csrf"), "q": hidden(page.text, "q"), "username": "x",
        })
    assert forged.status_code == 403


async def test_unknown_clients_and_unregistered_redirects_are_never_redirected_to(
    env: Env,
) -> None:
    unknown = await env.http.get(authorize_url("no-such-client"))
    assert unknown.status_code == 400 and "location" not in unknown.headers
    evil = await env.http.get(authorize_url(redirect_uri="https://evil.example/cb"))
    assert evil.status_code == 400 and "location" not in evil.headers
    near = await env.http.get(authorize_url(redirect_uri=CALLBACK + "/x"))
    assert near.status_code == 400
    mobile_other_host = await env.http.get(
        authorize_url("mobile", "http://localhost.evil:8080/callback", portal="business")
    )
    assert mobile_other_host.status_code == 400
    mobile_scheme = await env.http.get(
        authorize_url("mobile", "gov.example.cers:/callback", portal="business")
    )
    assert mobile_scheme.status_code == 200


async def test_pkce_is_required_and_only_s256(env: Env) -> None:
    plain = await env.http.get(authorize_url(code_challenge_method="plain"))
    assert plain.status_code == 302
    assert "error=invalid_request" in plain.headers["location"]


async def test_a_wrong_pkce_verifier_or_redirect_uri_gets_no_token(env: Env) -> None:
    await env.active_user("pia")
    verifier, challenge = pkce()
    for change, expected in [
        ({"code_verifier": pkce()[0]}, "invalid_grant"),
        ({"redirect_uri": "http://127.0.0.1:8000/other"}, "invalid_grant"),
    ]:
        async with env.new_client() as browser:
            code = code_of(await sign_in(browser, "pia", STRONG, challenge=challenge))
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                "client_id": "business-web", "code_verifier": verifier, **change}
        response = await env.http.post("/token", data=data)
        assert response.status_code == 400 and response.json()["error"] == expected
    async with env.new_client() as browser:
        code = code_of(await sign_in(browser, "pia", STRONG, challenge=challenge))
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
            "client_id": "business-web", "code_verifier": verifier}
    first = await env.http.post("/token", data=data)
    assert first.status_code == 200
    assert (await env.http.post("/token", data=data)).json()["error"] == "invalid_grant"
    # A replayed code also revokes the refresh token it bought.
    refresh = await env.http.post("/token", data={
        "grant_type": "refresh_token", "client_id": "business-web",
        "refresh_token": first.json()["refresh_token"]})
    assert refresh.status_code == 400


async def test_too_many_attempts_from_one_address_are_throttled(
    database_url: str, tmp_path: Path, nats_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDENTITY_ADDRESS_ATTEMPTS_PER_MINUTE", "2")
    async with open_env(make_settings(database_url, tmp_path, nats_server.url)) as env:
        statuses = []
        for _ in range(3):
            async with env.new_client() as browser:
                response = await sign_in(browser, "someone", "Wrong-Password-123")
                statuses.append(response.status_code)
        assert statuses == [401, 401, 429]
        async with env.new_client() as browser:
            # Even the right password waits: the throttle acts before any account is checked.
            response = await sign_in(browser, "someone", STRONG)
            assert response.status_code == 429


async def test_a_signed_in_browser_gets_a_code_without_the_pages_again(env: Env) -> None:
    await env.active_user("sso.sam")
    async with env.new_client() as browser:
        assert code_of(await sign_in(browser, "sso.sam", STRONG))
        again = await browser.get(authorize_url())
        assert code_of(again)
        forced = await browser.get(authorize_url(prompt="login"))
        assert forced.status_code == 200 and 'name="username"' in forced.text
        other_portal = await browser.get(authorize_url("regulator-web"))
        assert other_portal.status_code == 200 and "portal-regulator" in other_portal.text
    async with env.new_client() as stranger:
        silent = await stranger.get(authorize_url(prompt="none"))
        assert silent.status_code == 302 and "error=login_required" in silent.headers["location"]
