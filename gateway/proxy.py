"""One origin: the gateway forwards identity's OAuth paths and submittal's /documents and
/exports.

Only the public routes of DESIGN §4 are forwarded, matched on the path as the client sent it:
a path that is ambiguous (percent-encoded dots, slashes or backslashes, dot segments, empty
segments, control characters) is refused before matching, so no spelling of a path reaches
anything but the route it names (``/documents/..%2fgraphql`` is not submittal's /graphql).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

# DESIGN §4: paths that belong to identity and submittal.
IDENTITY_PATHS = (
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
    "/jwks.json",
    "/authorize",
    "/token",
    "/userinfo",
    "/revoke",
    "/logout",
)
IDENTITY_PREFIXES = ("/account",)
SUBMITTAL_PREFIXES = ("/documents", "/exports")
# Below a prefix: segments of letters, digits, '-', '_' and (not first) '.'.
_SEGMENTS = r"(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}){0,8}"
PUBLIC_ROUTE = re.compile(
    "|".join(re.escape(p) for p in IDENTITY_PATHS)
    + "|" + "|".join(f"{re.escape(p)}{_SEGMENTS}" for p in IDENTITY_PREFIXES + SUBMITTAL_PREFIXES)
)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
# The largest body forwarded, as the Ingress's proxy-body-size: documents are at most 25 MB.
MAX_BODY_BYTES = 50 * 1024 * 1024

_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade", "host", "content-length",
})

# The gateway's own server adds these; passing the upstream's too would send each twice.
_SET_BY_US = frozenset({"x-request-id", "date", "server"})


class Proxy:
    def __init__(self, upstreams: Mapping[str, str], timeout: float = 30.0) -> None:
        self.upstreams = {k: v.rstrip("/") for k, v in upstreams.items()}
        # A cookie jar here would hand one browser's sign-in session to every other browser:
        # cookies belong to the browser, so the proxy keeps none.
        self.client = httpx.AsyncClient(
            timeout=timeout, follow_redirects=False,
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        )

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = []
        for path in IDENTITY_PATHS:
            routes.append(Route(path, self._handler("identity"), methods=METHODS))
        for prefix in IDENTITY_PREFIXES:
            routes.append(Route(prefix, self._handler("identity"), methods=METHODS))
            routes.append(
                Route(prefix + "/{rest:path}", self._handler("identity"), methods=METHODS)
            )
        for prefix in SUBMITTAL_PREFIXES:
            routes.append(Route(prefix, self._handler("submittal"), methods=METHODS))
            routes.append(
                Route(prefix + "/{rest:path}", self._handler("submittal"), methods=METHODS)
            )
        return routes

    def _handler(self, service: str):  # type: ignore[no-untyped-def]
        async def forward(request: Request) -> Response:
            return await self.forward(service, request)

        return forward

    async def forward(self, service: str, request: Request) -> Response:
        path = public_path(request.scope)
        if path is None:
            return JSONResponse({"errors": [{
                "message": "This path is not a public route: send it as the route is spelled, "
                           "without encoded or dot segments.",
                "extensions": {"code": "NOT_FOUND"},
            }]}, status_code=404)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return JSONResponse({"errors": [{
                "message": f"The request body is larger than {MAX_BODY_BYTES} bytes.",
                "extensions": {"code": "BAD_USER_INPUT", "limit": "body",
                               "max": MAX_BODY_BYTES},
            }]}, status_code=413)
        base = self.upstreams.get(service)
        if not base:
            return JSONResponse({"errors": [{"message": f"{service} is not configured",
                                             "extensions": {"code": "UNAVAILABLE"}}]},
                                status_code=502)
        url = base + path
        if request.url.query:
            url += "?" + request.url.query
        headers = [
            (k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP
        ]
        headers.append(("x-forwarded-host", request.headers.get("host", "")))
        headers.append(("x-forwarded-proto", request.url.scheme))
        if request.client:
            headers.append(("x-forwarded-for", request.client.host))
        rid = request.scope.get("state", {}).get("request_id")
        if rid:
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append(("x-request-id", rid))
        upstream = self.client.build_request(
            request.method, url, headers=headers, content=request.stream()
        )
        try:
            response = await self.client.send(upstream, stream=True)
        except httpx.HTTPError as exc:
            return JSONResponse({"errors": [{
                "message": f"{service} is unavailable: {type(exc).__name__}",
                "extensions": {"code": "UNAVAILABLE"},
            }]}, status_code=502)
        out_headers = [
            (k, v) for k, v in response.headers.multi_items()
            if k.lower() not in _HOP_BY_HOP and k.lower() not in _SET_BY_US
        ]
        result = StreamingResponse(
            response.aiter_raw(), status_code=response.status_code,
            background=BackgroundTask(response.aclose),
        )
        result.raw_headers = [*(
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in out_headers
        ), *(h for h in result.raw_headers if h[0] == b"content-length")]
        return result

    async def aclose(self) -> None:
        await self.client.aclose()


def public_path(scope: Mapping[str, object]) -> str | None:
    """The request's path when it spells one public route exactly, else None.

    The raw path (as sent, before percent-decoding) must itself be a public route: any
    percent-escape, dot segment or empty segment makes it ambiguous between this proxy,
    the services behind it and the Ingress, so it is refused rather than normalized.
    """
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else str(scope.get("path", ""))
    path = path.split("?", 1)[0]
    if PUBLIC_ROUTE.fullmatch(path) is None or path != scope.get("path"):
        return None
    return path
