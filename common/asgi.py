"""The ASGI app every process is built on: health, readiness, metrics and request ids.

Each process serves two apps: the public one (its routes and ``/healthz``, which reveals
nothing and lets load balancers check the public port) and, on its own internal port
(``<NAME>_OPS_PORT``), the operations app: ``/healthz``, ``/readyz``, ``/metrics`` and any
operator routes. Only the public port is in a Service the Ingress routes to.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Generator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.exposition import choose_encoder
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common import tracing
from common.logs import request_id_var

log = logging.getLogger(__name__)

# A readiness check answers (ok, detail); detail lands in the /readyz body for operators.
ReadinessCheck = Callable[[], Awaitable[tuple[bool, Any]]]

REQUEST_ID_HEADER = "x-request-id"
# Gauges read from the database are refreshed when Prometheus scrapes, within this time.
METRICS_REFRESH_SECONDS = 2.0


class Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total", "HTTP requests", ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds", "HTTP request latency", ["service", "route"],
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        self.service = service
        # Called (and awaited) before each scrape renders: gauges that need a query.
        self.refreshers: list[Callable[[], Awaitable[None]]] = []

    async def refresh(self) -> None:
        for refresh in self.refreshers:
            try:
                async with asyncio.timeout(METRICS_REFRESH_SECONDS):
                    await refresh()
            except Exception as exc:  # noqa: BLE001 - the last values stay; say why
                log.warning("metrics of %s: %s failed: %s: %s", self.service,
                            getattr(refresh, "__qualname__", refresh), type(exc).__name__, exc)


class RequestContextMiddleware:
    """Propagates or assigns ``x-request-id`` and records request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, REQUEST_ID_HEADER) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = _route_label(scope)
            self.metrics.requests.labels(
                self.metrics.service, scope["method"], route, str(status)
            ).inc()
            self.metrics.latency.labels(self.metrics.service, route).observe(
                time.perf_counter() - started, tracing.exemplar()
            )
            request_id_var.reset(token)


# Percent-encoded dots, slashes, backslashes and NULs, literal backslashes, dot segments and
# empty segments: spellings that proxies and routers may read as different paths.
_AMBIGUOUS = re.compile(r"%(?:2e|2f|5c|00|25)|\\|//|/\.\.?(?:/|$)", re.IGNORECASE)


class AmbiguousPathGuard:
    """Refuses a request whose path could name a different route to another reader, so no
    proxy in front can be talked past (``/documents/..%2fgraphql``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path")
            path = raw.decode("latin-1") if isinstance(raw, bytes) else scope.get("path", "")
            if _AMBIGUOUS.search(path.split("?", 1)[0]):
                body = json.dumps({"errors": [{
                    "message": "The request path has encoded or dot segments; send the path "
                               "as the route is spelled.",
                    "extensions": {"code": "BAD_USER_INPUT"},
                }]}).encode()
                await send({"type": "http.response.start", "status": 400, "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _header(scope: Scope, name: str) -> str | None:
    key = name.encode()
    for k, v in scope.get("headers", []):
        if k.lower() == key:
            value = v.decode("latin-1").strip()
            # Bound what we echo back and log: a request id is an opaque token, not a payload.
            return value[:128] if value else None
    return None


def _route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


async def _run_check(check: ReadinessCheck, seconds: float) -> tuple[bool, Any]:
    try:
        async with asyncio.timeout(seconds):
            return await check()
    except TimeoutError:
        return False, f"no answer within {seconds}s"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; say why
        return False, f"{type(exc).__name__}: {exc}"


def create_app(
    service: str,
    *,
    routes: Sequence[BaseRoute] = (),
    readiness: dict[str, ReadinessCheck] | None = None,
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None,
    readiness_timeout: float = 2.0,
    ops_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The public app; ``app.state.ops`` is the operations app for the internal port."""
    checks = dict(readiness or {})
    metrics = Metrics(service)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok", "service": service})

    async def readyz(_: Request) -> Response:
        names = list(checks)
        results = await asyncio.gather(*(_run_check(checks[n], readiness_timeout) for n in names))
        ready = all(ok for ok, _ in results)
        body = {
            "status": "ready" if ready else "not ready",
            "service": service,
            "checks": {
                n: {"ok": ok, "detail": d} for n, (ok, d) in zip(names, results, strict=True)
            },
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics_endpoint(request: Request) -> Response:
        # OpenMetrics when the scraper asks for it: only that format carries exemplars.
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        await metrics.refresh()
        return Response(encode(metrics.registry), headers={"content-type": content_type})

    app = Starlette(routes=[Route("/healthz", healthz), *routes], lifespan=lifespan)
    ops = Starlette(routes=[
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
        *ops_routes,
    ])
    ops.add_middleware(AmbiguousPathGuard)
    app.state.readiness = checks
    app.state.metrics = metrics
    app.state.ops = ops
    app.add_middleware(AmbiguousPathGuard)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    if tracing.enabled():
        # Outermost, so the request's log lines and metrics see its span.
        app.add_middleware(tracing.asgi_middleware)
    return app


class _OpsServer(uvicorn.Server):
    # The public server owns the signals; this one stops when that one does.
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def serve(app: Starlette, *, host: str, port: int, ops_port: int, **options: Any) -> None:
    """Runs ``app`` on ``port`` and its operations app on ``ops_port`` in this process until
    SIGINT/SIGTERM; exits with an error when either port cannot be served."""
    public = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options))
    ops = _OpsServer(uvicorn.Config(app.state.ops, host=host, port=ops_port, lifespan="off",
                                    **{**options, "access_log": False}))

    async def freeze_startup_objects(public_task: asyncio.Future[Any]) -> None:
        # What the process built to start (modules, schemas, metadata, caches: about 150,000
        # objects) lives as long as the process. Left in the collector's oldest generation,
        # every full collection walks all of it again: a 40-60 ms pause of the event loop at
        # random moments under load, which is what a request's or an event's p99 then shows.
        # uvicorn.Server offers only a flag for "started", no event to wait on.
        while not public.started and not public_task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if public.started:
            gc.collect()
            gc.freeze()

    async def both() -> None:
        ops_task = asyncio.ensure_future(ops.serve())
        public_task = asyncio.ensure_future(public.serve())
        freezing = asyncio.ensure_future(freeze_startup_objects(public_task))
        await asyncio.wait({ops_task, public_task}, return_when=asyncio.FIRST_COMPLETED)
        if not public_task.done():
            log.error("the operations port %d stopped; stopping the service", ops_port)
            public.should_exit = True
        ops.should_exit = True
        freezing.cancel()
        await asyncio.gather(public_task, ops_task, freezing, return_exceptions=True)
        for task in (ops_task, public_task):
            if isinstance(task.exception(), SystemExit):
                raise SystemExit(1)

    with asyncio.Runner(loop_factory=public.config.get_loop_factory()) as runner:
        runner.run(both())
