"""CORS for browser apps on other origins, decided per client (as Keycloak's web origins).

- Discovery and the JWKS are public documents: any origin may read them.
- /token, /userinfo and /revoke answer an origin only when the client of the request (the one
  named at /token and /revoke, the token's own at /userinfo) registered it. A preflight names
  no client, so it is allowed when any client registered the origin; the real request is
  still judged against its own client. An error that names no client is readable by any
  registered origin, so the app can show it.
- No ``Allow-Credentials``: these endpoints take no cookies, only bearer tokens and forms.

Our own portal is served from the issuer's origin and needs none of this.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import unquote

from sqlalchemy import select
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import Response

from services.identity.adapters.tables import ClientWebOrigin
from services.identity.domain.clients import normalize_origin
from services.identity.service_layer.deps import Deps

PREFLIGHT_SECONDS = 600
ALLOWED_HEADERS = "authorization, content-type, dpop"
PUBLIC = {"access-control-allow-origin": "*"}


def public_preflight() -> Response:
    return Response(status_code=204, headers={
        **PUBLIC, "access-control-allow-methods": "GET, OPTIONS",
        "access-control-allow-headers": "*", "access-control-max-age": str(PREFLIGHT_SECONDS),
    })


def request_origin(request: Request) -> str | None:
    origin = request.headers.get("origin")
    return normalize_origin(origin) if origin and origin != "null" else None


def basic_client_id(authorization: str | None) -> str | None:
    """The client id of an HTTP Basic client authentication (RFC 6749 §2.3.1)."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, _ = decoded.partition(":")
    return unquote(client_id) or None


class Cors:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def allowed(self, origin: str, client_id: str | None) -> bool:
        """Whether ``origin`` is registered for ``client_id`` (for any client when None)."""
        query = select(col(ClientWebOrigin.client_id)).where(
            col(ClientWebOrigin.origin) == origin
        )
        if client_id is not None:
            query = query.where(col(ClientWebOrigin.client_id) == client_id)
        async with self.deps.db.read() as session:
            return (await session.scalars(query.limit(1))).first() is not None

    async def preflight(self, request: Request, methods: str) -> Response:
        origin = request_origin(request)
        if origin is None or not await self.allowed(origin, None):
            return Response(
                "This origin is not registered as a web origin of any client.",
                status_code=403, headers={"vary": "Origin"},
            )
        return Response(status_code=204, headers={
            "access-control-allow-origin": origin, "vary": "Origin",
            "access-control-allow-methods": f"{methods}, OPTIONS",
            "access-control-allow-headers": ALLOWED_HEADERS,
            "access-control-max-age": str(PREFLIGHT_SECONDS),
        })

    async def answer(
        self, request: Request, response: Response, client_id: str | None
    ) -> Response:
        """``response`` with the CORS headers ``client_id``'s web origins earn it."""
        origin = request_origin(request)
        if request.headers.get("origin") is None:
            return response
        response.headers["vary"] = "Origin"
        if origin is not None and await self.allowed(origin, client_id):
            response.headers["access-control-allow-origin"] = origin
            response.headers["access-control-expose-headers"] = "WWW-Authenticate"
        return response


def form_client_id(form: Mapping[str, str], authorization: str | None) -> str | None:
    return form.get("client_id") or basic_client_id(authorization)
