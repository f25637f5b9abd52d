"""The machine endpoints: /token, /revoke, /userinfo, /logout, /jwks.json and discovery."""

from __future__ import annotations

from typing import Any

from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from common.auth import AuthError, JWKSVerifier, bearer_token
from services.identity.adapters import repository as repo
from services.identity.adapters.tables import OAuthClient, RefreshToken, SignInSession
from services.identity.domain.clients import ALL_SCOPES, redirect_uri_matches
from services.identity.domain.tokens import hash_secret
from services.identity.oauth import web
from services.identity.oauth.adapter import in_thread, oauth_request, to_response
from services.identity.oauth.keys import ALGORITHM, KeyStore
from services.identity.oauth.models import SignedIn
from services.identity.oauth.server import IdentityServer, user_claims
from services.identity.service_layer.deps import Deps

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


class LocalVerifier(JWKSVerifier):
    """The shared verifier, reading identity's own keys instead of fetching its own JWKS."""

    def __init__(self, keys: KeyStore, *, issuer: str, audience: str) -> None:
        super().__init__(
            "local:", issuer=issuer, audience=audience, cache_seconds=5, min_refresh_seconds=0
        )
        self.keys = keys

    async def _fetch(self) -> KeySet:
        return self.keys.public_key_set()


class Endpoints:
    def __init__(
        self, deps: Deps, server: IdentityServer, keys: KeyStore, verifier: LocalVerifier
    ) -> None:
        self.deps = deps
        self.server = server
        self.keys = keys
        self.verifier = verifier
        self.issuer = deps.public_base_url.rstrip("/")

    async def token(self, request: Request) -> Response:
        req = await oauth_request(request, self.issuer)
        result = await in_thread(self.deps, lambda: self.server.create_token_response(req))
        response = to_response(result)
        response.headers.update(NO_STORE)
        return response

    async def revoke(self, request: Request) -> Response:
        req = await oauth_request(request, self.issuer)
        result = await in_thread(
            self.deps, lambda: self.server.create_endpoint_response("revocation", req)
        )
        return to_response(result)

    async def jwks(self, _: Request) -> Response:
        return JSONResponse(self.keys.public_jwks(), headers={"cache-control": "max-age=300"})

    async def discovery(self, _: Request) -> Response:
        base = self.issuer
        return JSONResponse({
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "revocation_endpoint": f"{base}/revoke",
            "end_session_endpoint": f"{base}/logout",
            "jwks_uri": f"{base}/jwks.json",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": list(ALL_SCOPES),
            "token_endpoint_auth_methods_supported": [
                "none", "client_secret_basic", "client_secret_post"
            ],
            "revocation_endpoint_auth_methods_supported": [
                "none", "client_secret_basic", "client_secret_post"
            ],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "claims_supported": [
                "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "portal",
                "preferred_username", "name", "given_name", "family_name", "email",
                "email_verified",
            ],
            "portals_supported": ["business", "regulator", "state"],
        })

    async def userinfo(self, request: Request) -> Response:
        challenge = {"www-authenticate": 'Bearer error="invalid_token"'}
        try:
            token = bearer_token(request.headers.get("authorization"))
            if token is None:
                raise AuthError("Send 'Authorization: Bearer <access token>'.")
            principal = await self.verifier.verify(token)
        except AuthError as exc:
            return JSONResponse({"error": "invalid_token", "error_description": exc.message},
                                status_code=401, headers=challenge)
        if principal.user_id is None or principal.portal is None:
            return JSONResponse({"error": "invalid_token",
                                 "error_description": "This token does not belong to a person."},
                                status_code=401, headers=challenge)
        async with self.deps.db.read() as session:
            user = await repo.user_by_id(session, principal.user_id)
        if user is None or user.status != "active":
            return JSONResponse({"error": "invalid_token",
                                 "error_description": "This account is no longer active."},
                                status_code=401, headers=challenge)
        scope = " ".join(principal.scopes)
        return JSONResponse(user_claims(SignedIn(user, principal.portal), scope), headers=NO_STORE)

    async def logout(self, request: Request) -> Response:
        """End the sign-in session of this browser and revoke the refresh tokens it issued."""
        params: dict[str, Any] = dict(request.query_params)
        if request.method == "POST":
            params.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
        cookie = request.cookies.get(web.SESSION_COOKIE)
        now = self.deps.clock()
        redirect = await self._post_logout_redirect(params)
        if cookie:
            session_id = hash_secret(cookie)
            async with self.deps.db.transaction() as session:
                row = await session.get(SignInSession, session_id)
                if row is not None and row.ended_at is None:
                    row.ended_at = now
                tokens = await session.scalars(
                    select(RefreshToken).where(
                        col(RefreshToken.session_id) == session_id,
                        col(RefreshToken.revoked_at).is_(None),
                    )
                )
                for token in tokens:
                    token.revoked_at = now
        portal = web.portal_or_default(params.get("portal"))
        response: Response
        if redirect:
            state = params.get("state")
            sep = "&" if "?" in redirect else "?"
            target = f"{redirect}{sep}state={state}" if state else redirect
            response = RedirectResponse(target, status_code=302)
        else:
            response = web.message(request, portal=portal, title="You are signed out",
                                   lines=["You have signed out of CERS."],
                                   secure=self.issuer.startswith("https://"))
        response.delete_cookie(web.SESSION_COOKIE, path="/")
        return response

    async def _post_logout_redirect(self, params: dict[str, Any]) -> str | None:
        uri, client_id = params.get("post_logout_redirect_uri"), params.get("client_id")
        if not uri or not client_id:
            return None
        async with self.deps.db.read() as session:
            client = await session.get(OAuthClient, client_id)
        if client is None:
            return None
        allowed = tuple(client.redirect_uris.split()) + (f"{self.issuer}/",)
        return str(uri) if redirect_uri_matches(allowed, str(uri)) else None

    def routes(self) -> list[Route]:
        return [
            Route("/token", self.token, methods=["POST"]),
            Route("/revoke", self.revoke, methods=["POST"]),
            Route("/userinfo", self.userinfo, methods=["GET", "POST"]),
            Route("/logout", self.logout, methods=["GET", "POST"]),
            Route("/jwks.json", self.jwks, methods=["GET"]),
            Route("/.well-known/openid-configuration", self.discovery, methods=["GET"]),
        ]
