"""The provider as authlib's OAuth 2.0 / OpenID Connect client sees it, over real HTTP.

Each test is named after the section of the specification it checks. The browser's part (the
hosted sign-in pages) is played by httpx; discovery validation, the token requests and the ID
token checks are authlib's (the same calls its framework integrations make).
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client.errors import OAuthError
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oauth2.rfc9207 import AuthorizationServerMetadata as IssuerMetadata
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.identity.served import (
    APP_CALLBACK,
    APP_SECRET,
    SERVICE_SECRET,
    WEB_CALLBACK,
    WEB_LOGGED_OUT,
    Provider,
    authorize,
    serve,
)

with warnings.catch_warnings():
    # authlib would rather its httpx client ran on httpx2; it works on httpx all the same.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

PEOPLE = "openid profile email offline_access"


@pytest.fixture
async def provider(tmp_path: Path, nats_server: Any) -> AsyncIterator[Provider]:
    # What a relying party sees does not depend on the database; the other identity tests
    # run on PostgreSQL too.
    async with serve(f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}", tmp_path,
                     nats_server.url) as running:
        yield running


@pytest.fixture
async def metadata(provider: Provider) -> dict[str, Any]:
    async with provider.browser() as http:
        found: dict[str, Any] = (await http.get("/.well-known/openid-configuration")).json()
    return found


def web_client(**options: Any) -> AsyncOAuth2Client:
    options = {"client_id": "rp-web", "redirect_uri": WEB_CALLBACK, "scope": PEOPLE,
               "code_challenge_method": "S256", **options}
    return AsyncOAuth2Client(**options)


async def code_flow(
    provider: Provider, metadata: dict[str, Any], client: AsyncOAuth2Client, **extra: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sign in through ``client``; returns the token response and the validated ID token."""
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra)
    async with provider.browser() as browser:
        back = await authorize(browser, url)
    query = parse_qs(urlsplit(back.location).query)
    assert query["iss"] == [metadata["issuer"]] and query["state"] == [state]
    token = await client.fetch_token(metadata["token_endpoint"],
                                     authorization_response=back.location,
                                     code_verifier=verifier, state=state)
    return dict(token), await id_token_claims(provider, metadata, token, nonce, client.client_id)


async def id_token_claims(provider: Provider, metadata: dict[str, Any], token: Any, nonce: str,
                          client_id: str) -> dict[str, Any]:
    """What authlib's OpenID client does in parse_id_token: signature, then the claims."""
    async with provider.browser() as http:
        keys = KeySet.import_key_set((await http.get(metadata["jwks_uri"])).json())
    decoded = jwt.decode(token["id_token"], keys,
                         algorithms=metadata["id_token_signing_alg_values_supported"])
    claims = CodeIDToken(decoded.claims, decoded.header,
                         {"iss": {"values": [metadata["issuer"]]}},
                         {"nonce": nonce, "client_id": client_id,
                          "access_token": token["access_token"]})
    claims.validate(leeway=120)
    return dict(claims)


# --- Discovery -------------------------------------------------------------------------------

async def test_oidc_discovery_3_the_metadata_validates(metadata: dict[str, Any]) -> None:
    OpenIDProviderMetadata(metadata).validate()
    assert metadata["request_uri_parameter_supported"] is False


async def test_rfc8414_3_2_the_oauth_metadata_validates_with_rfc9207(provider: Provider) -> None:
    async with provider.browser() as http:
        response = await http.get("/.well-known/oauth-authorization-server")
    document = response.json()
    AuthorizationServerMetadata(document).validate(metadata_classes=[IssuerMetadata])
    assert document["issuer"] == provider.base
    assert document["authorization_response_iss_parameter_supported"] is True


async def test_oidc_discovery_4_2_discovery_and_jwks_may_be_cached(provider: Provider) -> None:
    async with provider.browser() as http:
        for path in ("/.well-known/openid-configuration",
                     "/.well-known/oauth-authorization-server", "/jwks.json"):
            cache = (await http.get(path)).headers["cache-control"]
            assert "max-age=" in cache and "no-store" not in cache, path
        token = await http.post("/token", data={"grant_type": "refresh_token"})
    assert token.headers["cache-control"] == "no-store"


# --- Authorization code with PKCE ------------------------------------------------------------

async def test_oidc_core_3_1_3_7_authlib_validates_the_id_token(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    async with web_client() as client:
        token, claims = await code_flow(provider, metadata, client)
    assert claims["sub"] == provider.user_id and claims["aud"] == ["rp-web"]
    assert isinstance(claims["auth_time"], int) and claims["at_hash"]
    assert token["refresh_token"] and token["expires_in"] == 900


async def test_rfc6749_4_1_3_a_confidential_client_uses_client_secret_post(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    async with AsyncOAuth2Client(
        "rp-app", APP_SECRET, token_endpoint_auth_method="client_secret_post",
        redirect_uri=APP_CALLBACK, scope=PEOPLE, code_challenge_method="S256",
    ) as client:
        token, claims = await code_flow(provider, metadata, client)
    assert claims["aud"] == ["rp-app"] and token["refresh_token"]


async def test_rfc6749_4_1_2_a_code_whose_redemption_failed_cannot_be_redeemed_again(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    verifier = generate_token(48)
    async with web_client() as client:
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier)
        async with provider.browser() as browser:
            back = await authorize(browser, url)
        with pytest.raises(OAuthError) as wrong:
            await client.fetch_token(metadata["token_endpoint"],
                                     authorization_response=back.location,
                                     code_verifier=generate_token(48), state=state)
        assert wrong.value.error == "invalid_grant"
        with pytest.raises(OAuthError) as again:
            await client.fetch_token(metadata["token_endpoint"],
                                     authorization_response=back.location,
                                     code_verifier=verifier, state=state)
    assert again.value.error == "invalid_grant"


async def test_oidc_core_3_1_2_1_max_age_signs_in_again_and_auth_time_follows(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    async with web_client() as client, provider.browser() as browser:
        provider.clock.advance(hours=-2)
        verifier = generate_token(48)
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier)
        await authorize(browser, url)
        provider.clock.advance(hours=2)
        verifier, nonce = generate_token(48), generate_token(20)
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce,
            max_age="3600")
        back = await authorize(browser, url)
        assert back.signed_in
        token = await client.fetch_token(metadata["token_endpoint"],
                                         authorization_response=back.location,
                                         code_verifier=verifier, state=state)
    claims = CodeIDToken(
        (await id_token_claims(provider, metadata, token, nonce, "rp-web")), {},
        params={"max_age": 3600, "nonce": nonce, "client_id": "rp-web"},
    )
    claims.validate_auth_time()
    now = int(provider.clock().timestamp())
    assert now - 60 <= claims["auth_time"] <= now + 60


# --- Refresh, userinfo, revocation -----------------------------------------------------------

async def test_rfc6749_6_authlib_refreshes_with_rotation(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    async with web_client() as client:
        token, _ = await code_flow(provider, metadata, client)
        renewed = await client.refresh_token(metadata["token_endpoint"],
                                             refresh_token=token["refresh_token"])
        assert renewed["refresh_token"] != token["refresh_token"]
        with pytest.raises(OAuthError) as reused:
            await client.refresh_token(metadata["token_endpoint"],
                                       refresh_token=token["refresh_token"])
    assert reused.value.error == "invalid_grant"


async def test_oidc_core_11_authlib_gets_no_refresh_token_without_offline_access(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    async with web_client(scope="openid profile") as client:
        token, _ = await code_flow(provider, metadata, client)
    assert "refresh_token" not in token and token["scope"] == "openid profile"


async def test_oidc_core_5_3_authlib_reads_userinfo(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    async with web_client() as client:
        await code_flow(provider, metadata, client)
        info = await client.get(metadata["userinfo_endpoint"])
    assert info.status_code == 200 and info.json()["sub"] == provider.user_id
    assert info.headers["cache-control"] == "no-store"


async def test_rfc6750_2_2_userinfo_accepts_the_token_in_a_form_body(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    async with web_client(scope="openid") as client:
        token, _ = await code_flow(provider, metadata, client)
    async with provider.browser() as http:
        info = await http.post("/userinfo", data={"access_token": token["access_token"]})
    assert info.json() == {"sub": provider.user_id, "portal": "business"}


async def test_oidc_core_5_3_3_a_token_without_openid_is_insufficient_scope(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    async with web_client(scope="profile") as client:
        verifier = generate_token(48)
        url, state = client.create_authorization_url(metadata["authorization_endpoint"],
                                                     code_verifier=verifier)
        async with provider.browser() as browser:
            back = await authorize(browser, url)
        token = await client.fetch_token(metadata["token_endpoint"],
                                         authorization_response=back.location,
                                         code_verifier=verifier, state=state)
        info = await client.get(metadata["userinfo_endpoint"])
    assert "id_token" not in token
    assert info.status_code == 403
    assert 'error="insufficient_scope"' in info.headers["www-authenticate"]


async def test_rfc6750_3_1_challenges_without_and_with_a_bad_token(provider: Provider) -> None:
    async with provider.browser() as http:
        bare = await http.get("/userinfo")
        bad = await http.get("/userinfo", headers={"authorization": "Bearer nope"})
    assert bare.status_code == 401 and "error" not in bare.headers["www-authenticate"]
    assert "error" not in bare.json()
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["www-authenticate"]


async def test_rfc7009_2_authlib_revokes_a_refresh_token(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    async with web_client() as client:
        token, _ = await code_flow(provider, metadata, client)
        revoked = await client.revoke_token(metadata["revocation_endpoint"],
                                            token=token["refresh_token"],
                                            token_type_hint="refresh_token")
        assert revoked.status_code == 200
        with pytest.raises(OAuthError):
            await client.refresh_token(metadata["token_endpoint"],
                                       refresh_token=token["refresh_token"])


# --- Client credentials ----------------------------------------------------------------------

async def test_rfc6749_4_4_authlib_fetches_a_client_credentials_token(
    metadata: dict[str, Any]
) -> None:
    async with AsyncOAuth2Client("rp-service", SERVICE_SECRET,
                                 token_endpoint_auth_method="client_secret_basic") as client:
        token = await client.fetch_token(metadata["token_endpoint"],
                                         grant_type="client_credentials",
                                         scope="statewide:read")
    assert token["scope"] == "statewide:read" and "refresh_token" not in token


async def test_rfc6749_5_2_authlib_is_told_invalid_scope(metadata: dict[str, Any]) -> None:
    async with AsyncOAuth2Client("rp-service", SERVICE_SECRET,
                                 token_endpoint_auth_method="client_secret_basic") as client:
        with pytest.raises(OAuthError) as refused:
            await client.fetch_token(metadata["token_endpoint"],
                                     grant_type="client_credentials", scope="openid email")
    assert refused.value.error == "invalid_scope"
    assert "openid email" in (refused.value.description or "")


# --- Logout ----------------------------------------------------------------------------------

async def test_rp_initiated_logout_3_state_returns_encoded_with_the_hint_alone(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    async with web_client() as client:
        token, _ = await code_flow(provider, metadata, client)
    state = "a b&c=d#e"
    async with provider.browser() as browser:
        response = await browser.get(metadata["end_session_endpoint"], params={
            "id_token_hint": token["id_token"], "post_logout_redirect_uri": WEB_LOGGED_OUT,
            "state": state,
        })
    target = urlsplit(response.headers["location"])
    assert parse_qs(target.query)["state"] == [state] and not target.fragment


# --- CORS: a browser app on another origin (Fetch Standard, CORS protocol) ------------------

ORIGIN = "https://rp.example.org"
OTHER = "https://elsewhere.example.net"


async def preflight(http: httpx.AsyncClient, path: str, origin: str, method: str = "POST",
                    headers: str = "content-type") -> httpx.Response:
    return await http.options(path, headers={
        "origin": origin, "access-control-request-method": method,
        "access-control-request-headers": headers,
    })


async def test_cors_preflights_succeed_for_a_registered_web_origin(provider: Provider) -> None:
    async with provider.browser() as http:
        for path, method in (("/token", "POST"), ("/revoke", "POST"), ("/userinfo", "GET")):
            answer = await preflight(http, path, ORIGIN, method, "authorization")
            assert answer.status_code == 204, path
            assert answer.headers["access-control-allow-origin"] == ORIGIN
            assert method in answer.headers["access-control-allow-methods"]
            assert "authorization" in answer.headers["access-control-allow-headers"]
            refused = await preflight(http, path, OTHER, method)
            assert refused.status_code == 403
            assert "access-control-allow-origin" not in refused.headers


async def test_cors_the_token_endpoint_answers_only_the_clients_own_origins(
    provider: Provider, metadata: dict[str, Any]
) -> None:
    verifier = generate_token(48)
    async with web_client() as client:
        url, state = client.create_authorization_url(metadata["authorization_endpoint"],
                                                     code_verifier=verifier)
    async with provider.browser() as browser:
        back = await authorize(browser, url)
        code = parse_qs(urlsplit(back.location).query)["code"][0]
        exchange = {"grant_type": "authorization_code", "code": code, "client_id": "rp-web",
                    "redirect_uri": WEB_CALLBACK, "code_verifier": verifier}
        token = await browser.post("/token", data=exchange, headers={"origin": ORIGIN})
        assert token.status_code == 200
        assert token.headers["access-control-allow-origin"] == ORIGIN
        assert "origin" in token.headers["vary"].lower()
        # Another client's request from that origin is not answered to the browser.
        other = await browser.post("/token", headers={"origin": ORIGIN}, data={
            "grant_type": "refresh_token", "client_id": "business-web",
            "refresh_token": token.json()["refresh_token"]})
        assert "access-control-allow-origin" not in other.headers
        stranger = await browser.post("/token", headers={"origin": OTHER}, data={
            "grant_type": "refresh_token", "client_id": "rp-web",
            "refresh_token": token.json()["refresh_token"]})
        assert "access-control-allow-origin" not in stranger.headers
        access = token.json()["access_token"]
        info = await browser.get("/userinfo", headers={"origin": ORIGIN,
                                                       "authorization": f"Bearer {access}"})
        assert info.status_code == 200 and info.headers["access-control-allow-origin"] == ORIGIN
        revoke = await browser.post("/revoke", headers={"origin": ORIGIN}, data={
            "token": token.json()["refresh_token"], "client_id": "rp-web"})
        assert revoke.headers["access-control-allow-origin"] == ORIGIN


async def test_cors_our_own_portal_clients_register_no_web_origins(provider: Provider) -> None:
    async with provider.browser() as http:
        answer = await http.post("/token", headers={"origin": ORIGIN}, data={
            "grant_type": "refresh_token", "client_id": "business-web", "refresh_token": "x"})
    assert "access-control-allow-origin" not in answer.headers


async def test_cors_discovery_and_jwks_are_open_to_any_origin(provider: Provider) -> None:
    async with provider.browser() as http:
        for path in ("/.well-known/openid-configuration",
                     "/.well-known/oauth-authorization-server", "/jwks.json"):
            answer = await http.get(path, headers={"origin": OTHER})
            assert answer.headers["access-control-allow-origin"] == "*", path
            flight = await preflight(http, path, OTHER, "GET", "x-requested-with")
            assert flight.status_code == 204
            assert flight.headers["access-control-allow-origin"] == "*"
