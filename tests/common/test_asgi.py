from __future__ import annotations

import json
import logging

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from common.asgi import create_app
from common.logs import JsonFormatter


async def _hello(request: Request) -> JSONResponse:
    logging.getLogger("test.hello").info("saying hello", extra={"who": "world"})
    return JSONResponse({"hello": "world"})


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_health_and_readiness_answer_when_every_check_passes() -> None:
    async def db_ok():
        return True, "ok"

    app = create_app("demo", readiness={"database": db_ok})
    async with _client(app) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok", "service": "demo"}
        # Readiness and metrics are for operators: only on the internal port's app.
        assert (await client.get("/readyz")).status_code == 404
        assert (await client.get("/metrics")).status_code == 404
    async with _client(app.state.ops) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok", "service": "demo"}
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == {"ok": True, "detail": "ok"}


async def test_readiness_fails_and_says_why_when_a_check_fails_or_raises() -> None:
    async def nats_down():
        return False, {"nats": "disconnected"}

    async def db_broken():
        raise ConnectionRefusedError("connection refused by 127.0.0.1:5432")

    app = create_app("demo", readiness={"nats": nats_down, "database": db_broken})
    async with _client(app.state.ops) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["nats"] == {"ok": False, "detail": {"nats": "disconnected"}}
    assert "connection refused" in checks["database"]["detail"]


async def test_request_id_is_propagated_or_assigned_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app("demo", routes=[Route("/hello", _hello)])
    formatter = JsonFormatter("demo")
    with caplog.at_level(logging.INFO, logger="test.hello"):
        async with _client(app) as client:
            given = await client.get("/hello", headers={"x-request-id": "abc-123"})
            assigned = await client.get("/hello")
    assert given.headers["x-request-id"] == "abc-123"
    assert len(assigned.headers["x-request-id"]) == 32
    lines = [json.loads(formatter.format(r)) for r in caplog.records if r.name == "test.hello"]
    assert lines[0]["request_id"] == "abc-123"
    assert lines[0]["who"] == "world"
    assert lines[0]["service"] == "demo"


async def test_metrics_are_exposed_in_prometheus_format() -> None:
    app = create_app("demo", routes=[Route("/hello", _hello)])
    async with _client(app) as client:
        await client.get("/hello")
    async with _client(app.state.ops) as client:
        metrics = await client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'http_requests_total{method="GET",route="/hello",service="demo",status="200"} 1.0' in (
        metrics.text
    )
