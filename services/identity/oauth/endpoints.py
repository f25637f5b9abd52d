"""The machine endpoints: /token, /revoke, /userinfo, /logout, /jwks.json and discovery."""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
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
from services.identity.oauth.adapter import in_thread, oauth_request, to_response, with_params
from services.identity.oauth.cors import PUBLIC, Cors, form_client_id, public_preflight
from services.identity.oauth.grants import RESPONSE_MODES
from services.identity.oauth.keys import ALGORITHM, KeyStore
from services.identity.oauth.models import Client, SignedIn
from services.identity.oauth.server import IdentityServer, user_claims
from services.identity.service_layer.deps import Deps

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}
# Public documents: caches and clients may keep them a while (keys rotate with an overlap, and
# verifiers refetch the JWKS on an unknown kid anyway).
DISCOVERY_CACHE = {"cache-control": "public, max-age=3600"}
JWKS_CACHE = {"cache-control": "public, max-age=300"}


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
        self.cors = Cors(deps)
        self.issuer = deps.public_base_url.rstrip("/")
        self.realm = f'Bearer realm="{self.issuer}"'

    async def token(self, request: Request) -> Response:
        req = await oauth_request(request, self.issuer)
        result = await in_thread(self.deps, lambda: self.server.create_token_response(req))
        response = to_response(result)
        response.headers.update(NO_STORE)
        client_id = form_client_id(req.form, request.headers.get("authorization"))
        return await self.cors.answer(request, response, client_id)

    async def revoke(self, request: Request) -> Response:
        req = await oauth_request(request, self.issuer)
        result = await in_thread(
            self.deps, lambda: self.server.create_endpoint_response("revocation", req)
        )
        client_id = form_client_id(req.form, request.headers.get("authorization"))
        return await self.cors.answer(request, to_response(result), client_id)

    async def jwks(self, _: Request) -> Response:
        return JSONResponse(self.keys.public_jwks(), headers={**JWKS_CACHE, **PUBLIC})

    def metadata(self) -> dict[str, Any]:
        """OIDC Discovery 1.0 §3 and RFC 8414 §2: what a client may rely on, and no more."""
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "revocation_endpoint": f"{base}/revoke",
            "end_session_endpoint": f"{base}/logout",
            "jwks_uri": f"{base}/jwks.json",
            "response_types_supported": ["code"],
            "response_modes_supported": list(RESPONSE_MODES),
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
            "prompt_values_supported": ["none", "login"],
            "claims_supported": [
                "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "at_hash",
                "portal", "preferred_username", "name", "given_name", "family_name", "email",
                "email_verified",
            ],
            # Absent would mean true for request_uri (OIDC Discovery §3): say what we do not do.
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "claims_parameter_supported": False,
            "authorization_response_iss_parameter_supported": True,
            "portals_supported": ["business", "regulator", "state"],
        }

    async def discovery(self, _: Request) -> Response:
        return JSONResponse(self.metadata(), headers={**DISCOVERY_CACHE, **PUBLIC})

    async def userinfo(self, request: Request) -> Response:
        try:
            token = bearer_token(request.headers.get("authorization"))
        except AuthError as exc:
            return await self._invalid_token(request, exc.message, None)
        if token is None and request.method == "POST":
            # RFC 6750 §2.2: the token may come in a form body instead.
            form = await request.form()
            value = form.get("access_token")
            token = value if isinstance(value, str) and value else None
        if token is None:
            # RFC 6750 §3.1: a request without any credentials gets a challenge without an
            # error code; there is nothing wrong with a token it did not send.
            return await self.cors.answer(request, JSONResponse(
                {"error_description": "Send 'Authorization: Bearer <access token>'."},
                status_code=401, headers={"www-authenticate": self.realm},
            ), None)
        try:
            principal = await self.verifier.verify(token)
        except AuthError as exc:
            return await self._invalid_token(request, exc.message, None)
        if principal.user_id is None or principal.portal is None:
            return await self._invalid_token(
                request, "This token does not belong to a person.", principal.client_id
            )
        if "openid" not in principal.scopes:
            # OIDC Core §5.3: userinfo answers tokens granted the openid scope.
            return await self.cors.answer(request, JSONResponse(
                {"error": "insufficient_scope",
                 "error_description": "This token was not granted the 'openid' scope."},
                status_code=403, headers={"www-authenticate": (
                    f'{self.realm}, error="insufficient_scope", scope="openid"')},
            ), principal.client_id)
        async with self.deps.db.read() as session:
            user = await repo.user_by_id(session, principal.user_id)
        if user is None or user.status != "active":
            return await self._invalid_token(
                request, "This account is no longer active.", principal.client_id
            )
        scope = " ".join(principal.scopes)
        response = JSONResponse(user_claims(SignedIn(user, principal.portal), scope),
                                headers=NO_STORE)
        return await self.cors.answer(request, response, principal.client_id)

    async def _invalid_token(
        self, request: Request, description: str, client_id: str | None
    ) -> Response:
        safe = description.replace("\\", "").replace('"', "'")
        challenge = f'{self.realm}, error="invalid_token", error_description="{safe}"'
        return await self.cors.answer(request, JSONResponse(
            {"error": "invalid_token", "error_description": description},
            status_code=401, headers={"www-authenticate": challenge},
        ), client_id)

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
            # RP-Initiated Logout §3: state goes back as it came, as one encoded parameter.
            target = with_params(redirect, [("state", state)]) if state else redirect
            response = RedirectResponse(target, status_code=302)
        else:
            response = web.message(request, portal=portal, title="You are signed out",
                                   lines=["You have signed out of CERS."],
                                   secure=self.issuer.startswith("https://"))
        response.delete_cookie(web.SESSION_COOKIE, path="/")
        return response

    async def _post_logout_redirect(self, params: dict[str, Any]) -> str | None:
        """The registered post-logout URI to return to, or None (then a signed-out page).

        The client is named by ``client_id``, by the audience of ``id_token_hint`` (native
        apps send only the hint), or both, which must then agree (RP-Initiated Logout §2)."""
        uri, client_id = params.get("post_logout_redirect_uri"), params.get("client_id")
        hint = params.get("id_token_hint")
        if hint:
            audience = self._hint_audience(str(hint))
            if audience is None or (client_id and client_id != audience):
                return None
            client_id = audience
        if not uri or not client_id:
            return None
        async with self.deps.db.read() as session:
            row = await session.get(OAuthClient, str(client_id))
        if row is None:
            return None
        spec = Client(row).spec
        allowed = spec.post_logout_redirect_uris or (*spec.redirect_uris, f"{self.issuer}/")
        return str(uri) if redirect_uri_matches(tuple(allowed), str(uri)) else None

    def _hint_audience(self, hint: str) -> str | None:
        """The client an ID token we signed was issued to; expired hints still count."""
        if len(hint) > 16_384:
            return None
        try:
            token = jwt.decode(hint, self.keys.public_key_set(), algorithms=[ALGORITHM])
        except (JoseError, ValueError):
            return None
        if token.header.get("typ") not in (None, "JWT") or token.claims.get("iss") != self.issuer:
            return None
        audience = token.claims.get("aud")
        if isinstance(audience, list) and len(audience) == 1:
            audience = audience[0]
        return audience if isinstance(audience, str) else None

    async def preflight(self, request: Request) -> Response:
        methods = "GET, POST" if request.url.path == "/userinfo" else "POST"
        return await self.cors.preflight(request, methods)

    async def public_preflight(self, _: Request) -> Response:
        return public_preflight()

    def routes(self) -> list[Route]:
        return [
            Route("/token", self.token, methods=["POST"]),
            Route("/revoke", self.revoke, methods=["POST"]),
            Route("/userinfo", self.userinfo, methods=["GET", "POST"]),
            *(Route(path, self.preflight, methods=["OPTIONS"])
              for path in ("/token", "/revoke", "/userinfo")),
            Route("/logout", self.logout, methods=["GET", "POST"]),
            Route("/jwks.json", self.jwks, methods=["GET"]),
            Route("/.well-known/openid-configuration", self.discovery, methods=["GET"]),
            Route("/.well-known/oauth-authorization-server", self.discovery, methods=["GET"]),
            *(Route(path, self.public_preflight, methods=["OPTIONS"])
              for path in ("/jwks.json", "/.well-known/openid-configuration",
                           "/.well-known/oauth-authorization-server")),
        ]
