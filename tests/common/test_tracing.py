"""Tracing in one process: switched off without an endpoint, the sampler, the spans of a
subgraph's operation and its database work, log lines with trace ids, and exemplars."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
import strawberry
from opentelemetry import trace
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision, ParentBased
from opentelemetry.trace import SpanKind
from sqlalchemy import text

from common import tracing
from common.asgi import create_app
from common.auth import JWKSVerifier
from common.db import Database
from common.graphql import context_of, federation_schema, graphql_route
from common.logs import JsonFormatter
from tests.tracing import Spans, is_child

REMOTE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
REMOTE_PARENT = "00f067aa0ba902b7"


@strawberry.type
class Query:
    @strawberry.field
    async def count(self, info: strawberry.Info, secret: str) -> int:
        db: Database = context_of(info).extra["db"]
        async with db.read() as session:
            return int((await session.execute(text("SELECT 41 + 1"))).scalar_one())


schema = federation_schema(Query)


def test_without_an_endpoint_nothing_is_installed_and_nothing_travels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert tracing.configure_tracing("test") is False
    assert not tracing.enabled()
    with tracing.tracer("t").start_as_current_span("x") as span:
        assert not span.is_recording()
        headers = {"authorization": "Bearer t"}
        assert tracing.headers_with_context(headers) is headers
        assert tracing.stored_context() is None
        assert tracing.current_ids() is None
    app = create_app("test")
    assert all(m.cls is not tracing.asgi_middleware for m in app.user_middleware)


@pytest.mark.parametrize(("sampler", "ratio", "problem"), [
    ("sometimes", "0.5", "OTEL_TRACES_SAMPLER='sometimes' is not one of"),
    ("parentbased_traceidratio", "5%", "OTEL_TRACES_SAMPLER_ARG='5%' must be a ratio"),
    ("traceidratio", "1.5", "must be a ratio from 0 to 1"),
])
def test_a_sampler_setting_that_makes_no_sense_stops_the_process_saying_why(
    monkeypatch: pytest.MonkeyPatch, sampler: str, ratio: str, problem: str
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", sampler)
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", ratio)
    with pytest.raises(SystemExit, match=problem):
        tracing.configure_tracing("facility")
    assert not tracing.enabled()


@pytest.mark.parametrize(("sampler", "ratio", "description"), [
    ("parentbased_traceidratio", "0.01", "ParentBased{root:TraceIdRatioBased{0.01}"),
    ("traceidratio", "1", "TraceIdRatioBased{1.0}"),
    ("parentbased_always_off", "1", "ParentBased{root:AlwaysOffSampler"),
])
def test_the_sampler_is_the_one_the_variables_name(
    monkeypatch: pytest.MonkeyPatch, sampler: str, ratio: str, description: str
) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", sampler)
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", ratio)
    assert description in tracing.sampler_from_env().get_description()


def test_database_and_http_calls_outside_any_trace_are_not_sampled() -> None:
    sampler = tracing.NoOrphanClientSpans(ParentBased(ALWAYS_ON))
    orphan = sampler.should_sample(None, 1, "SELECT", SpanKind.CLIENT)
    assert orphan.decision is Decision.DROP
    assert sampler.should_sample(None, 1, "POST /graphql", SpanKind.SERVER).decision is (
        Decision.RECORD_AND_SAMPLE
    )
    parent = trace.set_span_in_context(trace.NonRecordingSpan(trace.SpanContext(
        1, 2, is_remote=False, trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED))))
    child = sampler.should_sample(parent, 1, "SELECT", SpanKind.CLIENT)
    assert child.decision is Decision.RECORD_AND_SAMPLE


async def test_a_subgraph_operation_is_a_span_under_the_callers_with_its_statements_beneath(
    spans: Spans, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    verifier = JWKSVerifier("http://127.0.0.1:9/jwks.json", issuer="i", audience="a")
    app = create_app("probe", routes=[
        graphql_route("/graphql", schema, verifier, {"db": db}, graphiql=False)
    ])
    query = "query Counting($s: String!) { count(secret: $s) }"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://probe") as client:
        response = await client.post("/graphql", json={
            "query": query, "operationName": "Counting", "variables": {"s": "hunter2"},
        }, headers={"traceparent": f"00-{REMOTE_TRACE}-{REMOTE_PARENT}-01"})
    await db.dispose()
    assert response.json() == {"data": {"count": 42}}

    [server] = spans.server_spans()
    assert f"{server.context.trace_id:032x}" == REMOTE_TRACE
    assert f"{server.parent.span_id:016x}" == REMOTE_PARENT and server.parent.is_remote
    operation = spans.one("query Counting")
    assert is_child(operation, server)
    assert operation.attributes["graphql.operation.name"] == "Counting"
    assert operation.attributes["graphql.operation.type"] == "query"
    assert operation.attributes["graphql.document.hash"].startswith("sha256:")
    statements = [s for s in spans.all() if s.kind is SpanKind.CLIENT]
    assert statements and all(is_child(s, operation) for s in statements)
    assert any("SELECT 41 + 1" in str(s.attributes.get("db.statement", "")) or
               "SELECT 41 + 1" in str(s.attributes.get("db.query.text", "")) for s in statements)
    # Variables are never recorded anywhere.
    assert "hunter2" not in json.dumps([dict(s.attributes or {}) for s in spans.all()])


async def test_an_operation_that_fails_inside_marks_its_span_as_an_error(
    spans: Spans,
) -> None:
    verifier = JWKSVerifier("http://127.0.0.1:9/jwks.json", issuer="i", audience="a")
    app = create_app("probe", routes=[graphql_route("/graphql", schema, verifier, {"db": None})])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://probe") as client:
        await client.post("/graphql", json={"query": '{ count(secret: "x") }'})
        await client.post("/graphql", json={"query": "{ nope }"})
        await client.post("/graphql", json={"query": "{ nope"})
    failed, refused = spans.named("query")
    # No database: the resolver fails, which is the service's fault, not the caller's.
    assert failed.status.status_code is trace.StatusCode.ERROR
    assert refused.status.status_code is trace.StatusCode.UNSET
    assert refused.attributes["graphql.error.count"] == 1
    unparsed = spans.one("unparsed")
    assert unparsed.status.status_code is trace.StatusCode.UNSET


async def test_no_query_string_reaches_a_span(spans: Spans) -> None:
    app = create_app("probe")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://probe") as client:
        await client.get("/account/activate?token=s3cret-activation-token")
    [server] = spans.server_spans()
    recorded = json.dumps(dict(server.attributes or {}))
    assert "/account/activate" in recorded
    assert "s3cret" not in recorded and "token=" not in recorded


def test_every_log_line_inside_a_span_carries_its_trace_and_span_ids(spans: Spans) -> None:
    formatter = JsonFormatter("probe")
    logger = logging.getLogger("tests.tracing.probe")
    with tracing.tracer("t").start_as_current_span("work") as span:
        record = logger.makeRecord(logger.name, logging.INFO, __file__, 1, "inside", (), None)
    outside = logger.makeRecord(logger.name, logging.INFO, __file__, 1, "outside", (), None)
    line = json.loads(formatter.format(record))
    context = span.get_span_context()
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"
    assert "trace_id" not in json.loads(formatter.format(outside))


async def test_request_latency_carries_the_trace_id_as_an_exemplar_in_openmetrics(
    spans: Spans,
) -> None:
    app = create_app("probe")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://probe") as client:
        await client.get("/nowhere")
    [server] = spans.server_spans()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app.state.ops),
                                 base_url="http://ops") as ops:
        plain = await ops.get("/metrics")
        open_metrics = await ops.get("/metrics", headers={
            "accept": "application/openmetrics-text; version=1.0.0"})
    assert plain.headers["content-type"].startswith("text/plain")
    assert "trace_id" not in plain.text
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    exemplar = f'# {{trace_id="{server.context.trace_id:032x}"}}'
    assert any(line.startswith("http_request_duration_seconds_bucket") and exemplar in line
               for line in open_metrics.text.splitlines())
    assert open_metrics.text.rstrip().endswith("# EOF")
    assert "process_resident_memory_bytes" in plain.text
