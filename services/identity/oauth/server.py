"""The OAuth 2.0 / OpenID Connect provider, on authlib's server components.

authlib's grant callbacks (query_client, save_token, ...) are synchronous. We run each authlib
call in a worker thread (``asyncio.to_thread``) and let the callbacks hop back onto the event
loop for their database work (``asyncio.run_coroutine_threadsafe``), all inside one async
transaction the request opened. So the loop never blocks on authlib (or on RSA signing and
argon2 secret checks inside it), the database stays on the async drivers we use everywhere,
and one token request is one transaction: a spent code, the new refresh token and a revoked
family commit together. The per-request ``Unit`` reaches the callbacks through a ContextVar,
which ``to_thread`` copies into the worker.
"""

from __future__ import annotations

import asyncio
import contextvars
import secrets
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from authlib.oauth2.rfc6749 import AuthorizationServer, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import OpenIDCode, UserInfo
from joserfc.jwk import KeySet
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.identity.adapters import repository as repo
from services.identity.adapters.tables import (
    AuthorizationCode,
    OAuthClient,
    RefreshToken,
    new_id,
)
from services.identity.domain.accounts import Status
from services.identity.domain.clients import ALL_SCOPES
from services.identity.domain.lockout import as_utc, utcnow
from services.identity.domain.tokens import hash_secret
from services.identity.oauth.keys import ALGORITHM, KeyStore
from services.identity.oauth.models import Client, Code, Refresh, SignedIn
from services.identity.service_layer.deps import Deps

T = TypeVar("T")
ACCESS_TOKEN_SECONDS = 15 * 60
CODE_LIFETIME = timedelta(minutes=5)
REFRESH_LIFETIME = timedelta(days=30)
PUBLIC_AND_CONFIDENTIAL = ["none", "client_secret_basic", "client_secret_post"]


@dataclass
class Unit:
    """One request's transaction, reachable from authlib's synchronous callbacks."""

    session: AsyncSession
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()


current_unit: contextvars.ContextVar[Unit] = contextvars.ContextVar("identity_oauth_unit")


def unit() -> Unit:
    return current_unit.get()


async def _client(session: AsyncSession, client_id: str) -> Client | None:
    row = await session.get(OAuthClient, client_id)
    return Client(row) if row else None


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE is mandatory, and only with S256: ``plain`` leaks the verifier."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_AND_CONFIDENTIAL

    def save_authorization_code(self, code: str, request: Any) -> None:
        signed_in: SignedIn = request.user
        data = request.payload.data
        now = utcnow()
        row = AuthorizationCode(
            code_hash=hash_secret(code), client_id=request.client.get_client_id(),
            user_id=signed_in.user.id, session_id=signed_in.session_id,
            portal=signed_in.portal, redirect_uri=request.payload.redirect_uri,
            scope=request.scope or "", code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"], nonce=data.get("nonce"),
            auth_time=signed_in.auth_time, expires_at=now + CODE_LIFETIME,
        )

        async def save() -> None:
            unit().session.add(row)
            await unit().session.flush()

        unit().run(save())

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        async def find() -> AuthorizationCode | None:
            row = await unit().session.get(AuthorizationCode, hash_secret(code))
            if row is not None and row.used_at is not None:
                # A code came back a second time: what it bought is compromised (RFC 6749 §4.1.2).
                await revoke_family(unit().session, family_of_code(row.code_hash))
            return row

        row = unit().run(find())
        if row is None or row.client_id != client.get_client_id() or row.used_at is not None:
            return None
        if as_utc(row.expires_at) <= utcnow():
            return None
        return Code(row)

    def delete_authorization_code(self, authorization_code: Code) -> None:
        async def spend() -> None:
            await unit().session.execute(
                update(AuthorizationCode)
                .where(col(AuthorizationCode.code_hash) == authorization_code.row.code_hash)
                .values(used_at=utcnow())
            )

        unit().run(spend())

    def authenticate_user(self, authorization_code: Code) -> SignedIn | None:
        row = authorization_code.row
        return _active_user(row.user_id, row.portal, row.session_id, row.auth_time)


def _active_user(
    user_id: str, portal: str, session_id: str | None, auth_time: int = 0
) -> SignedIn | None:
    async def find() -> Any:
        return await repo.user_by_id(unit().session, user_id)

    user = unit().run(find())
    if user is None or user.status != Status.ACTIVE.value:
        return None
    return SignedIn(user=user, portal=portal, session_id=session_id, auth_time=auth_time)


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_AND_CONFIDENTIAL
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Refresh | None:
        async def find() -> RefreshToken | None:
            row = await unit().session.get(RefreshToken, hash_secret(refresh_token))
            if row is not None and row.rotated_at is not None and row.revoked_at is None:
                # A spent token came back: someone holds a copy. Kill the whole family.
                await revoke_family(unit().session, row.family_id)
            return row

        row = unit().run(find())
        if row is None:
            return None
        token = Refresh(row)
        return None if token.is_revoked() or token.is_expired() else token

    def authenticate_user(self, refresh_token: Refresh) -> SignedIn | None:
        row = refresh_token.row
        return _active_user(row.user_id, row.portal, row.session_id)

    def revoke_old_credential(self, refresh_token: Refresh) -> None:
        async def rotate() -> None:
            await unit().session.execute(
                update(RefreshToken)
                .where(col(RefreshToken.token_hash) == refresh_token.row.token_hash)
                .values(rotated_at=utcnow())
            )

        unit().run(rotate())


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def family_of_code(code_hash: str) -> str:
    """The refresh-token family a code starts, derived from it so a replay can find it."""
    return str(uuid.UUID(code_hash[:32]))


async def revoke_family(session: AsyncSession, family_id: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = PUBLIC_AND_CONFIDENTIAL

    def query_token(self, token_string: str, token_type_hint: str | None) -> Refresh | None:
        # Access tokens are short-lived JWTs and cannot be recalled; only refresh tokens.
        async def find() -> RefreshToken | None:
            return await unit().session.get(RefreshToken, hash_secret(token_string))

        row = unit().run(find())
        return Refresh(row) if row else None

    def revoke_token(self, token: Refresh, request: Any) -> None:
        unit().run(revoke_family(unit().session, token.row.family_id))


def user_claims(signed_in: SignedIn, scope: str) -> dict[str, Any]:
    user = signed_in.user
    scopes = scope.split()
    claims: dict[str, Any] = {"sub": user.id, "portal": signed_in.portal}
    if "profile" in scopes:
        claims.update(
            preferred_username=user.username, given_name=user.first_name,
            family_name=user.last_name, name=f"{user.first_name} {user.last_name}",
        )
    if "email" in scopes:
        claims.update(email=user.email, email_verified=True)
    return claims


class OpenIDConnect(OpenIDCode):  # type: ignore[misc]
    def __init__(self, keys: KeyStore, issuer: str) -> None:
        super().__init__(require_nonce=False)
        self.keys = keys
        self.issuer = issuer

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        # Codes are single-use and short-lived, so a nonce cannot be replayed through them.
        return False

    def resolve_client_private_key(self, client: Client) -> KeySet:
        return KeySet([self.keys.signing_key])

    def get_client_algorithm(self, client: Client) -> str:
        return ALGORITHM

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.issuer, "aud": [client.get_client_id()]}

    def get_encode_header(self, client: Client) -> dict[str, Any]:
        return {"alg": ALGORITHM, "typ": "JWT", "kid": self.keys.signing_key.kid}

    def generate_user_info(self, user: SignedIn, scope: str) -> UserInfo:
        return UserInfo(user_claims(user, scope))


class AccessTokens(JWTBearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 access tokens: typ at+jwt, aud = API_AUDIENCE, with the caller's portal."""

    def __init__(self, keys: KeyStore, issuer: str, audience: str) -> None:
        super().__init__(
            issuer, alg=ALGORITHM,
            refresh_token_generator=lambda *a, **k: secrets.token_urlsafe(32),
            expires_generator=lambda client, grant_type: ACCESS_TOKEN_SECONDS,
        )
        self.keys = keys
        self.audience = audience

    def get_jwks(self) -> KeySet:
        # One key in the set: joserfc names it in the header's kid.
        return KeySet([self.keys.signing_key])

    def get_audiences(self, client: Any, user: Any, scope: str) -> str:
        return self.audience

    def get_extra_claims(
        self, client: Any, grant_type: str, user: SignedIn | None, scope: str
    ) -> dict[str, Any]:
        return {"portal": user.portal} if user is not None else {}

    def get_auth_time(self, user: SignedIn | None) -> int | None:
        return user.auth_time or None if user else None


class IdentityServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, deps: Deps, keys: KeyStore, issuer: str, audience: str) -> None:
        super().__init__(scopes_supported=list(ALL_SCOPES))
        self.deps = deps
        self.keys = keys
        self.issuer = issuer
        self.register_token_generator("default", AccessTokens(keys, issuer, audience))
        self.register_grant(
            AuthorizationCodeGrant, [S256Challenge(required=True), OpenIDConnect(keys, issuer)]
        )
        self.register_grant(RefreshTokenGrant)
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(Revocation)

    def query_client(self, client_id: str) -> Client | None:
        if not client_id:
            return None
        return unit().run(_client(unit().session, client_id))

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        refresh = token.get("refresh_token")
        if not refresh or request.user is None:
            return
        signed_in: SignedIn = request.user
        row = RefreshToken(
            token_hash=hash_secret(refresh),
            family_id=self._family(request),
            client_id=request.client.get_client_id(), user_id=signed_in.user.id,
            session_id=signed_in.session_id, portal=signed_in.portal,
            scope=token.get("scope", ""), expires_at=utcnow() + REFRESH_LIFETIME,
        )

        async def save() -> None:
            unit().session.add(row)
            await unit().session.flush()

        unit().run(save())

    @staticmethod
    def _family(request: Any) -> str:
        if request.refresh_token is not None:
            family: str = request.refresh_token.row.family_id
            return family
        if request.authorization_code is not None:
            return family_of_code(request.authorization_code.row.code_hash)
        return new_id()

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: Any) -> Any:
        # The Starlette adapter hands over a finished OAuth2Request (see adapter.py).
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> Any:
        return status, body, list(headers)
