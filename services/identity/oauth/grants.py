"""authlib's grants and revocation endpoint, wired to identity's tables.

Their callbacks run in a worker thread and reach the database through ``unit()``.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError, OAuth2Error
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.identity.adapters import repository as repo
from services.identity.adapters.tables import AuthorizationCode, RefreshToken
from services.identity.domain.accounts import Status
from services.identity.domain.clients import unknown_scopes
from services.identity.domain.lockout import as_utc, utcnow
from services.identity.domain.tokens import hash_secret
from services.identity.oauth.models import Client, Code, Refresh, SignedIn
from services.identity.oauth.unit import unit

CODE_LIFETIME = timedelta(minutes=5)
PUBLIC_AND_CONFIDENTIAL = ["none", "client_secret_basic", "client_secret_post"]
RESPONSE_MODES = ("query",)
OFFLINE_ACCESS = "offline_access"


def parse_max_age(value: str | None) -> int | None:
    """OIDC's max_age in seconds, or None when absent or not a non-negative integer."""
    if value is None or not re.fullmatch(r"[0-9]{1,12}", value):
        return None
    return int(value)


def printable(value: str, limit: int = 40) -> str:
    """A client-sent value, safe to quote in error_description (RFC 6749 §5.2's charset)."""
    return re.sub(r"[^A-Za-z0-9_.:/+-]", "?", value[:limit])


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

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        data = self.request.payload.data
        mode = data.get("response_mode")
        if mode is not None and mode not in RESPONSE_MODES:
            # The client is waiting for the answer somewhere else (a fragment, a form post);
            # answering in the query anyway would hand the code to a page that ignores it.
            raise InvalidRequestError(
                f"response_mode={printable(mode)} is not supported; this server answers in "
                "the query (response_mode=query, the default for response_type=code).",
                redirect_uri=redirect_uri,
            )
        if data.get("max_age") is not None and parse_max_age(data["max_age"]) is None:
            raise InvalidRequestError(
                "max_age must be a whole number of seconds (0 or more).",
                redirect_uri=redirect_uri,
            )
        # OIDC Core §6: request objects are not supported (discovery says so), so say it
        # instead of silently ignoring parameters the client believes it sent.
        for name, error in (("request", "request_not_supported"),
                            ("request_uri", "request_uri_not_supported")):
            if data.get(name):
                raise OAuth2Error(
                    error=error, redirect_uri=redirect_uri,
                    description=f"The '{name}' parameter is not supported; send the "
                    "authorization parameters in the query.",
                )
        return redirect_uri

    def generate_token(
        self, user: Any = None, scope: str | None = None, grant_type: str | None = None,
        expires_in: int | None = None, include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        # OIDC Core §11: a refresh token is for offline access, and only when it was granted.
        offline = OFFLINE_ACCESS in (scope or "").split()
        token: dict[str, Any] = super().generate_token(
            user=user, scope=scope, grant_type=grant_type, expires_in=expires_in,
            include_refresh_token=include_refresh_token and offline,
        )
        return token

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
        """The code, spent by this very attempt: a code is good for one redemption attempt,
        so one that failed (a wrong code_verifier or redirect_uri) cannot be tried again."""

        async def find() -> AuthorizationCode | None:
            session = unit().session
            row = await session.get(AuthorizationCode, hash_secret(code))
            if row is None:
                return None
            spent = await session.execute(
                update(AuthorizationCode)
                .where(col(AuthorizationCode.code_hash) == row.code_hash,
                       col(AuthorizationCode.used_at).is_(None))
                .values(used_at=utcnow())
            )
            if spent.rowcount != 1:  # type: ignore[attr-defined]
                # A code came back a second time: what it bought is compromised (RFC 6749 §4.1.2).
                await revoke_family(session, family_of_code(row.code_hash))
                return None
            return row

        row = unit().run(find())
        if row is None or row.client_id != client.get_client_id():
            return None
        if as_utc(row.expires_at) <= utcnow():
            return None
        return Code(row)

    def delete_authorization_code(self, authorization_code: Code) -> None:
        # Spent when it was looked up (query_authorization_code), in this same transaction.
        return None

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

    def validate_requested_scope(self) -> None:
        super().validate_requested_scope()
        # RFC 6749 §5.2: no user narrows this request, so a scope the client lacks is an
        # error, not a silently smaller (even empty) token.
        client: Client = self.request.client
        unknown = unknown_scopes(client.spec.scopes, self.request.payload.scope)
        if unknown:
            raise InvalidScopeError(
                f"This client may not ask for {' '.join(unknown)}; "
                f"it may ask for: {' '.join(client.spec.scopes) or 'nothing'}."
            )


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
