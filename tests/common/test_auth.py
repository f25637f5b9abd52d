from __future__ import annotations

import asyncio
import base64
import dataclasses
import functools
import hashlib
import hmac
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from common.auth import AuthError, JWKSVerifier, KeysUnavailableError, Principal, bearer_token
from common.settings import load_settings

ISSUER = "http://127.0.0.1:8000"
AUDIENCE = "cers-api"

SigningKey = RSAKey | ECKey


@functools.cache
def _base_keys() -> tuple[RSAKey, ECKey]:
    # RSA key generation is slow; one pair serves every test.
    return RSAKey.generate_key(2048, {"kid": "rsa-1"}), ECKey.generate_key("P-256", {"kid": "ec-1"})


class FakeIdentity:
    """A real loopback HTTP server publishing a JWKS, counting how often it is fetched."""

    def __init__(self) -> None:
        self.rsa, self.ec = _base_keys()
        self.published: list[SigningKey] = [self.rsa, self.ec]
        self.fetches = 0
        self.up = True
        self.url = ""

    async def _jwks(self, _: Request) -> Response:
        self.fetches += 1
        if not self.up:
            return JSONResponse({"error": "down"}, status_code=503)
        return JSONResponse({"keys": [k.as_dict(private=False) for k in self.published]})

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakeIdentity]:
        app = Starlette(routes=[Route("/jwks.json", self._jwks)])
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        # Listening before uvicorn starts: early connections wait in the backlog, no polling.
        sock.listen(64)
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, lifespan="off", log_level="warning")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        self.url = f"http://127.0.0.1:{port}/jwks.json"
        try:
            yield self
        finally:
            server.should_exit = True
            await task
            sock.close()

    def verifier(self, **options: Any) -> JWKSVerifier:
        return JWKSVerifier(self.url, issuer=ISSUER, audience=AUDIENCE, **options)


def claims_for(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "portal": "business",
        "scope": "openid profile email",
        "client_id": "business-portal",
        "iat": now,
        "exp": now + 900,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def mint(key: SigningKey, *, typ: str = "at+jwt", **claims: Any) -> str:
    alg = "RS256" if isinstance(key, RSAKey) else "ES256"
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": typ}, claims_for(**claims), key)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], secret: bytes | None) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = b""
    if secret is not None:
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


@pytest.fixture
async def identity() -> AsyncIterator[FakeIdentity]:
    async with FakeIdentity().running() as server:
        yield server


@pytest.fixture
async def verifier(identity: FakeIdentity) -> AsyncIterator[JWKSVerifier]:
    verifier = identity.verifier(min_refresh_seconds=0)
    yield verifier
    await verifier.aclose()


async def test_a_good_rs256_access_token_yields_its_principal(verifier, identity):
    principal = await verifier.verify(mint(identity.rsa, jti="token-1"))

    assert principal.sub == "user-1"
    assert principal.user_id == "user-1"
    assert principal.portal == "business"
    assert principal.scopes == {"openid", "profile", "email"}
    assert principal.client_id == "business-portal"
    assert principal.token_id == "token-1"
    assert principal.claims["iss"] == ISSUER
    assert not principal.is_statewide


async def test_a_good_es256_access_token_is_accepted(verifier, identity):
    principal = await verifier.verify(mint(identity.ec, sub="user-2", portal="regulator"))

    assert principal.user_id == "user-2"
    assert principal.portal == "regulator"


async def test_keys_are_fetched_once_and_cached(verifier, identity):
    for _ in range(3):
        await verifier.verify(mint(identity.rsa))
        await verifier.verify(mint(identity.ec))

    assert identity.fetches == 1


async def test_a_burst_before_any_keys_are_cached_waits_for_the_one_fetch(verifier, identity):
    principals = await asyncio.gather(*(verifier.verify(mint(identity.rsa)) for _ in range(20)))

    assert {p.sub for p in principals} == {"user-1"}
    assert identity.fetches == 1


async def test_the_media_type_form_of_typ_is_accepted_in_any_case(verifier, identity):
    principal = await verifier.verify(mint(identity.rsa, typ="Application/AT+JWT"))

    assert principal.sub == "user-1"


async def test_an_expired_token_is_rejected(verifier, identity):
    now = int(time.time())
    token = mint(identity.rsa, iat=now - 1000, exp=now - 100)

    with pytest.raises(AuthError, match="expired"):
        await verifier.verify(token)


async def test_a_token_from_another_issuer_is_rejected(verifier, identity):
    with pytest.raises(AuthError, match="iss"):
        await verifier.verify(mint(identity.rsa, iss="https://evil.example"))


async def test_a_token_for_another_audience_is_rejected(verifier, identity):
    with pytest.raises(AuthError, match="aud"):
        await verifier.verify(mint(identity.rsa, aud="another-api"))
    with pytest.raises(AuthError, match="aud"):
        await verifier.verify(mint(identity.rsa, aud=["another-api", "third-api"]))


async def test_an_audience_list_that_includes_ours_is_accepted(verifier, identity):
    principal = await verifier.verify(mint(identity.rsa, aud=["another-api", AUDIENCE]))

    assert principal.sub == "user-1"


async def test_a_token_issued_or_valid_only_in_the_future_is_rejected(verifier, identity):
    later = int(time.time()) + 3600
    with pytest.raises(AuthError, match="iat"):
        await verifier.verify(mint(identity.rsa, iat=later, exp=later + 900))
    with pytest.raises(AuthError, match="nbf"):
        await verifier.verify(mint(identity.rsa, nbf=later))


async def test_a_token_without_required_claims_is_rejected(verifier, identity):
    for missing in ("sub", "exp", "iat", "jti", "client_id"):
        with pytest.raises(AuthError, match=missing):
            absent: dict[str, Any] = {missing: None}
            await verifier.verify(mint(identity.rsa, **absent))


async def test_an_unknown_kid_refreshes_the_keys_exactly_once_then_fails(verifier, identity):
    await verifier.verify(mint(identity.rsa))
    assert identity.fetches == 1
    stranger = RSAKey.generate_key(2048, {"kid": "not-published"})

    with pytest.raises(AuthError, match="unknown key"):
        await verifier.verify(mint(stranger))

    assert identity.fetches == 2


async def test_a_flood_of_unknown_kids_does_not_hammer_identity(identity):
    verifier = identity.verifier(min_refresh_seconds=60)
    try:
        await verifier.verify(mint(identity.rsa))
        bogus = [
            forge({"alg": "RS256", "typ": "at+jwt", "kid": f"bogus-{i}"}, claims_for(), b"x")
            for i in range(50)
        ]
        results = await asyncio.gather(
            *(verifier.verify(token) for token in bogus), return_exceptions=True
        )
    finally:
        await verifier.aclose()

    assert all(isinstance(r, AuthError) for r in results)
    assert identity.fetches == 1


async def test_a_token_signed_by_a_newly_published_key_verifies_after_refresh(verifier, identity):
    await verifier.verify(mint(identity.rsa))
    rotated = RSAKey.generate_key(2048, {"kid": "rsa-2"})
    identity.published.append(rotated)

    principal = await verifier.verify(mint(rotated, sub="user-9"))

    assert principal.sub == "user-9"
    assert identity.fetches == 2
    await verifier.verify(mint(identity.rsa))
    assert identity.fetches == 2


async def test_an_unsigned_alg_none_token_is_rejected(verifier, identity):
    token = forge({"alg": "none", "typ": "at+jwt", "kid": "rsa-1"}, claims_for(), None)

    with pytest.raises(AuthError, match="not allowed"):
        await verifier.verify(token)


async def test_an_hs256_token_keyed_with_the_public_key_is_rejected(verifier, identity):
    public_pem = identity.rsa.as_pem(private=False)
    token = forge({"alg": "HS256", "typ": "at+jwt", "kid": "rsa-1"}, claims_for(), public_pem)

    with pytest.raises(AuthError, match="not allowed"):
        await verifier.verify(token)


async def test_an_rs256_header_on_an_ec_key_is_rejected(verifier, identity):
    token = jwt.encode(
        {"alg": "ES256", "kid": identity.rsa.kid, "typ": "at+jwt"}, claims_for(), identity.ec
    )

    with pytest.raises(AuthError):
        await verifier.verify(token)


async def test_a_tampered_payload_is_rejected(verifier, identity):
    header, _, signature = mint(identity.rsa).split(".")
    elevated = _b64(json.dumps(claims_for(portal="state", scope="statewide:read")).encode())

    with pytest.raises(AuthError, match="signature"):
        await verifier.verify(f"{header}.{elevated}.{signature}")


async def test_an_id_token_presented_as_an_access_token_is_rejected(verifier, identity):
    with pytest.raises(AuthError, match="Not an access token"):
        await verifier.verify(mint(identity.rsa, typ="JWT"))


async def test_garbage_is_rejected_as_malformed(verifier):
    for token in ("", "abc", "a.b", "a.b.c", "%%%.%%%.%%%"):
        with pytest.raises(AuthError):
            await verifier.verify(token)


async def test_unreachable_keys_answer_unavailable_not_unauthenticated(identity):
    identity.up = False
    verifier = identity.verifier()
    try:
        with pytest.raises(KeysUnavailableError) as raised:
            await verifier.verify(mint(identity.rsa))
    finally:
        await verifier.aclose()

    assert raised.value.code == "UNAVAILABLE"


async def test_a_burst_while_identity_is_down_makes_one_fetch(identity):
    identity.up = False
    verifier = identity.verifier()
    try:
        results = await asyncio.gather(
            *(verifier.verify(mint(identity.rsa)) for _ in range(20)), return_exceptions=True
        )
    finally:
        await verifier.aclose()

    assert all(isinstance(r, KeysUnavailableError) for r in results)
    assert identity.fetches == 1


async def test_tokens_verify_once_identity_comes_up(identity):
    identity.up = False
    verifier = identity.verifier(min_refresh_seconds=0)
    try:
        with pytest.raises(KeysUnavailableError):
            await verifier.verify(mint(identity.rsa))
        identity.up = True
        principal = await verifier.verify(mint(identity.rsa))
    finally:
        await verifier.aclose()

    assert principal.sub == "user-1"


async def test_cached_keys_keep_working_while_identity_is_down(identity):
    verifier = identity.verifier(cache_seconds=0, min_refresh_seconds=0)
    try:
        await verifier.verify(mint(identity.rsa))
        identity.up = False
        principal = await verifier.verify(mint(identity.rsa))
    finally:
        await verifier.aclose()

    assert principal.sub == "user-1"
    assert identity.fetches == 2


async def test_a_shared_http_client_is_used_and_left_open(identity):
    async with httpx.AsyncClient() as client:
        verifier = identity.verifier(client=client)
        await verifier.verify(mint(identity.rsa))
        await verifier.aclose()
        assert not client.is_closed


def test_symmetric_or_none_algorithms_cannot_be_allowed():
    for algorithms in (("HS256",), ("RS256", "none"), ()):
        with pytest.raises(ValueError):
            JWKSVerifier("http://x", issuer=ISSUER, audience=AUDIENCE, algorithms=algorithms)


def test_a_client_credentials_token_has_no_user():
    cc = Principal.from_claims(
        {"sub": "county-gis", "client_id": "county-gis", "scope": "statewide:read"}
    )
    assert cc.user_id is None
    assert cc.is_statewide
    no_portal = Principal.from_claims({"sub": "someone", "client_id": "integration"})
    assert no_portal.user_id is None
    assert not no_portal.is_statewide


def test_a_state_portal_user_reads_statewide():
    state = Principal.from_claims({"sub": "u", "client_id": "web", "portal": "state"})

    assert state.is_statewide
    assert state.user_id == "u"


def test_an_unknown_portal_is_rejected():
    with pytest.raises(AuthError, match="portal"):
        Principal.from_claims({"sub": "u", "client_id": "web", "portal": "admin"})


def test_bearer_token_reads_the_authorization_header():
    assert bearer_token(None) is None
    assert bearer_token("") is None
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("bearer   abc.def.ghi ") == "abc.def.ghi"
    for bad in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "abc.def.ghi"):
        with pytest.raises(AuthError):
            bearer_token(bad)


def test_a_verifier_built_from_settings_checks_the_configured_issuer_and_audience():
    settings = dataclasses.replace(
        load_settings(),
        jwks_url="http://identity.internal/jwks.json",
        public_base_url="https://cers.example",
        api_audience="cers-api",
    )

    verifier = JWKSVerifier.from_settings(settings)

    assert verifier.jwks_url == "http://identity.internal/jwks.json"
    assert (verifier.issuer, verifier.audience) == ("https://cers.example", "cers-api")


def test_a_verifier_keeps_working_when_its_app_moves_to_a_new_event_loop():
    identity = FakeIdentity()
    verifier = JWKSVerifier(
        "", issuer=ISSUER, audience=AUDIENCE, cache_seconds=0, min_refresh_seconds=0
    )

    async def verify_in_a_fresh_loop(close: bool) -> str:
        async with identity.running():
            verifier.jwks_url = identity.url
            principal = await verifier.verify(mint(identity.rsa))
            if close:
                await verifier.aclose()
            return principal.sub

    assert asyncio.run(verify_in_a_fresh_loop(close=False)) == "user-1"
    assert asyncio.run(verify_in_a_fresh_loop(close=True)) == "user-1"
    assert identity.fetches == 2


async def test_a_token_is_verified_once_until_it_expires(verifier, identity, monkeypatch):
    from joserfc import jwt as joserfc_jwt

    decoded: list[str] = []
    real_decode = joserfc_jwt.decode

    def counting_decode(token: Any, *args: Any, **kwargs: Any) -> Any:
        decoded.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr("common.auth.jwt.decode", counting_decode)
    now = time.time()
    token = mint(identity.rsa, sub="user-7", iat=int(now), exp=int(now) + 900)
    first = await verifier.verify(token)
    again = await verifier.verify(token)
    assert first == again and first.sub == "user-7"
    assert len(decoded) == 1 and verifier.verified_hits == 1

    # Past its expiry the token is checked afresh, and refused.
    monkeypatch.setattr(time, "time", lambda: now + 1000)
    with pytest.raises(AuthError, match="expired"):
        await verifier.verify(token)
    assert len(decoded) == 2


async def test_a_withdrawn_key_takes_its_cached_tokens_with_it(identity):
    verifier = identity.verifier(min_refresh_seconds=0, cache_seconds=0)
    try:
        token = mint(identity.rsa)
        await verifier.verify(token)
        identity.published.remove(identity.rsa)
        await verifier.verify(mint(identity.ec))  # refreshes the keys: rsa is gone
        with pytest.raises(AuthError, match="unknown key"):
            await verifier.verify(token)
    finally:
        await verifier.aclose()


async def test_the_verified_token_cache_is_bounded(identity):
    verifier = identity.verifier(verified_cache_size=2)
    try:
        tokens = [mint(identity.ec, sub=f"user-{n}") for n in range(5)]
        for token in tokens:
            await verifier.verify(token)
        assert len(verifier._verified) == 2
        await verifier.verify(tokens[-1])
        assert verifier.verified_hits == 1
    finally:
        await verifier.aclose()
