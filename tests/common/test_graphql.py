from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from strawberry.dataloader import DataLoader

from common.asgi import create_app
from common.auth import JWKSVerifier
from common.graphql import (
    Context,
    DocumentCache,
    PageInfo,
    Severity,
    UserError,
    coded_error,
    context_of,
    decode_cursor,
    document_cache,
    encode_cursor,
    federation_schema,
    graphql_route,
    require_principal,
)
from common.logs import JsonFormatter
from tests.common.test_auth import FakeIdentity, mint

batches: list[list[int]] = []


async def load_squares(keys: list[int]) -> list[int]:
    batches.append(list(keys))
    return [k * k for k in keys]


def squares(info: strawberry.Info) -> DataLoader[int, int]:
    return context_of(info).loader("squares", lambda: DataLoader(load_fn=load_squares))


@strawberry.type
class Viewer:
    sub: str | None
    portal: str | None
    statewide: bool


@strawberry.type
class Thing:
    name: str


@strawberry.type
class ThingConnection:
    names: list[str]
    page_info: PageInfo


@strawberry.type
class Payload:
    user_errors: list[UserError]


@strawberry.type
class Query:
    @strawberry.field
    def viewer(self, info: strawberry.Info) -> Viewer:
        principal = context_of(info).principal
        if principal is None:
            return Viewer(sub=None, portal=None, statewide=False)
        return Viewer(sub=principal.sub, portal=principal.portal, statewide=principal.is_statewide)

    @strawberry.field
    def me(self, info: strawberry.Info) -> str:
        return require_principal(info).sub

    @strawberry.field
    def broken(self) -> str | None:
        raise RuntimeError("password=hunter2 at db.internal:5432")

    @strawberry.field
    def forbidden(self) -> str | None:
        raise coded_error("FORBIDDEN", "You are not a lead user of this business.", reason="ROLE")

    @strawberry.field
    def tenant(self, info: strawberry.Info) -> str:
        return str(context_of(info).extra["tenant"])

    @strawberry.field
    async def square(self, info: strawberry.Info, n: int) -> int:
        return await squares(info).load(n)

    @strawberry.field
    def things(self, after: str | None = None) -> ThingConnection:
        start = decode_cursor(after)[0] if after else 0
        names = [f"thing-{i}" for i in range(start, start + 2)]
        return ThingConnection(
            names=names, page_info=PageInfo(has_next_page=True, end_cursor=encode_cursor(start + 2))
        )


@strawberry.type
class Mutation:
    @strawberry.mutation
    def validate(self, name: str) -> Payload:
        return Payload(
            user_errors=[
                UserError(field=["input", "name"], message="Too short", code="TOO_SHORT"),
                UserError(field=None, message="Odd", code="ODD", severity=Severity.WARNING),
            ]
        )


schema = federation_schema(Query, Mutation)


@pytest.fixture
async def identity() -> AsyncIterator[FakeIdentity]:
    async with FakeIdentity().running() as server:
        yield server


@pytest.fixture
async def verifier(identity: FakeIdentity) -> AsyncIterator[JWKSVerifier]:
    verifier = identity.verifier()
    yield verifier
    await verifier.aclose()


def client_for(verifier: JWKSVerifier, **options: Any) -> httpx.AsyncClient:
    options.setdefault("context_extra", {"tenant": "static"})
    app = create_app("test", routes=[graphql_route("/graphql", schema, verifier, **options)])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def post(
    client: httpx.AsyncClient, query: str, token: str | None = None, **headers: str
) -> httpx.Response:
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return await client.post("/graphql", json={"query": query}, headers=headers)


async def test_an_anonymous_request_reaches_resolvers_without_a_principal(verifier, identity):
    async with client_for(verifier) as client:
        response = await post(client, "{ viewer { sub portal statewide } }")

    assert response.status_code == 200
    viewer = {"sub": None, "portal": None, "statewide": False}
    assert response.json() == {"data": {"viewer": viewer}}
    assert identity.fetches == 0


async def test_a_valid_token_yields_its_principal(verifier, identity):
    token = mint(identity.ec, sub="state-reader", portal="state")

    async with client_for(verifier) as client:
        response = await post(client, "{ viewer { sub portal statewide } me }", token)

    assert response.json() == {
        "data": {
            "viewer": {"sub": "state-reader", "portal": "state", "statewide": True},
            "me": "state-reader",
        }
    }


async def test_an_anonymous_caller_of_a_protected_field_gets_unauthenticated(verifier):
    async with client_for(verifier) as client:
        response = await post(client, "{ me }")

    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["path"] == ["me"]


async def test_an_invalid_token_gets_401_unauthenticated(verifier, identity):
    expired = mint(identity.rsa, iat=1_600_000_000, exp=1_600_000_900)
    id_token = mint(identity.rsa, typ="JWT")
    async with client_for(verifier) as client:
        for token in (expired, id_token, "not-a-jwt"):
            response = await post(client, "{ viewer { sub } }", token)

            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
            body = response.json()
            assert list(body) == ["errors"]
            assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
            assert body["errors"][0]["message"]


async def test_a_non_bearer_authorization_header_gets_401(verifier):
    async with client_for(verifier) as client:
        response = await post(client, "{ viewer { sub } }", authorization="Basic dXNlcjpwYXNz")

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_unreachable_signing_keys_answer_503_unavailable(verifier, identity):
    identity.up = False
    async with client_for(verifier) as client:
        response = await post(client, "{ viewer { sub } }", mint(identity.rsa))

    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"


async def test_an_unexpected_error_is_logged_with_the_request_id_but_hidden(verifier, caplog):
    caplog.set_level(logging.INFO, logger="common.graphql")
    async with client_for(verifier) as client:
        response = await post(client, "{ broken viewer { sub } }", **{"x-request-id": "req-42"})

    body = response.json()
    assert body["data"] == {"broken": None, "viewer": {"sub": None}}
    [error] = body["errors"]
    assert error["message"].startswith("Internal error")
    assert "hunter2" not in response.text and "Traceback" not in response.text
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    line = json.loads(JsonFormatter("test").format(record))
    assert line["request_id"] == "req-42"
    assert "hunter2" in line["exc"]


async def test_a_coded_error_passes_through_unchanged(verifier):
    async with client_for(verifier) as client:
        response = await post(client, "{ forbidden }")

    [error] = response.json()["errors"]
    assert error["message"] == "You are not a lead user of this business."
    assert error["extensions"] == {"code": "FORBIDDEN", "reason": "ROLE"}


async def test_user_errors_carry_field_message_code_and_severity(verifier):
    async with client_for(verifier) as client:
        response = await post(
            client,
            'mutation { validate(name: "x") { userErrors { field message code severity } } }',
        )

    assert response.json()["data"]["validate"]["userErrors"] == [
        {
            "field": ["input", "name"],
            "message": "Too short",
            "code": "TOO_SHORT",
            "severity": "ERROR",
        },
        {"field": None, "message": "Odd", "code": "ODD", "severity": "WARNING"},
    ]


async def test_dataloaders_batch_within_a_request_and_are_fresh_for_each(verifier):
    batches.clear()
    async with client_for(verifier) as client:
        first = await post(client, "{ a: square(n: 2) b: square(n: 3) c: square(n: 2) }")
        second = await post(client, "{ a: square(n: 2) }")

    assert first.json()["data"] == {"a": 4, "b": 9, "c": 4}
    assert second.json()["data"] == {"a": 4}
    # One batch per request: a loader (and its cache) never outlives its request.
    assert batches == [[2, 3], [2]]


async def test_context_extra_may_be_a_function_of_the_request(verifier):
    def sync_extra(request: Request) -> dict[str, Any]:
        return {"tenant": request.headers.get("x-tenant", "none")}

    async def async_extra(request: Request) -> dict[str, Any]:
        return {"tenant": request.headers.get("x-tenant", "none").upper()}

    for extra, expected in ((sync_extra, "acme"), (async_extra, "ACME")):
        async with client_for(verifier, context_extra=extra) as client:
            response = await post(client, "{ tenant }", **{"x-tenant": "acme"})
        assert response.json()["data"] == {"tenant": expected}


async def test_cursors_round_trip_through_a_connection(verifier):
    async with client_for(verifier) as client:
        first = await post(client, "{ things { names pageInfo { hasNextPage endCursor } } }")
        cursor = first.json()["data"]["things"]["pageInfo"]["endCursor"]
        second = await post(client, f'{{ things(after: "{cursor}") {{ names }} }}')

    assert first.json()["data"]["things"]["names"] == ["thing-0", "thing-1"]
    assert second.json()["data"]["things"]["names"] == ["thing-2", "thing-3"]


async def test_a_bad_cursor_is_bad_user_input(verifier):
    async with client_for(verifier) as client:
        response = await post(client, '{ things(after: "garbage!!") { names } }')

    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "cursor" in error["message"]


def test_cursors_are_opaque_url_safe_and_round_trip():
    cursor = encode_cursor("2026-11-28T06:50:00+00:00", 10000001, None, "ü")

    assert cursor.isascii() and "=" not in cursor and "+" not in cursor and "/" not in cursor
    assert decode_cursor(cursor) == ("2026-11-28T06:50:00+00:00", 10000001, None, "ü")


@pytest.mark.parametrize("bad", ["", "!!!", "bm90IGpzb24", "eyJhIjoxfQ", "A" * 5000])
def test_a_malformed_cursor_raises_bad_user_input(bad):
    with pytest.raises(GraphQLError) as raised:
        decode_cursor(bad)

    assert raised.value.extensions == {"code": "BAD_USER_INPUT", "field": "after"}


def test_coded_errors_use_only_the_documented_codes():
    assert coded_error("NOT_FOUND", "No such facility").extensions == {"code": "NOT_FOUND"}
    with pytest.raises(ValueError, match="unknown error code"):
        coded_error("TEAPOT", "I am a teapot")


def test_the_schema_links_federation_2_9_and_shares_the_common_types():
    sdl = schema.as_str()

    assert '@link(url: "https://specs.apollo.dev/federation/v2.9"' in sdl
    assert "type UserError @shareable" in sdl
    assert "type PageInfo @shareable" in sdl
    assert "enum Severity" in sdl


async def test_graphiql_is_served_only_when_enabled(verifier):
    async with client_for(verifier, graphiql=True) as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
    async with client_for(verifier, graphiql=False) as client:
        refused = await client.get("/graphql", headers={"accept": "text/html"})

    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert refused.status_code == 405


def test_the_context_is_a_plain_per_request_object():
    context = Context(request=None, principal=None)  # type: ignore[arg-type]

    made = context.loader("x", lambda: DataLoader(load_fn=load_squares))

    assert context.loader("x", lambda: DataLoader(load_fn=load_squares)) is made
    assert Context(request=None, principal=None).loaders == {}  # type: ignore[arg-type]


async def test_a_validated_document_is_parsed_and_validated_once(verifier):
    cache = document_cache(schema)
    cache.clear()
    query = "query Square($n: Int!) { square(n: $n) }"
    async with client_for(verifier) as client:
        answers = [
            (await client.post("/graphql", json={"query": query, "variables": {"n": n}})).json()
            for n in (2, 3, 4)
        ]
    assert answers == [{"data": {"square": n * n}} for n in (2, 3, 4)]
    assert len(cache) == 1
    hits = cache.hits
    async with client_for(verifier) as client:
        again = await client.post("/graphql", json={"query": query, "variables": {"n": 5}})
    assert again.json() == {"data": {"square": 25}}
    assert cache.hits == hits + 1


async def test_the_request_body_is_parsed_as_json_once(verifier, monkeypatch):
    import json as json_module

    calls = []
    loads = json_module.loads

    def counting(data, *args, **kwargs):
        calls.append(data)
        return loads(data, *args, **kwargs)

    monkeypatch.setattr(json_module, "loads", counting)
    async with client_for(verifier) as client:
        answer = await client.post("/graphql", json={"query": "{ square(n: 3) }"})
    assert answer.json() == {"data": {"square": 9}}
    bodies = [c.encode() if isinstance(c, str) else bytes(c) for c in calls]
    assert [b for b in bodies if b"\"query\"" in b] == [b'{"query":"{ square(n: 3) }"}']


@pytest.mark.parametrize("query", [
    "{ square(n: 2) nonsense }",        # fails validation
    "{ square(n: 2) ",                  # fails parsing
    "query($n: Int!) { square(n: $n) }",  # valid, but the variable is missing
])
async def test_an_invalid_document_is_refused_with_a_code_every_time(verifier, query):
    cache = document_cache(schema)
    cache.clear()
    async with client_for(verifier) as client:
        for _ in range(3):
            response = await post(client, query)
            errors = response.json()["errors"]
            assert errors and all(e["extensions"]["code"] == "BAD_USER_INPUT" for e in errors)
            assert response.json().get("data") is None
    # A document that failed parsing or validation is never kept.
    assert len(cache) == (1 if "$n" in query else 0)


def test_the_document_cache_is_bounded():
    cache = DocumentCache(max_entries=3, max_chars=40, max_query_chars=20)
    for n in range(10):
        cache.put(f"{{ q{n} }}", (), object())
    assert len(cache) == 3
    assert cache.get("{ q0 }", ()) is None and cache.get("{ q9 }", ()) is not None
    cache.put("{ " + "x" * 30 + " }", (), object())  # too long to keep
    assert len(cache) == 3
    cache.clear()
    for n in range(10):
        cache.put(f"{{ {'y' * 10}{n} }}", (), object())  # 15 characters each
    assert len(cache) == 2


async def test_introspection_stays_refused_without_graphiql_when_documents_are_cached(verifier):
    document_cache(schema).clear()
    async with client_for(verifier, graphiql=False) as client:
        for _ in range(3):
            refused = (await post(client, "{ __schema { types { name } } }")).json()
            assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
            assert "Introspection is disabled" in refused["errors"][0]["message"]
            typed = (await post(client, "{ square(n: 3) __type(name: \"Query\") { name } }"))
            assert typed.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
            assert (await post(client, "{ square(n: 3) }")).json() == {"data": {"square": 9}}
    assert len(document_cache(schema)) == 1
