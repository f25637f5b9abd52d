"""One origin: the gateway forwards identity's OAuth paths and submittal's /documents and
/exports."""

from __future__ import annotations

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
    "/jwks.json",
    "/authorize",
    "/token",
    "/userinfo",
    "/revoke",
    "/logout",
)
IDENTITY_PREFIXES = ("/account",)
SUBMITTAL_PREFIXES = ("/documents", "/exports")
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

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
        base = self.upstreams.get(service)
        if not base:
            return JSONResponse({"error": f"{service} is not configured"}, status_code=502)
        url = base + request.url.path
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
            return JSONResponse(
                {"error": f"{service} is unavailable: {type(exc).__name__}"}, status_code=502
            )
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
