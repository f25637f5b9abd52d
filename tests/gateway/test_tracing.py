"""The gateway's spans (operation, plan steps, subgraph fetches), the traceparent it sends,
and its per-operation metrics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CollectorRegistry

from common.natsserver import free_port
from gateway.core import outcome_of
from gateway.metrics import MAX_OPERATION_NAMES, GatewayMetrics
from tests.gateway.conftest import OPS_URLS, REQUESTS, Federation, mint_token, requests_to
from tests.tracing import Spans, is_child

YARD = """query Yard($id: ID!) {
  me { tp: forwarded(name: "traceparent") }
  facility(id: $id) { id: name elementCount }
}"""


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def test_an_operation_is_one_span_with_a_span_per_plan_step_and_per_subgraph_fetch(
    spans: Spans, core: Federation, http: httpx.AsyncClient
) -> None:
    base = core.gateway()
    response = await http.post(base + "/graphql", json={
        "query": YARD, "operationName": "Yard", "variables": {"id": "f1"}})
    body = response.json()
    assert body["data"]["facility"] == {"id": "Acme Yard", "elementCount": 2}

    [server] = spans.server_spans()
    operation = spans.one("query Yard")
    assert is_child(operation, server)
    assert operation.attributes["graphql.operation.name"] == "Yard"
    assert operation.attributes["graphql.operation.type"] == "query"
    assert operation.attributes["graphql.document.hash"].startswith("sha256:")
    assert operation.attributes["cers.outcome"] == "ok"
    first, second = sorted(spans.named("plan step"), key=lambda s: s.attributes["gateway.step"])
    assert is_child(first, operation) and is_child(second, operation)
    fetches = {s.name: s for s in spans.all() if s.name.startswith("fetch ")}
    assert set(fetches) == {"fetch users", "fetch orgs", "fetch elements"}
    assert all(f.kind is SpanKind.CLIENT for f in fetches.values())
    assert is_child(fetches["fetch users"], first) and is_child(fetches["fetch orgs"], first)
    assert is_child(fetches["fetch elements"], second)
    assert fetches["fetch elements"].attributes["gateway.entity_fetch"] is True
    # The subgraph got the W3C context of the fetch that called it.
    users = fetches["fetch users"].context
    _, trace_id, span_id, _ = body["data"]["me"]["tp"].split("-")
    assert (trace_id, span_id) == (f"{users.trace_id:032x}", f"{users.span_id:016x}")
    # The operation's hash and name, never its variables.
    recorded = json.dumps([dict(s.attributes or {}) for s in spans.all()])
    assert '"f1"' not in recorded


async def test_a_failing_subgraph_marks_its_fetch_and_the_operation_as_errors(
    spans: Spans, core: Federation, http: httpx.AsyncClient
) -> None:
    base = core.gateway(urls={**core.urls, "elements": f"http://127.0.0.1:{free_port()}"})
    await http.post(base + "/graphql", json={"query": YARD, "variables": {"id": "f1"}})
    fetch = spans.one("fetch elements")
    assert fetch.status.status_code is StatusCode.ERROR
    assert fetch.attributes["cers.outcome"] == "failed"
    operation = spans.one("query Yard")
    assert operation.status.status_code is StatusCode.ERROR
    assert operation.attributes["cers.outcome"] == "server_error"


async def test_identical_queries_in_flight_still_share_a_call_when_traced(
    spans: Spans, core: Federation, http: httpx.AsyncClient
) -> None:
    base = core.gateway()
    query = {"query": "{ me { slow(seconds: 0.5) } }"}
    token = {"authorization": f"Bearer {mint_token('u1')}"}
    REQUESTS.clear()
    await asyncio.gather(*(http.post(base + "/graphql", json=query, headers=token)
                           for _ in range(4)))
    # Each fetch has its own traceparent; the call is shared all the same.
    assert len(spans.named("fetch users")) == 4
    assert 1 <= len(requests_to("core/users")) < 4


async def test_operations_are_counted_and_timed_by_name_type_and_outcome(
    spans: Spans, core: Federation, http: httpx.AsyncClient
) -> None:
    base = core.gateway(urls={**core.urls, "elements": f"http://127.0.0.1:{free_port()}"})
    await http.post(base + "/graphql", json={"query": YARD, "variables": {"id": "f1"}})
    await http.post(base + "/graphql", json={"query": "query Me { me { id } }"})
    await http.post(base + "/graphql", json={"query": "{ me { id } }"})
    await http.post(base + "/graphql", json={"query": "query Bad { nope }"})
    await http.post(base + "/graphql", json={"query": "{"})
    ops = OPS_URLS[base] + "/metrics"
    text = (await http.get(ops)).text
    for sample in (
        'gateway_operation_requests_total{operation="Yard",outcome="server_error",type="query"}'
        " 1.0",
        'gateway_operation_requests_total{operation="Me",outcome="ok",type="query"} 1.0',
        'gateway_operation_requests_total{operation="anonymous",outcome="ok",type="query"} 1.0',
        'gateway_operation_requests_total{operation="unparsed",outcome="refused",'
        'type="unparsed"} 2.0',
        'gateway_operation_duration_seconds_count{operation="Me",type="query"} 1.0',
    ):
        assert sample in text, sample
    open_metrics = (await http.get(ops, headers={
        "accept": "application/openmetrics-text; version=1.0.0"})).text
    me = spans.one("query Me").context
    assert any(line.startswith("gateway_operation_duration_seconds_bucket{")
               and 'operation="Me"' in line and f'trace_id="{me.trace_id:032x}"' in line
               for line in open_metrics.splitlines())
    assert any(line.startswith("gateway_subgraph_request_duration_seconds_bucket")
               and "trace_id=" in line for line in open_metrics.splitlines())


def test_operation_names_past_the_limit_share_one_label() -> None:
    metrics = GatewayMetrics(CollectorRegistry())
    for i in range(MAX_OPERATION_NAMES + 5):
        metrics.observe_operation(f"Op{i}", "query", "ok", 0.01)
    metrics.observe_operation("Op0", "query", "ok", 0.01)
    metrics.observe_operation("x" * 10_000, "query", "ok", 0.01)
    registry = metrics.operation_requests
    names = {s.labels["operation"] for s in registry.collect()[0].samples}
    assert len(names) == MAX_OPERATION_NAMES + 1 and "other" in names
    assert metrics.operation_label("Op0") == "Op0"
    assert all(len(name) <= 100 for name in names)


@pytest.mark.parametrize(("body", "status", "outcome"), [
    ({"data": {"a": 1}}, 200, "ok"),
    ({"data": None, "errors": [{"message": "no", "extensions": {"code": "FORBIDDEN"}}]}, 200,
     "client_error"),
    ({"data": None, "errors": [{"message": "down", "extensions": {"code": "UNAVAILABLE"}}]}, 200,
     "server_error"),
    ({"data": None, "errors": [{"message": "Internal error."}]}, 200, "server_error"),
    ({"errors": [{"message": "bad", "extensions": {"code": "BAD_USER_INPUT"}}]}, 400, "refused"),
    ({"errors": [{"message": "bug"}]}, 500, "failed"),
])
def test_outcomes_tell_the_callers_mistakes_from_the_systems(
    body: dict, status: int, outcome: str
) -> None:
    assert outcome_of(body, status) == outcome
