"""The provider as openid-client (an OpenID-certified relying party library) sees it.

Each test drives the real provider over HTTP with openid-client running under Node, and is
named after the section of the specification it checks. The browser's part (the hosted
sign-in pages) is played by httpx; everything a client app does is openid-client's.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.identity.rp_node import RelyingParty, RpError, node_available
from tests.identity.served import (
    APP_CALLBACK,
    APP_SECRET,
    NATIVE_CALLBACK,
    SERVICE_SECRET,
    WEB_CALLBACK,
    WEB_LOGGED_OUT,
    Provider,
    authorize,
    serve,
)

pytestmark = [
    pytest.mark.needs_node,
    pytest.mark.skipif(not node_available(), reason="needs Node.js and npm"),
]

PEOPLE = "openid profile email offline_access"


@pytest.fixture
async def provider(tmp_path: Path, nats_server: Any) -> AsyncIterator[Provider]:
    # What a relying party sees does not depend on the database; the other identity tests
    # run on PostgreSQL too.
    async with serve(f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}", tmp_path,
                     nats_server.url) as running:
        yield running


@pytest.fixture
async def rp(provider: Provider) -> AsyncIterator[RelyingParty]:
    relying_party = await RelyingParty.start()
    await relying_party.call("discover", name="web", issuer=provider.base, clientId="rp-web")
    await relying_party.call("discover", name="app", issuer=provider.base, clientId="rp-app",
                             secret=APP_SECRET, auth="basic")
    await relying_party.call("discover", name="native", issuer=provider.base,
                             clientId="rp-native")
    await relying_party.call("discover", name="service", issuer=provider.base,
                             clientId="rp-service", secret=SERVICE_SECRET, auth="basic")
    yield relying_party
    await relying_party.stop()


async def start(rp: RelyingParty, name: str = "web", redirect_uri: str = WEB_CALLBACK,
                scope: str = PEOPLE, **extra: str) -> tuple[str, dict[str, Any]]:
    """An authorization URL with PKCE, state and nonce; returns it and the checks to use."""
    pkce = await rp.call("pkce")
    params = {"redirect_uri": redirect_uri, "scope": scope, "code_challenge": pkce["challenge"],
              "code_challenge_method": "S256", "state": "st-" + pkce["verifier"][:8],
              "nonce": "n-" + pkce["verifier"][8:16], **extra}
    url = await rp.call("authorizationUrl", name=name, params=params)
    checks = {"pkceCodeVerifier": pkce["verifier"], "expectedState": params["state"],
              "expectedNonce": params["nonce"]}
    return url, checks


async def sign_in_with(rp: RelyingParty, provider: Provider, name: str = "web",
                       redirect_uri: str = WEB_CALLBACK, scope: str = PEOPLE,
                       **extra: str) -> dict[str, Any]:
    url, checks = await start(rp, name, redirect_uri, scope, **extra)
    async with provider.browser() as browser:
        back = await authorize(browser, url)
    result: dict[str, Any] = await rp.call("codeGrant", name=name, currentUrl=back.location,
                                           checks=checks)
    return result


def claims_of(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    padded = payload + "=" * (-len(payload) % 4)
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return claims


# --- Discovery -------------------------------------------------------------------------------

async def test_oidc_discovery_4_issuer_and_endpoints_are_discovered(
    provider: Provider, rp: RelyingParty
) -> None:
    metadata = await rp.call("discover", name="d", issuer=provider.base, clientId="rp-web")
    assert metadata["issuer"] == provider.base
    assert metadata["token_endpoint"] == f"{provider.base}/token"
    assert metadata["end_session_endpoint"] == f"{provider.base}/logout"
    assert metadata["code_challenge_methods_supported"] == ["S256"]


async def test_oidc_discovery_3_request_uri_parameter_supported_is_stated_false(
    provider: Provider, rp: RelyingParty
) -> None:
    metadata = await rp.call("discover", name="d", issuer=provider.base, clientId="rp-web")
    assert metadata["request_uri_parameter_supported"] is False
    assert metadata["request_parameter_supported"] is False
    assert metadata["response_modes_supported"] == ["query"]


async def test_rfc8414_3_authorization_server_metadata_is_discovered(
    provider: Provider, rp: RelyingParty
) -> None:
    metadata = await rp.call("discover", name="d", issuer=provider.base, clientId="rp-web",
                             algorithm="oauth2")
    assert metadata["issuer"] == provider.base
    assert metadata["revocation_endpoint"] == f"{provider.base}/revoke"


async def test_rfc9207_2_iss_is_advertised_and_sent_with_every_authorization_response(
    provider: Provider, rp: RelyingParty
) -> None:
    metadata = await rp.call("discover", name="d", issuer=provider.base, clientId="rp-web")
    assert metadata["authorization_response_iss_parameter_supported"] is True
    url, checks = await start(rp)
    async with provider.browser() as browser:
        back = await authorize(browser, url)
        refused = await browser.get(url.replace("code_challenge_method=S256",
                                                "code_challenge_method=plain"))
    assert parse_qs(urlsplit(back.location).query)["iss"] == [provider.base]
    error = parse_qs(urlsplit(refused.headers["location"]).query)
    assert error["error"] == ["invalid_request"] and error["iss"] == [provider.base]
    # openid-client checks the iss it was promised.
    await rp.call("codeGrant", name="web", currentUrl=back.location, checks=checks)


async def test_rfc9207_2_a_response_claiming_another_issuer_is_refused_by_the_client(
    provider: Provider, rp: RelyingParty
) -> None:
    url, checks = await start(rp)
    async with provider.browser() as browser:
        back = await authorize(browser, url)
    forged = back.location.replace("iss=http", "iss=https")
    with pytest.raises(RpError):
        await rp.call("codeGrant", name="web", currentUrl=forged, checks=checks)


# --- Authorization code with PKCE (OIDC Core §3.1) --------------------------------------------

async def test_oidc_core_3_1_3_7_code_with_pkce_gives_an_id_token_the_client_validates(
    provider: Provider, rp: RelyingParty
) -> None:
    tokens = await sign_in_with(rp, provider)
    claims = tokens["claims"]
    assert claims["iss"] == provider.base and claims["aud"] == ["rp-web"]
    assert claims["sub"] == provider.user_id
    assert claims["nonce"].startswith("n-") and claims["at_hash"]
    assert tokens["token_type"].lower() == "bearer" and tokens["expires_in"] == 900


async def test_rfc9068_2_access_tokens_are_jwts_for_the_api_audience(
    provider: Provider, rp: RelyingParty
) -> None:
    tokens = await sign_in_with(rp, provider)
    header = json.loads(base64.urlsafe_b64decode(tokens["access_token"].split(".")[0] + "=="))
    assert header["typ"] == "at+jwt"
    access = claims_of(tokens["access_token"])
    assert access["aud"] == "cers-api" and access["client_id"] == "rp-web"
    assert access["sub"] == provider.user_id and access["portal"] == "business"


async def test_rfc7636_4_4_1_a_wrong_code_verifier_is_refused(
    provider: Provider, rp: RelyingParty
) -> None:
    url, checks = await start(rp)
    async with provider.browser() as browser:
        back = await authorize(browser, url)
    with pytest.raises(RpError) as refused:
        await rp.call("codeGrant", name="web", currentUrl=back.location,
                      checks={**checks, "pkceCodeVerifier": "x" * 43})
    assert refused.value.error == "invalid_grant"


async def test_rfc7636_4_3_plain_and_missing_challenges_are_refused(
    provider: Provider, rp: RelyingParty
) -> None:
    url, _ = await start(rp)
    query = parse_qs(urlsplit(url).query)
    async with provider.browser() as browser:
        for drop in ("code_challenge", "code_challenge_method"):
            kept = {k: v[0] for k, v in query.items() if k != drop}
            response = await browser.get("/authorize", params=kept)
            error = parse_qs(urlsplit(response.headers["location"]).query)
            assert error["error"] == ["invalid_request"], drop


async def test_rfc6749_4_1_2_state_comes_back_and_a_wrong_one_is_caught(
    provider: Provider, rp: RelyingParty
) -> None:
    url, checks = await start(rp)
    async with provider.browser() as browser:
        back = await authorize(browser, url)
    with pytest.raises(RpError):
        await rp.call("codeGrant", name="web", currentUrl=back.location,
                      checks={**checks, "expectedState": "another"})


async def test_oidc_core_3_1_3_7_a_nonce_mismatch_is_caught_by_the_client(
    provider: Provider, rp: RelyingParty
) -> None:
    url, checks = await start(rp)
    async with provider.browser() as browser:
        back = await authorize(browser, url)
    with pytest.raises(RpError):
        await rp.call("codeGrant", name="web", currentUrl=back.location,
                      checks={**checks, "expectedNonce": "another"})


async def test_rfc6749_4_1_2_a_code_is_spent_by_its_first_redemption(
    provider: Provider, rp: RelyingParty
) -> None:
    url, checks = await start(rp)
    async with provider.browser() as browser:
        back = await authorize(browser, url)
    first = await rp.call("codeGrant", name="web", currentUrl=back.location, checks=checks)
    with pytest.raises(RpError) as again:
        await rp.call("codeGrant", name="web", currentUrl=back.location, checks=checks)
    assert again.value.error == "invalid_grant"
    # RFC 6749 §4.1.2: what the code bought is revoked when it comes back.
    with pytest.raises(RpError) as revoked:
        await rp.call("refresh", name="web", refreshToken=first["refresh_token"])
    assert revoked.value.error == "invalid_grant"


async def test_rfc6749_4_1_2_a_code_whose_redemption_failed_cannot_be_redeemed_again(
    provider: Provider, rp: RelyingParty
) -> None:
    url, checks = await start(rp)
    async with provider.browser() as browser:
        back = await authorize(browser, url)
    with pytest.raises(RpError):
        await rp.call("codeGrant", name="web", currentUrl=back.location,
                      checks={**checks, "pkceCodeVerifier": "y" * 43})
    with pytest.raises(RpError) as retried:
        await rp.call("codeGrant", name="web", currentUrl=back.location, checks=checks)
    assert retried.value.error == "invalid_grant"


async def test_rfc6749_4_1_3_a_confidential_client_authenticates_with_client_secret_basic(
    provider: Provider, rp: RelyingParty
) -> None:
    tokens = await sign_in_with(rp, provider, name="app", redirect_uri=APP_CALLBACK)
    assert tokens["claims"]["aud"] == ["rp-app"] and tokens["refresh_token"]


async def test_rfc8252_7_3_a_native_app_may_use_any_loopback_port(
    provider: Provider, rp: RelyingParty
) -> None:
    redirect = NATIVE_CALLBACK.replace("127.0.0.1", "127.0.0.1:53177")
    tokens = await sign_in_with(rp, provider, name="native", redirect_uri=redirect,
                                scope="openid profile offline_access", portal="business")
    assert tokens["claims"]["aud"] == ["rp-native"]


async def test_rfc8252_7_1_a_native_app_may_use_its_private_use_scheme(
    provider: Provider, rp: RelyingParty
) -> None:
    tokens = await sign_in_with(rp, provider, name="native",
                                redirect_uri="org.example.rp:/callback",
                                scope="openid profile", portal="business")
    assert tokens["claims"]["sub"] == provider.user_id


async def test_rfc6749_3_1_2_4_an_unregistered_redirect_uri_is_never_redirected_to(
    provider: Provider, rp: RelyingParty
) -> None:
    url, _ = await start(rp, redirect_uri="https://evil.example.net/cb")
    async with provider.browser() as browser:
        response = await browser.get(url)
    assert response.status_code == 400 and "location" not in response.headers


async def test_rfc6749_4_1_2_1_an_unsupported_response_type_is_an_error_redirect(
    provider: Provider, rp: RelyingParty
) -> None:
    url, _ = await start(rp, response_type="token")
    async with provider.browser() as browser:
        response = await browser.get(url)
    error = parse_qs(urlsplit(response.headers["location"]).query)
    assert error["error"] == ["unsupported_response_type"]


@pytest.mark.parametrize("mode", ["fragment", "form_post", "jwt"])
async def test_oauth_response_modes_2_an_unadvertised_response_mode_is_refused(
    provider: Provider, rp: RelyingParty, mode: str
) -> None:
    url, _ = await start(rp, response_mode=mode)
    async with provider.browser() as browser:
        response = await browser.get(url)
        # Refused before any sign-in: no code is ever issued for it.
        signed_in = await authorize(browser, (await start(rp))[0])
        again = await browser.get(url)
    for answer in (response, again):
        assert answer.status_code == 302
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        assert query["error"] == ["invalid_request"] and "code" not in query
        assert "#" not in answer.headers["location"]
    assert signed_in.signed_in


async def test_oidc_core_6_request_uri_is_answered_request_uri_not_supported(
    provider: Provider, rp: RelyingParty
) -> None:
    # openid-client sends only client_id and request_uri (as for PAR); a client that also
    # sends the plain parameters is told the request_uri was not used.
    url, _ = await start(rp)
    async with provider.browser() as browser:
        for name, error in (("request_uri", "request_uri_not_supported"),
                            ("request", "request_not_supported")):
            response = await browser.get(f"{url}&{name}=https%3A%2F%2Frp.example.org%2Fr")
            query = parse_qs(urlsplit(response.headers["location"]).query)
            assert query["error"] == [error] and "code" not in query


# --- Sessions: prompt and max_age (OIDC Core §3.1.2.1) ---------------------------------------

async def test_oidc_core_3_1_2_1_prompt_none_uses_the_session_silently(
    provider: Provider, rp: RelyingParty
) -> None:
    async with provider.browser() as browser:
        url, checks = await start(rp)
        first = await authorize(browser, url)
        await rp.call("codeGrant", name="web", currentUrl=first.location, checks=checks)
        url, checks = await start(rp, prompt="none")
        silent = await authorize(browser, url, username=None)
    assert not silent.signed_in
    tokens = await rp.call("codeGrant", name="web", currentUrl=silent.location, checks=checks)
    assert tokens["claims"]["sub"] == provider.user_id


async def test_oidc_core_3_1_2_6_prompt_none_without_a_session_is_login_required(
    provider: Provider, rp: RelyingParty
) -> None:
    url, checks = await start(rp, prompt="none")
    async with provider.browser() as browser:
        back = await authorize(browser, url, username=None)
    with pytest.raises(RpError) as refused:
        await rp.call("codeGrant", name="web", currentUrl=back.location, checks=checks)
    assert refused.value.error == "login_required"


async def test_oidc_core_3_1_2_1_prompt_login_asks_again_even_with_a_session(
    provider: Provider, rp: RelyingParty
) -> None:
    async with provider.browser() as browser:
        await authorize(browser, (await start(rp))[0])
        again = await authorize(browser, (await start(rp, prompt="login"))[0])
    assert again.signed_in


async def test_oidc_core_3_1_2_1_max_age_makes_an_older_session_sign_in_again(
    provider: Provider, rp: RelyingParty
) -> None:
    async with provider.browser() as browser:
        provider.clock.advance(minutes=-10)  # the session starts ten minutes ago
        url, checks = await start(rp)
        first = await authorize(browser, url)
        provider.clock.advance(minutes=10)
        old = (await rp.call("codeGrant", name="web", currentUrl=first.location,
                             checks=checks))["claims"]["auth_time"]

        # Younger than max_age: silent, and auth_time is still when the user signed in.
        url, checks = await start(rp, max_age="3600")
        kept = await authorize(browser, url, username=None)
        assert not kept.signed_in
        tokens = await rp.call("codeGrant", name="web", currentUrl=kept.location,
                               checks={**checks, "maxAge": 3600})
        assert tokens["claims"]["auth_time"] == old

        # Older than max_age: the user signs in again and auth_time moves with it.
        url, checks = await start(rp, max_age="300")
        renewed = await authorize(browser, url)
        assert renewed.signed_in
        tokens = await rp.call("codeGrant", name="web", currentUrl=renewed.location,
                               checks={**checks, "maxAge": 300})
        assert tokens["claims"]["auth_time"] >= old + 590


async def test_oidc_core_3_1_2_1_max_age_with_prompt_none_is_login_required(
    provider: Provider, rp: RelyingParty
) -> None:
    async with provider.browser() as browser:
        provider.clock.advance(minutes=-10)
        await authorize(browser, (await start(rp))[0])
        provider.clock.advance(minutes=10)
        url, checks = await start(rp, max_age="60", prompt="none")
        back = await authorize(browser, url, username=None)
    with pytest.raises(RpError) as refused:
        await rp.call("codeGrant", name="web", currentUrl=back.location,
                      checks={**checks, "maxAge": 60})
    assert refused.value.error == "login_required"


async def test_oidc_core_3_1_2_2_a_malformed_max_age_is_invalid_request(
    provider: Provider, rp: RelyingParty
) -> None:
    url, _ = await start(rp, max_age="soon")
    async with provider.browser() as browser:
        response = await browser.get(url)
    assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["invalid_request"]


# --- Refresh tokens (RFC 6749 §6, OIDC Core §11) ---------------------------------------------

async def test_rfc6749_6_refresh_tokens_rotate(provider: Provider, rp: RelyingParty) -> None:
    tokens = await sign_in_with(rp, provider)
    renewed = await rp.call("refresh", name="web", refreshToken=tokens["refresh_token"])
    assert renewed["access_token"] != tokens["access_token"]
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert claims_of(renewed["access_token"])["sub"] == provider.user_id


async def test_rfc9700_4_14_2_reusing_a_rotated_refresh_token_revokes_the_family(
    provider: Provider, rp: RelyingParty
) -> None:
    tokens = await sign_in_with(rp, provider)
    renewed = await rp.call("refresh", name="web", refreshToken=tokens["refresh_token"])
    with pytest.raises(RpError):
        await rp.call("refresh", name="web", refreshToken=tokens["refresh_token"])
    with pytest.raises(RpError) as dead:
        await rp.call("refresh", name="web", refreshToken=renewed["refresh_token"])
    assert dead.value.error == "invalid_grant"


async def test_oidc_core_11_no_refresh_token_without_offline_access(
    provider: Provider, rp: RelyingParty
) -> None:
    tokens = await sign_in_with(rp, provider, scope="openid profile email")
    assert "refresh_token" not in tokens and tokens["access_token"]
    assert "offline_access" not in tokens["scope"].split()


async def test_oidc_core_11_offline_access_gives_a_refresh_token(
    provider: Provider, rp: RelyingParty
) -> None:
    tokens = await sign_in_with(rp, provider, scope="openid offline_access")
    assert tokens["refresh_token"] and "offline_access" in tokens["scope"].split()


# --- UserInfo (OIDC Core §5.3, RFC 6750) -----------------------------------------------------

async def test_oidc_core_5_3_userinfo_answers_for_the_subject(
    provider: Provider, rp: RelyingParty
) -> None:
    tokens = await sign_in_with(rp, provider)
    info = await rp.call("userinfo", name="web", accessToken=tokens["access_token"],
                         subject=provider.user_id)
    assert info["sub"] == provider.user_id and info["preferred_username"] == "riley.rp"
    assert info["email"] == "riley@example.com" and info["email_verified"] is True


async def test_oidc_core_5_3_2_the_client_catches_a_userinfo_subject_mismatch(
    provider: Provider, rp: RelyingParty
) -> None:
    tokens = await sign_in_with(rp, provider)
    with pytest.raises(RpError):
        await rp.call("userinfo", name="web", accessToken=tokens["access_token"],
                      subject="someone-else")


async def test_rfc6750_3_1_an_invalid_token_gets_an_invalid_token_challenge(
    provider: Provider, rp: RelyingParty
) -> None:
    with pytest.raises(RpError) as refused:
        await rp.call("userinfo", name="web", accessToken="not-a-token",
                      subject=provider.user_id)
    assert "invalid_token" in json.dumps(refused.value.details)


async def test_rfc6750_3_1_a_request_without_credentials_gets_no_error_code(
    provider: Provider,
) -> None:
    async with provider.browser() as browser:
        response = await browser.get("/userinfo")
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer") and "error=" not in challenge


# --- Revocation (RFC 7009) -------------------------------------------------------------------

async def test_rfc7009_2_1_a_revoked_refresh_token_no_longer_works(
    provider: Provider, rp: RelyingParty
) -> None:
    tokens = await sign_in_with(rp, provider)
    await rp.call("revoke", name="web", token=tokens["refresh_token"], hint="refresh_token")
    with pytest.raises(RpError) as dead:
        await rp.call("refresh", name="web", refreshToken=tokens["refresh_token"])
    assert dead.value.error == "invalid_grant"


async def test_rfc7009_2_2_revoking_an_unknown_token_succeeds(
    provider: Provider, rp: RelyingParty
) -> None:
    await rp.call("revoke", name="web", token="never-issued")


# --- Client credentials (RFC 6749 §4.4) ------------------------------------------------------

async def test_rfc6749_4_4_client_credentials_give_a_statewide_token_without_refresh(
    provider: Provider, rp: RelyingParty
) -> None:
    tokens = await rp.call("clientCredentials", name="service",
                           params={"scope": "statewide:read"})
    assert tokens["scope"] == "statewide:read" and "refresh_token" not in tokens
    access = claims_of(tokens["access_token"])
    assert access["sub"] == "rp-service" and "portal" not in access


async def test_rfc6749_2_3_1_client_secret_post_works_as_well(
    provider: Provider, rp: RelyingParty
) -> None:
    await rp.call("discover", name="post", issuer=provider.base, clientId="rp-service",
                  secret=SERVICE_SECRET, auth="post")
    tokens = await rp.call("clientCredentials", name="post", params={})
    assert tokens["scope"] == "statewide:read"


async def test_rfc6749_5_2_a_scope_the_client_lacks_is_invalid_scope(
    provider: Provider, rp: RelyingParty
) -> None:
    for scope in ("openid", "statewide:read profile", "made-up"):
        with pytest.raises(RpError) as refused:
            await rp.call("clientCredentials", name="service", params={"scope": scope})
        assert refused.value.error == "invalid_scope", scope


async def test_rfc6749_5_2_a_wrong_secret_is_invalid_client(
    provider: Provider, rp: RelyingParty
) -> None:
    await rp.call("discover", name="wrong", issuer=provider.base, clientId="rp-service",
                  secret="wrong", auth="basic")
    with pytest.raises(RpError) as refused:
        await rp.call("clientCredentials", name="wrong", params={})
    assert refused.value.error == "invalid_client" and refused.value.status == 401


# --- RP-Initiated Logout 1.0 -----------------------------------------------------------------

async def test_rp_initiated_logout_2_returns_to_the_registered_uri_with_state(
    provider: Provider, rp: RelyingParty
) -> None:
    async with provider.browser() as browser:
        url, checks = await start(rp)
        back = await authorize(browser, url)
        tokens = await rp.call("codeGrant", name="web", currentUrl=back.location, checks=checks)
        logout = await rp.call("endSessionUrl", name="web", params={
            "post_logout_redirect_uri": WEB_LOGGED_OUT, "state": "bye-1",
            "id_token_hint": tokens["id_token"],
        })
        response = await browser.get(logout)
        assert response.status_code == 302
        target = urlsplit(response.headers["location"])
        assert f"{target.scheme}://{target.netloc}{target.path}" == WEB_LOGGED_OUT.split("?")[0]
        assert parse_qs(target.query) == {"from": ["cers"], "state": ["bye-1"]}
        # The session is over and so are its refresh tokens.
        again = await browser.get((await start(rp, prompt="none"))[0])
        assert parse_qs(urlsplit(again.headers["location"]).query)["error"] == ["login_required"]
    with pytest.raises(RpError):
        await rp.call("refresh", name="web", refreshToken=tokens["refresh_token"])


async def test_rp_initiated_logout_3_state_is_url_encoded(
    provider: Provider, rp: RelyingParty
) -> None:
    crafted = "x&next=https://evil.example.net/#frag"
    logout = await rp.call("endSessionUrl", name="web", params={
        "client_id": "rp-web", "post_logout_redirect_uri": WEB_LOGGED_OUT, "state": crafted,
    })
    async with provider.browser() as browser:
        response = await browser.get(logout)
    target = urlsplit(response.headers["location"])
    assert target.netloc == "rp.example.org" and target.fragment == ""
    assert parse_qs(target.query) == {"from": ["cers"], "state": [crafted]}


async def test_rp_initiated_logout_2_id_token_hint_alone_names_the_client(
    provider: Provider, rp: RelyingParty
) -> None:
    tokens = await sign_in_with(rp, provider)
    async with provider.browser() as browser:
        response = await browser.get("/logout", params={
            "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": WEB_LOGGED_OUT,
        })
    assert response.status_code == 302
    assert response.headers["location"].startswith(WEB_LOGGED_OUT)


async def test_rp_initiated_logout_2_a_hint_for_another_client_is_not_followed(
    provider: Provider, rp: RelyingParty
) -> None:
    tokens = await sign_in_with(rp, provider)
    async with provider.browser() as browser:
        mismatch = await browser.get("/logout", params={
            "id_token_hint": tokens["id_token"], "client_id": "rp-app",
            "post_logout_redirect_uri": APP_CALLBACK,
        })
        forged = await browser.get("/logout", params={
            "id_token_hint": tokens["id_token"][:-4] + "AAAA",
            "post_logout_redirect_uri": WEB_LOGGED_OUT,
        })
    assert mismatch.status_code == 200 and "signed out" in mismatch.text
    assert forged.status_code == 200 and "location" not in forged.headers


async def test_rp_initiated_logout_2_an_unregistered_post_logout_uri_is_not_followed(
    provider: Provider, rp: RelyingParty
) -> None:
    async with provider.browser() as browser:
        response = await browser.get("/logout", params={
            "client_id": "rp-web", "post_logout_redirect_uri": "https://evil.example.net/",
        })
        # A redirect URI is not a post-logout URI when post-logout URIs are registered.
        callback = await browser.get("/logout", params={
            "client_id": "rp-web", "post_logout_redirect_uri": WEB_CALLBACK,
        })
    assert response.status_code == 200 and callback.status_code == 200
