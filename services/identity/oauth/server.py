"""The OAuth 2.0 / OpenID Connect provider, on authlib's server components.

How authlib's synchronous callbacks stay off the event loop: see ``oauth/unit.py``.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationServer
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import OpenIDCode, UserInfo
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.adapters.tables import OAuthClient, RefreshToken, new_id
from services.identity.domain.clients import ALL_SCOPES
from services.identity.domain.lockout import utcnow
from services.identity.domain.tokens import hash_secret
from services.identity.oauth.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
    Revocation,
    S256Challenge,
    family_of_code,
)
from services.identity.oauth.keys import ALGORITHM, KeyStore
from services.identity.oauth.models import Client, SignedIn
from services.identity.oauth.unit import unit
from services.identity.service_layer.deps import Deps

ACCESS_TOKEN_SECONDS = 15 * 60
REFRESH_LIFETIME = timedelta(days=30)


async def _client(session: AsyncSession, client_id: str) -> Client | None:
    row = await session.get(OAuthClient, client_id)
    return Client(row) if row else None


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
