"""Auth, forwarded headers, limits, timeouts, failing subgraphs and one-origin proxying."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from common.natsserver import free_port
from gateway.planner import Planner
from tests.gateway.conftest import OPS_URLS, Client, Federation, mint_token
from tests.gateway.subgraphs import core as subgraphs


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def test_a_valid_token_is_forwarded_to_the_subgraphs(client: Client) -> None:
    token = mint_token()
    result = await client.post("{ me { authorization } }", token=token)
    assert result == {"data": {"me": {"authorization": f"Bearer {token}"}}}


async def test_anonymous_callers_reach_the_subgraphs_without_a_token(client: Client) -> None:
    assert await client.post("{ me { authorization } }") == {
        "data": {"me": {"authorization": None}}
    }


@pytest.mark.parametrize("token", [
    "not-a-jwt",
    mint_token(exp=1_000_000),
    mint_token(aud="someone-else"),
    mint_token(iss="http://evil.test"),
])
async def test_an_invalid_token_is_refused_before_any_subgraph_call(
    client: Client, token: str
) -> None:
    subgraphs.CALLS.clear()
    response = await client.raw("{ me { id } }", token=token)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert subgraphs.CALLS == []


async def test_a_non_bearer_authorization_header_is_refused(client: Client) -> None:
    response = await client.raw("{ me { id } }", headers={"authorization": "Basic YTpi"})
    assert response.status_code == 401


async def test_only_authorization_request_id_and_allow_listed_headers_are_forwarded(
    core: Federation, http: httpx.AsyncClient
) -> None:
    base = core.gateway(forward_headers=frozenset({"x-tenant"}))
    query = """{ me { rid: forwarded(name: "x-request-id") tenant: forwarded(name: "x-tenant")
                  cookie: forwarded(name: "cookie") secret: forwarded(name: "x-secret") } }"""
    response = await http.post(base + "/graphql", json={"query": query}, headers={
        "x-request-id": "req-42", "x-tenant": "t1", "cookie": "session=abc", "x-secret": "s",
    })
    assert response.json() == {
        "data": {"me": {"rid": "req-42", "tenant": "t1", "cookie": None, "secret": None}}
    }
    assert response.headers["x-request-id"] == "req-42"


async def test_subgraphs_get_the_forwarded_for_chain_with_the_address_the_gateway_saw(
    core: Federation, http: httpx.AsyncClient
) -> None:
    base = core.gateway()
    query = '{ me { chain: forwarded(name: "x-forwarded-for") } }'
    alone = await http.post(base + "/graphql", json={"query": query})
    proxied = await http.post(base + "/graphql", json={"query": query},
                              headers={"x-forwarded-for": "203.0.113.9, 10.0.0.2"})
    assert alone.json()["data"]["me"]["chain"] == "127.0.0.1"
    assert proxied.json()["data"]["me"]["chain"] == "203.0.113.9, 10.0.0.2, 127.0.0.1"


def test_a_subgraphs_too_many_requests_is_the_clients_429_with_retry_after() -> None:
    from gateway.app import _throttled

    error = {"message": "slow down", "path": ["registerAccount"],
             "extensions": {"code": "TOO_MANY_REQUESTS", "retryAfter": 120}}
    assert _throttled({"data": None, "errors": [error]}, 200) == (429, 120)
    batch = [{"data": {"a": 1}}, {"data": None, "errors": [error]}]
    assert _throttled(batch, 200) == (429, 120)
    other = {"data": None, "errors": [{"message": "x", "extensions": {"code": "FORBIDDEN"}}]}
    assert _throttled(other, 200) == (200, None)


@pytest.mark.parametrize(("config", "query", "limit"), [
    ({"max_depth": 3}, "{ me { memberships { organization { facilities { name } } } } }",
     "depth"),
    ({"max_aliases": 2}, "{ a: me { id } b: me { id } c: me { id } }", "aliases"),
    ({"max_cost": 50}, "{ facilities(first: 100) { name cersId } }", "cost"),
])
async def test_operations_over_a_limit_get_a_coded_error(
    core: Federation, http: httpx.AsyncClient, config: dict[str, int], query: str, limit: str
) -> None:
    base = core.gateway(**config)
    response = await http.post(base + "/graphql", json={"query": query})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["limit"] == limit
    assert "limit" in error["message"]


async def test_bodies_and_batches_over_their_limits_are_refused(
    core: Federation, http: httpx.AsyncClient
) -> None:
    base = core.gateway(max_body_bytes=200, max_batch=2)
    big = await http.post(base + "/graphql", json={"query": "{ me { id } }" + " " * 300})
    assert big.status_code == 413
    assert big.json()["errors"][0]["extensions"]["limit"] == "body"
    three = [{"query": "{ me { id } }"}] * 3
    refused = await http.post(base + "/graphql", json=three)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["limit"] == "batch"
    two = await http.post(base + "/graphql", json=three[:2])
    assert two.json() == [{"data": {"me": {"id": "u1"}}}] * 2


async def test_a_slow_subgraph_times_out_and_the_rest_of_the_data_is_returned(
    core: Federation, http: httpx.AsyncClient
) -> None:
    base = core.gateway(subgraph_timeouts={"users": 0.3})
    response = await http.post(base + "/graphql", json={
        "query": '{ facility(id: "f1") { name } me { slow(seconds: 3) } }'
    })
    body = response.json()
    assert response.status_code == 200
    assert body["data"] == {"facility": {"name": "Acme Yard"}, "me": None}
    [error] = body["errors"]
    assert error["path"] == ["me"]
    assert error["extensions"] == {"code": "UNAVAILABLE", "serviceName": "users"}


async def test_a_down_subgraph_nulls_only_what_it_owns(
    core: Federation, http: httpx.AsyncClient
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    base = core.gateway(urls={**core.urls, "elements": dead})
    response = await http.post(base + "/graphql", json={
        "query": '{ me { name } facility(id: "f1") { name elementCount } }'
    })
    body = response.json()
    assert response.status_code == 200
    # elementCount is Int!, so its null propagates to the nullable facility.
    assert body["data"] == {"me": {"name": "Alice Lee"}, "facility": None}
    assert body["errors"][0]["extensions"]["serviceName"] == "elements"
    assert body["errors"][0]["path"][:1] == ["facility"]
    ready = await http.get(OPS_URLS[base] + "/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["elements"]["ok"] is False
    assert ready.json()["checks"]["users"]["ok"] is True


async def test_graphiql_is_served_on_get_and_introspection_can_be_switched_off(
    core: Federation, http: httpx.AsyncClient, core_gateway: str
) -> None:
    page = await http.get(core_gateway + "/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    got = await http.get(core_gateway + "/graphql", params={"query": "{ me { id } }"})
    assert got.json() == {"data": {"me": {"id": "u1"}}}
    no_mutation = await http.get(core_gateway + "/graphql",
                                 params={"query": 'mutation { addNote(text: "x") }'})
    assert no_mutation.status_code == 405
    closed = core.gateway(introspection=False)
    response = await http.post(
        closed + "/graphql", json={"query": "{ __schema { types { name } } }"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await http.get(closed + "/graphql")).status_code == 404
    still = await http.post(closed + "/graphql", json={"query": "{ me { __typename id } }"})
    assert still.json() == {"data": {"me": {"__typename": "User", "id": "u1"}}}


async def test_identity_and_document_paths_are_proxied_to_one_origin(
    core: Federation, http: httpx.AsyncClient
) -> None:
    async def discovery(request: Request) -> Response:
        return JSONResponse({"issuer": "x", "host": request.headers.get("x-forwarded-host")})

    async def authorize(request: Request) -> Response:
        return RedirectResponse("/account/sign-in?" + request.url.query, status_code=302)

    async def sign_in(request: Request) -> Response:
        body = await request.body()
        response = JSONResponse({"method": request.method, "body": body.decode()})
        response.set_cookie("sid", "abc")
        return response

    async def document(request: Request) -> Response:
        return Response(b"%PDF-1.4 " + request.path_params["rest"].encode(),
                        media_type="application/pdf")

    identity = core.threads.serve(Starlette(routes=[
        Route("/.well-known/openid-configuration", discovery),
        Route("/authorize", authorize),
        Route("/account/sign-in", sign_in, methods=["GET", "POST"]),
    ]))
    submittal = core.threads.serve(Starlette(routes=[Route("/documents/{rest:path}", document)]))
    settings = {"service_urls": {"identity": identity, "facility": identity,
                                 "submittal": submittal}}
    base = core.gateway(settings=settings)
    disco = await http.get(base + "/.well-known/openid-configuration")
    assert disco.json()["issuer"] == "x"
    redirect = await http.get(base + "/authorize?client_id=web&state=s")
    assert redirect.status_code == 302
    assert redirect.headers["location"] == "/account/sign-in?client_id=web&state=s"
    posted = await http.post(base + "/account/sign-in", data={"username": "alice"})
    assert posted.json() == {"method": "POST", "body": "username=alice"}
    assert posted.cookies.get("sid") == "abc"
    pdf = await http.get(base + "/documents/d1/download")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content == b"%PDF-1.4 d1/download"


async def test_the_portal_is_served_at_the_root_with_deep_links_and_without_hiding_the_api(
    core: Federation, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    missing = core.gateway(portal_dir=tmp_path / "not-built")
    assert "npm run build" in (await http.get(missing + "/")).text
    portal = tmp_path / "dist"
    (portal / "assets").mkdir(parents=True)
    (portal / "index.html").write_text("<html>portal</html>")
    (portal / "assets" / "app.js").write_text("console.log(1)")
    base = core.gateway(portal_dir=portal)
    assert (await http.get(base + "/")).text == "<html>portal</html>"
    deep = await http.get(base + "/facilities/123")
    assert deep.status_code == 200 and deep.text == "<html>portal</html>"
    assert (await http.get(base + "/assets/app.js")).text == "console.log(1)"
    assert (await http.get(base + "/assets/missing.js")).status_code == 404
    assert (await http.get(base + "/healthz")).json()["service"] == "gateway"
    api = await http.post(base + "/graphql", json={"query": "{ me { id } }"})
    assert api.json() == {"data": {"me": {"id": "u1"}}}


async def test_metrics_count_subgraph_calls_and_plan_cache_hits(
    core: Federation, http: httpx.AsyncClient
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    base = core.gateway(urls={**core.urls, "elements": dead})
    for _ in range(2):
        await http.post(base + "/graphql", json={"query": '{ facility(id: "f1") { name } }'})
    await http.post(base + "/graphql", json={"query": '{ element(id: "e1") { id } }'})
    await http.post(base + "/graphql", json={"query": "{ nope }"})
    metrics = (await http.get(OPS_URLS[base] + "/metrics")).text
    assert 'gateway_operations_total{cache="hit"} 1.0' in metrics
    assert 'gateway_operations_total{cache="miss"} 2.0' in metrics
    assert 'gateway_operations_total{cache="refused"} 1.0' in metrics
    assert 'gateway_subgraph_requests_total{outcome="ok",service="orgs"} 2.0' in metrics
    assert 'gateway_subgraph_requests_total{outcome="failed",service="elements"} 1.0' in metrics


async def test_a_subgraph_that_drifted_from_the_supergraph_nulls_its_fields_with_a_path(
    core: Federation, http: httpx.AsyncClient
) -> None:
    drifted = core.supergraph_sdl.replace(
        "  flaky: String @join__field(graph: USERS)",
        "  flaky: String @join__field(graph: USERS)\n  ghost: String @join__field(graph: USERS)",
    )
    base = core.gateway(sdl=drifted)
    response = await http.post(base + "/graphql", json={
        "query": '{ me { id ghost } facility(id: "f2") { name } }'
    })
    body = response.json()
    assert response.status_code == 200
    assert body["data"] == {"me": None, "facility": {"name": "Acme Depot"}}
    assert body["errors"][0]["path"] == ["me"]
    assert body["errors"][0]["extensions"]["serviceName"] == "users"
    assert "ghost" in body["errors"][0]["message"]


async def test_a_gateway_bug_is_an_internal_server_error_logged_with_the_operation_hash(
    core: Federation, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(_: Planner) -> None:
        raise RuntimeError("a planner bug")

    monkeypatch.setattr(Planner, "plan", broken)
    base = core.gateway()
    query = '{ facility(id: "f1") { name } }'
    with caplog.at_level(logging.ERROR, logger="gateway.core"):
        response = await http.post(base + "/graphql", json={"query": query})
    # Never UNAVAILABLE: nothing is down, the gateway failed.
    assert response.status_code == 500
    [error] = response.json()["errors"]
    digest = hashlib.sha256(query.encode()).hexdigest()
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "operationHash": digest}
    [record] = [r for r in caplog.records if r.name == "gateway.core"]
    assert digest in record.getMessage() and record.exc_info is not None


async def test_a_client_trickling_its_body_gets_a_coded_408_and_the_connection_is_freed(
    core: Federation,
) -> None:
    base = core.gateway(body_timeout=0.5)
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(b"POST /graphql HTTP/1.1\r\nHost: gateway\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"qu")
        await writer.drain()
        async with asyncio.timeout(15):  # the gateway answers before the body is done
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
            body = await reader.readexactly(length)
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 408"), head
    error = json.loads(body)["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["limit"] == "body_time"
