from __future__ import annotations

import pytest
from joserfc import jws

from common.auth import AuthError, JWKSVerifier
from services.identity.oauth.keys import rotate
from services.identity.service_layer.clients import save_client, standard_clients
from tests.identity.conftest import BASE, ME, Env, tokens_for


def header(token: str) -> dict[str, object]:
    return dict(jws.extract_compact(token.encode()).headers())


def claims(token: str) -> dict[str, object]:
    import json

    return dict(json.loads(jws.extract_compact(token.encode()).payload))


async def test_access_tokens_follow_rfc_9068_and_the_shared_verifier_accepts_them(
    env: Env,
) -> None:
    user_id = await env.active_user("tara")
    tokens = await tokens_for(env, "tara")
    access = tokens["access_token"]
    assert header(access)["typ"] == "at+jwt" and header(access)["alg"] == "RS256"
    body = claims(access)
    assert {"iss", "aud", "sub", "portal", "scope", "client_id", "exp", "iat", "jti"} <= set(body)
    assert body["iss"] == BASE and body["aud"] == "cers-api" and body["sub"] == user_id
    assert body["portal"] == "business" and body["client_id"] == "business-web"
    assert int(body["exp"]) - int(body["iat"]) == 15 * 60  # type: ignore[call-overload]
    assert tokens["expires_in"] == 900 and tokens["refresh_token"] and tokens["id_token"]

    jwks = (await env.http.get("/jwks.json")).json()
    transport_client = env.new_client()
    verifier = JWKSVerifier(f"{BASE}/jwks.json", issuer=BASE, audience="cers-api",
                            client=transport_client)
    try:
        principal = await verifier.verify(access)
        assert principal.user_id == user_id and principal.portal == "business"
        with pytest.raises(AuthError):
            await verifier.verify(tokens["id_token"])
    finally:
        await transport_client.aclose()
    assert jwks["keys"][0]["kid"] == header(access)["kid"]


async def test_an_id_token_is_not_an_access_token(env: Env) -> None:
    await env.active_user("ida")
    tokens = await tokens_for(env, "ida")
    response = await env.http.post("/graphql", json={"query": ME},
                                   headers={"authorization": f"Bearer {tokens['id_token']}"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    userinfo = await env.http.get(
        "/userinfo", headers={"authorization": f"Bearer {tokens['id_token']}"}
    )
    assert userinfo.status_code == 401


async def test_refresh_tokens_rotate_and_reuse_revokes_the_family(env: Env) -> None:
    await env.active_user("rosa")
    first = (await tokens_for(env, "rosa"))["refresh_token"]
    refresh = {"grant_type": "refresh_token", "client_id": "business-web"}
    second = await env.http.post("/token", data={**refresh, "refresh_token": first})
    assert second.status_code == 200
    second_token = second.json()["refresh_token"]
    assert second_token != first

    reused = await env.http.post("/token", data={**refresh, "refresh_token": first})
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    # The thief's reuse also killed the legitimate holder's newer token.
    after = await env.http.post("/token", data={**refresh, "refresh_token": second_token})
    assert after.status_code == 400


async def test_another_client_cannot_use_a_refresh_token(env: Env) -> None:
    await env.active_user("omar")
    refresh_token = (await tokens_for(env, "omar"))["refresh_token"]
    response = await env.http.post("/token", data={
        "grant_type": "refresh_token", "client_id": "regulator-web", "refresh_token": refresh_token
    })
    assert response.status_code == 400


async def test_client_credentials_give_statewide_tokens_only_with_the_secret(env: Env) -> None:
    spec, secret = standard_clients(BASE, demo=True)[-1]
    assert spec.client_id == "state-demo" and secret == "state-demo-secret"
    assert await save_client(env.identity.deps, spec, secret, replace=False)
    good = await env.http.post("/token", data={"grant_type": "client_credentials",
                                               "scope": "statewide:read"},
                               auth=("state-demo", "state-demo-secret"))
    assert good.status_code == 200
    body = claims(good.json()["access_token"])
    assert body["scope"] == "statewide:read" and body["sub"] == "state-demo"
    assert "portal" not in body and "refresh_token" not in good.json()

    bad = await env.http.post("/token", data={"grant_type": "client_credentials"},
                              auth=("state-demo", "wrong"))
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    public = await env.http.post("/token", data={"grant_type": "client_credentials",
                                                 "client_id": "business-web"})
    assert public.status_code in (400, 401)
    unknown = await env.http.post("/token", data={"grant_type": "client_credentials"},
                                  auth=("nobody", "x"))
    assert unknown.json()["error"] == "invalid_client"


async def test_userinfo_answers_for_the_token_owner(env: Env) -> None:
    user_id = await env.active_user("uma")
    access = (await tokens_for(env, "uma"))["access_token"]
    info = await env.http.get("/userinfo", headers={"authorization": f"Bearer {access}"})
    assert info.json() == {
        "sub": user_id, "portal": "business", "preferred_username": "uma",
        "given_name": "Alice", "family_name": "Example", "name": "Alice Example",
        "email": "uma@example.com", "email_verified": True,
    }
    assert (await env.http.get("/userinfo")).status_code == 401


async def test_revoke_and_logout_end_refresh_tokens(env: Env) -> None:
    await env.active_user("val")
    refresh_token = (await tokens_for(env, "val"))["refresh_token"]
    revoked = await env.http.post("/revoke", data={"token": refresh_token,
                                                   "client_id": "business-web"})
    assert revoked.status_code == 200
    used = await env.http.post("/token", data={"grant_type": "refresh_token",
                                               "client_id": "business-web",
                                               "refresh_token": refresh_token})
    assert used.status_code == 400

    from tests.identity.conftest import CALLBACK, code_of, pkce, sign_in

    verifier, challenge = pkce()
    async with env.new_client() as browser:
        code = code_of(await sign_in(browser, "val", "Maple-Harbor-Quartz-71",
                                     challenge=challenge))
        token = await browser.post("/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
            "client_id": "business-web", "code_verifier": verifier})
        logout = await browser.get("/logout", params={
            "client_id": "business-web", "post_logout_redirect_uri": BASE + "/", "state": "s1"})
        assert logout.status_code == 302 and logout.headers["location"] == BASE + "/?state=s1"
        after = await browser.post("/token", data={
            "grant_type": "refresh_token", "client_id": "business-web",
            "refresh_token": token.json()["refresh_token"]})
        assert after.status_code == 400
        # The sign-in session is over: /authorize asks for the user name again.
        again = await browser.get(f"/authorize?{_query(challenge)}")
        assert again.status_code == 200 and 'name="username"' in again.text


def _query(challenge: str) -> str:
    from tests.identity.conftest import authorize_url

    return authorize_url(challenge=challenge).split("?", 1)[1]


async def test_discovery_describes_the_provider(env: Env) -> None:
    config = (await env.http.get("/.well-known/openid-configuration")).json()
    assert config["issuer"] == BASE
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["jwks_uri"] == f"{BASE}/jwks.json"
    assert "statewide:read" in config["scopes_supported"]


async def test_a_rotated_key_keeps_old_tokens_valid_and_signs_new_ones(env: Env) -> None:
    await env.active_user("kai")
    old = (await tokens_for(env, "kai"))["access_token"]
    rotate(env.identity.config.keys)
    keys = (await env.http.get("/jwks.json")).json()["keys"]
    assert len(keys) == 2
    new = (await tokens_for(env, "kai"))["access_token"]
    assert header(new)["kid"] != header(old)["kid"]
    for token in (old, new):
        me = await env.gql(ME, token=token)
        assert me["data"]["me"]["username"] == "kai"
