"""The objects authlib's grants ask questions of: client, authorization code, refresh token."""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin

from services.identity.adapters.tables import AuthorizationCode, OAuthClient, RefreshToken, User
from services.identity.domain.clients import ClientSpec, allowed_scope, redirect_uri_matches
from services.identity.domain.lockout import as_utc, utcnow
from services.identity.domain.passwords import verify_password


class Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, row: OAuthClient) -> None:
        self.spec = ClientSpec(
            client_id=row.client_id,
            name=row.name,
            redirect_uris=tuple(row.redirect_uris.split()),
            portal=row.portal,
            scopes=tuple(row.scopes.split()),
            grant_types=tuple(row.grant_types.split()),
            secret_hash=row.secret_hash,
            post_logout_redirect_uris=tuple(row.post_logout_redirect_uris.split()),
        )

    @property
    def client_id(self) -> str:
        return self.spec.client_id

    def get_client_id(self) -> str:
        return self.spec.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Always make the client name its redirect URI; no guessing on its behalf.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        return allowed_scope(self.spec.scopes, scope)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri_matches(self.spec.redirect_uris, redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        return self.spec.secret_hash is not None and verify_password(
            self.spec.secret_hash, client_secret
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.spec.is_public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.spec.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.spec.grant_types


@dataclass
class SignedIn:
    """The resource owner as authlib sees it: a user, the portal and the sign-in session."""

    user: User
    portal: str
    session_id: str | None = None
    auth_time: int = 0

    def get_user_id(self) -> str:
        return self.user.id


class Code(AuthorizationCodeMixin):  # type: ignore[misc]
    def __init__(self, row: AuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int | None:
        return self.row.auth_time or None

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return ["pwd"]


class Refresh(TokenMixin):  # type: ignore[misc]
    def __init__(self, row: RefreshToken) -> None:
        self.row = row

    def check_client(self, client: Client) -> bool:
        return self.row.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return max(0, int((as_utc(self.row.expires_at) - utcnow()).total_seconds()))

    def is_expired(self) -> bool:
        return as_utc(self.row.expires_at) <= utcnow()

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None or self.row.rotated_at is not None

    def get_user(self) -> str:
        return self.row.user_id

    def get_client(self) -> str:
        return self.row.client_id
