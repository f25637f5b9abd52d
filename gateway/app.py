"""The gateway's Starlette app: POST/GET /graphql, readiness per subgraph, one-origin proxy."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import Gauge
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket

from common.asgi import create_app as create_base_app
from common.auth import AuthError, JWKSVerifier, KeysUnavailableError, bearer_token
from common.settings import Settings, load_settings
from gateway.client import SubgraphClient
from gateway.config import GatewayConfig, load_gateway_config
from gateway.core import Gateway, error_body
from gateway.graphiql import GRAPHIQL_HTML
from gateway.live import LiveGateway
from gateway.live_http import LiveEndpoints
from gateway.metrics import GatewayMetrics
from gateway.operation import OperationError
from gateway.portal import PortalFiles
from gateway.proxy import Proxy
from gateway.steps import PlanError
from gateway.supergraph import Supergraph, load_supergraph

log = logging.getLogger(__name__)

_TOKEN_CACHE_SIZE = 10_000
_INLINE_JSON_BYTES = 65_536


class Verifier:
    """Verifies bearer tokens with a JWKSVerifier, remembering valid ones until they expire."""

    def __init__(self, jwks: JWKSVerifier) -> None:
        self.jwks = jwks
        self._valid: dict[str, float] = {}
        self._warm = False
        self._warming = asyncio.Lock()

    async def check(self, authorization: str | None) -> None:
        token = bearer_token(authorization)
        if token is None:
            return
        exp = self._valid.get(token)
        if exp is not None and exp > time.time():
            return
        if self._warm:
            principal = await self.jwks.verify(token)
        else:
            # Until keys are cached, JWKSVerifier refuses callers that arrive while the first
            # fetch is running; queue them behind it instead of failing a start-up burst.
            async with self._warming:
                try:
                    principal = await self.jwks.verify(token)
                except KeysUnavailableError:
                    raise
                except AuthError:
                    self._warm = True
                    raise
                self._warm = True
        if len(self._valid) >= _TOKEN_CACHE_SIZE:
            self._valid.clear()
        self._valid[token] = float(principal.claims.get("exp", 0))


def subgraph_urls(supergraph: Supergraph, settings: Settings) -> dict[str, str]:
    """Each subgraph's url exactly as the supergraph's join__Graph gives it, except that a
    subgraph named identity, facility or submittal goes to ``$IDENTITY_URL/graphql`` (and so
    on) when that variable is set explicitly: those variables name a service's base URL."""
    urls = dict(supergraph.graph_urls)
    for name in urls:
        base = settings.explicit_service_urls.get(name)
        if base:
            urls[name] = base + "/graphql"
    return urls


def _encoded(content: bytes, status: int) -> Response:
    return Response(content, status_code=status, media_type="application/json")


def _json(body: Any, status: int) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(),
        status_code=status, media_type="application/json",
    )


def _throttled(body: Any, status: int) -> tuple[int, int | None]:
    """A subgraph's TOO_MANY_REQUESTS (say, identity's sign-up throttle) is the client's HTTP
    429 with Retry-After, as the subgraph itself answered it: the status and the seconds."""
    results = body if isinstance(body, list) else [body]
    waits = [
        (e.get("extensions") or {}).get("retryAfter")
        for r in results if isinstance(r, dict)
        for e in r.get("errors") or () if isinstance(e, dict)
        and (e.get("extensions") or {}).get("code") == "TOO_MANY_REQUESTS"
    ]
    seconds = [w for w in waits if isinstance(w, int) and w > 0]
    return (429 if waits else status), (max(seconds) if seconds else None)


def _answer(gateway: Any, body: Any, status: int) -> Response:
    """The encoded answer, within the response byte limit, throttling passed on."""
    status, retry_after = _throttled(body, status)
    response = _encoded(*gateway.encode(body, status))
    if retry_after is not None:
        response.headers["retry-after"] = str(retry_after)
    return response


def create_app(
    settings: Settings | None = None,
    *,
    config: GatewayConfig | None = None,
    supergraph_sdl: str | None = None,
    subgraph_url_overrides: dict[str, str] | None = None,
    verifier: JWKSVerifier | None = None,
) -> Starlette:
    settings = settings or load_settings()
    config = config or load_gateway_config(settings.production)
    sdl = supergraph_sdl if supergraph_sdl is not None else config.supergraph_path.read_text()
    supergraph = load_supergraph(sdl)
    urls = subgraph_urls(supergraph, settings)
    urls.update(subgraph_url_overrides or {})
    timeouts = {name: config.subgraph_timeouts.get(name, config.subgraph_timeout) for name in urls}
    state: dict[str, Any] = {}
    jwks = verifier or JWKSVerifier(
        settings.jwks_url, issuer=settings.public_base_url, audience=settings.api_audience
    )
    auth = Verifier(jwks)
    proxy = Proxy({"identity": settings.service_urls["identity"],
                   "submittal": settings.service_urls["submittal"]})

    def gateway() -> Gateway:
        return state["gateway"]  # type: ignore[no-any-return]

    def forwarded(request: Request) -> dict[str, str]:
        headers = {}
        auth_header = request.headers.get("authorization")
        if auth_header:
            headers["authorization"] = auth_header
        rid = request.scope.get("state", {}).get("request_id") or request.headers.get(
            "x-request-id"
        )
        if rid:
            headers["x-request-id"] = rid
        for name in config.forward_headers:
            value = request.headers.get(name)
            if value is not None:
                headers[name] = value
        if request.client:
            # Like any proxy: the chain so far plus the address we saw, so a subgraph that
            # throttles per client (identity's sign-ups) can find the client behind us.
            chain = ", ".join(request.headers.getlist("x-forwarded-for"))
            headers["x-forwarded-for"] = (
                f"{chain}, {request.client.host}" if chain else request.client.host
            )
        return headers

    async def authenticate(request: Request) -> Response | None:
        try:
            await auth.check(request.headers.get("authorization"))
        except AuthError as exc:
            status = 503 if exc.code == "UNAVAILABLE" else 401
            return _json(error_body(exc.message, exc.code), status)
        return None

    async def graphql_post(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > config.max_body_bytes:
            return _too_large(config)
        body = bytearray()
        try:
            # A client trickling its body must not hold the connection open for ever.
            async with asyncio.timeout(config.body_timeout):
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > config.max_body_bytes:
                        return _too_large(config)
        except TimeoutError:
            return _json(error_body(
                f"The request body did not arrive within {config.body_timeout:g} seconds.",
                "BAD_USER_INPUT", limit="body_time", max=config.body_timeout), 408)
        if "text/event-stream" in request.headers.get("accept", ""):
            # GraphQL over SSE (graphql-sse, distinct connections): it authenticates itself.
            endpoints: LiveEndpoints = state["live_endpoints"]
            return await endpoints.sse(request, bytes(body))
        refused = await authenticate(request)
        if refused is not None:
            return refused
        try:
            # A large body is read off the event loop, like every CPU-heavy step.
            payload = (json.loads(body) if len(body) < _INLINE_JSON_BYTES
                       else await gateway().offload.run(json.loads, bytes(body)))
        except (ValueError, RecursionError):
            return _json(error_body("The body is not valid JSON.", "BAD_USER_INPUT"), 400)
        headers = forwarded(request)
        if isinstance(payload, list):
            if not payload or len(payload) > config.max_batch:
                return _json(error_body(
                    f"A batch holds 1 to {config.max_batch} operations; this one has "
                    f"{len(payload)}.", "BAD_USER_INPUT", limit="batch", max=config.max_batch,
                    actual=len(payload)), 400)
            results = [await gateway().execute(p, headers) for p in payload]
            return _answer(gateway(), [r for r, _ in results], 200)
        result, status = await gateway().execute(payload, headers)
        return _answer(gateway(), result, status)

    async def graphql_get(request: Request) -> Response:
        query = request.query_params.get("query")
        if query is None:
            if not config.introspection:
                return _json(error_body("GraphiQL is disabled.", "FORBIDDEN"), 404)
            return HTMLResponse(GRAPHIQL_HTML)
        refused = await authenticate(request)
        if refused is not None:
            return refused
        payload: dict[str, Any] = {"query": query}
        if request.query_params.get("operationName"):
            payload["operationName"] = request.query_params["operationName"]
        if request.query_params.get("variables"):
            try:
                payload["variables"] = json.loads(request.query_params["variables"])
            except (ValueError, RecursionError):
                return _json(error_body("'variables' is not JSON.", "BAD_USER_INPUT"), 400)
        result, status = await gateway().execute(
            payload, forwarded(request), allow_mutation=False
        )
        return _encoded(*gateway().encode(result, status))

    def plan_of(payload: Any) -> Any:
        prepared = gateway().operations.get(
            str(payload.get("query", "")), payload.get("operationName")
        )
        return prepared.plan(payload.get("variables") or {}).describe()

    async def plan_endpoint(request: Request) -> Response:
        # For operators, on the internal port only: the plan of an operation, without running
        # it. Planning is CPU work, so it runs off the event loop like a client's.
        try:
            body = await request.body()
            if len(body) > config.max_body_bytes:
                return _too_large(config)
            plan = await gateway().offload.run(plan_of, json.loads(body))
        except OperationError as exc:
            return _json(error_body(exc.message, exc.code, **exc.extensions), 400)
        except (ValueError, AttributeError, RecursionError, PlanError) as exc:
            return _json(error_body(f"Cannot plan this request: {exc}", "BAD_USER_INPUT"), 400)
        return JSONResponse(plan)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        client = SubgraphClient(urls, timeouts, config.subgraph_timeout,
                                max_response_bytes=config.max_response_bytes)
        state["gateway"] = Gateway(supergraph, client, config, state.get("metrics"))
        live = LiveGateway(state["gateway"], urls, ping_seconds=config.keep_alive)
        state["live_endpoints"] = LiveEndpoints(live, jwks, config)
        log.info("gateway serving %d subgraphs: %s", len(urls), urls)
        try:
            yield
        finally:
            await live.aclose()
            await client.aclose()
            await proxy.aclose()
            state["gateway"].offload.close()
            if verifier is None:
                await jwks.aclose()

    def readiness(name: str):  # type: ignore[no-untyped-def]
        async def check() -> tuple[bool, Any]:
            return await gateway().client.get_health(name)

        return check

    async def graphql_ws(websocket: WebSocket) -> None:
        await state["live_endpoints"].websocket(websocket)

    routes: list[BaseRoute] = [
        Route("/graphql", graphql_post, methods=["POST"]),
        WebSocketRoute("/graphql", graphql_ws),
        Route("/graphql", graphql_get, methods=["GET"]),
        *proxy.routes(),
    ]
    routes.append(Mount("/", PortalFiles(config.portal_dir), name="portal"))
    app = create_base_app(
        "gateway", routes=routes, readiness={n: readiness(n) for n in urls}, lifespan=lifespan,
        ops_routes=[Route("/graphql/plan", plan_endpoint, methods=["POST"])],
    )
    app.state.gateway_state = state
    state["metrics"] = GatewayMetrics(app.state.metrics.registry)

    def live_count(attribute: str) -> Callable[[], float]:
        def read() -> float:
            endpoints = state.get("live_endpoints")
            return float(getattr(endpoints.live, attribute)) if endpoints else 0.0

        return read

    Gauge("gateway_live_subscriptions", "Client subscriptions running",
          registry=app.state.metrics.registry).set_function(live_count("active"))
    Gauge("gateway_live_upstream_subscriptions", "Subscriptions to subgraphs, each shared by "
          "the clients of one operation, variables and token",
          registry=app.state.metrics.registry).set_function(
              lambda: float(len(state["live_endpoints"].live.groups))
              if state.get("live_endpoints") else 0.0)
    Gauge("gateway_live_events_delivered", "Events delivered to clients since start",
          registry=app.state.metrics.registry).set_function(live_count("delivered"))
    return app


def _too_large(config: GatewayConfig) -> Response:
    return _json(error_body(
        f"The request body is larger than {config.max_body_bytes} bytes.", "BAD_USER_INPUT",
        limit="body", max=config.max_body_bytes), 413)
