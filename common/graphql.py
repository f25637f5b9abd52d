"""GraphQL pieces shared by every subgraph.

The composer requires @shareable types to be identical in every subgraph, so they are
defined once here. ``graphql_route`` mounts a subgraph's schema with token verification,
a fresh Context per request, and errors that never leak internals.
"""

from __future__ import annotations

import base64
import binascii
import enum
import inspect
import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError, OperationDefinitionNode
from graphql.language import FieldNode, Visitor, visit
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.dataloader import DataLoader
from strawberry.extensions import SchemaExtension
from strawberry.federation.schema import FederationAny
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.info import Info as StrawberryInfo

from common.auth import AuthError, JWKSVerifier, Principal, bearer_token
from common.db import request_reads
from common.graphql_tracing import operation_span
from common.limits import (
    LimitExceeded,
    Limits,
    ListSize,
    fragments_of,
    list_sizes_from_sdl,
    measure,
)
from common.settings import load_settings
from common.timestamps import DATETIME_SCALAR

log = logging.getLogger(__name__)

ERROR_CODES = frozenset(
    {
        "FORBIDDEN",
        "NOT_FOUND",
        "UNAUTHENTICATED",
        "BAD_USER_INPUT",
        "UNAVAILABLE",
        "COMPLIANCE_NOT_CURRENT",
        "DUPLICATE_FACILITY",
        # Throttled: extensions.retryAfter says in how many seconds to try again.
        "TOO_MANY_REQUESTS",
    }
)
FEDERATION_VERSION = "2.9"
INTERNAL_ERROR_MESSAGE = "Internal error. It has been logged; quote the x-request-id header."
_MAX_CURSOR_LENGTH = 2048

# A subgraph's own ceilings, for requests that reach it by any path. Generous: the gateway's
# limits are ten times tighter, and its subgraph queries inline the client's fragments.
SUBGRAPH_LIMITS = Limits(
    max_depth=40, max_aliases=300, max_cost=200_000, max_directives=300, default_list_size=20,
    max_repeats=50, max_fragments=200,
)
SUBGRAPH_MAX_TOKENS = 100_000
SUBGRAPH_MAX_BODY_BYTES = 6 * 1024 * 1024  # above the inventory CSV cap (4 MB)
SUBGRAPH_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?\s*$")

L = TypeVar("L", bound=DataLoader[Any, Any])


@strawberry.enum
class Severity(enum.Enum):
    ERROR = "ERROR"
    WARNING = "WARNING"


@strawberry.federation.type(shareable=True)
class UserError:
    field: list[str] | None
    message: str
    code: str
    severity: Severity = Severity.ERROR


@strawberry.federation.type(shareable=True)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def list_size(
    assumed: int | None = None, slicing: Iterable[str] = ()
) -> strawberry.federation.schema_directives.ListSize:
    """A field's ``@listSize`` (Apollo demand control, carried into the supergraph): the size
    the gateway's and the subgraph's cost limits assume for the list, or the arguments whose
    value is its size."""
    return strawberry.federation.schema_directives.ListSize(
        assumed_size=assumed if assumed is not None else strawberry.UNSET,
        slicing_arguments=list(slicing) if slicing else strawberry.UNSET,
        sized_fields=strawberry.UNSET,
        require_one_slicing_argument=False if slicing else strawberry.UNSET,
    )


def coded_error(code: str, message: str, **extensions: Any) -> GraphQLError:
    """A GraphQL error whose ``extensions.code`` clients can act on."""
    if code not in ERROR_CODES:
        raise ValueError(f"unknown error code {code!r}; use one of {sorted(ERROR_CODES)}")
    return GraphQLError(message, extensions={"code": code, **extensions})


def encode_cursor(*values: Any) -> str:
    """An opaque keyset cursor of JSON values (convert datetimes and UUIDs to str first)."""
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> tuple[Any, ...]:
    """The values of an ``encode_cursor`` cursor; a bad cursor raises BAD_USER_INPUT."""
    try:
        if len(cursor) > _MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list):
            raise ValueError("not a list")
    except (ValueError, binascii.Error, UnicodeError, TypeError) as exc:
        raise coded_error(
            "BAD_USER_INPUT",
            "Invalid cursor: pass the endCursor or an edge cursor from a previous page unchanged.",
            field="after",
        ) from exc
    return tuple(values)


@dataclass
class Context:
    """Per-request context: the request, the verified caller, per-request DataLoaders and
    whatever the service adds (``extra``)."""

    request: Request
    principal: Principal | None
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # Strawberry's response stand-in: a resolver may set its status_code and headers.
    response: Any = None

    def loader(self, name: str, factory: Callable[[], L]) -> L:
        """This request's DataLoader called ``name``, created on first use."""
        existing = self.loaders.get(name)
        if existing is None:
            existing = self.loaders[name] = factory()
        return existing  # type: ignore[return-value]


def context_of(info: strawberry.Info[Any, Any]) -> Context:
    context = info.context
    if not isinstance(context, Context):
        raise TypeError("GraphQL context is not a common.graphql.Context; use graphql_route")
    return context


def require_principal(info: strawberry.Info[Any, Any]) -> Principal:
    """The caller's Principal; anonymous callers get an UNAUTHENTICATED error."""
    principal = context_of(info).principal
    if principal is None:
        raise coded_error("UNAUTHENTICATED", "Sign in first: send 'Authorization: Bearer <token>'.")
    return principal


def _is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class _Schema(strawberry.federation.Schema):
    def entities_resolver(
        self, info: StrawberryInfo, representations: list[FederationAny]
    ) -> list[FederationAny]:
        # A representation this subgraph cannot resolve is the caller's mistake: say so with
        # a code, instead of an internal error and a traceback per request.
        entity_union = self._schema.get_type("_Entity")
        known = {t.name for t in getattr(entity_union, "types", ())}
        for index, representation in enumerate(representations):
            typename = (representation.get("__typename")
                        if isinstance(representation, dict) else None)
            if typename not in known:
                raise coded_error("BAD_USER_INPUT", f"Representation {index} names no entity "
                                  f"of this service: {str(typename)[:100]!r}.")
        results = super().entities_resolver(info, representations)
        return [
            FederationAny(coded_error("BAD_USER_INPUT",
                                      f"Representation {index} lacks its key fields."))
            if isinstance(result, TypeError | KeyError) else result
            for index, result in enumerate(results)
        ]

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if _is_unexpected(error):
                original = error.original_error
                assert original is not None
                log.error(
                    "unexpected error in resolver at %s: %s",
                    ".".join(str(p) for p in error.path or ()),
                    original,
                    exc_info=(type(original), original, original.__traceback__),
                    extra={"graphql_path": error.path},
                )
            else:
                code = (error.extensions or {}).get("code", "GRAPHQL_VALIDATION")
                log.info("GraphQL error %s: %s", code, error.message)


class OperationLimits(SchemaExtension):
    """Refuses, before validation, an operation past SUBGRAPH_LIMITS, and introspection where
    the route turned it off."""

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = SUBGRAPH_MAX_TOKENS
        yield

    def on_validate(self) -> Iterator[None]:
        self._refuse_past_limits(self.execution_context)
        yield

    def _refuse_past_limits(self, context: ExecutionContext) -> None:
        if context.graphql_document is not None and context.pre_execution_errors is None:
            refused = self._refusal(context)
            if refused is not None:
                context.pre_execution_errors = [refused]

    def _refusal(self, context: ExecutionContext) -> GraphQLError | None:
        document = context.graphql_document
        assert document is not None
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        named = [o for o in operations
                 if context.operation_name is None or (o.name and o.name.value ==
                                                       context.operation_name)]
        if len(named) != 1:
            return None  # validation and execution say what is wrong
        try:
            measure(named[0], fragments_of(document), SUBGRAPH_LIMITS,
                    schema=context.schema._schema, list_sizes=_list_sizes(context.schema),
                    variables=context.variables or {})
        except LimitExceeded as exc:
            return coded_error("BAD_USER_INPUT", exc.message, **exc.extensions)
        extra = getattr(context.context, "extra", {})
        if not extra.get("introspection", True) and document_cache(context.schema).introspects(
                context.query or "", tuple(context.validation_rules), document):
            return coded_error("BAD_USER_INPUT", "Introspection is disabled on this service.")
        return None


def _list_sizes(schema: Any) -> Mapping[tuple[str, str], ListSize]:
    sizes: Mapping[tuple[str, str], ListSize] | None = getattr(schema, "_cers_list_sizes", None)
    if sizes is None:
        sizes = list_sizes_from_sdl(schema.as_str())
        schema._cers_list_sizes = sizes
    return sizes


def _introspects(document: Any) -> bool:
    found = False

    class _Finder(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            nonlocal found
            if node.name.value in ("__schema", "__type"):
                found = True

    visit(document, _Finder())
    return found


class DocumentCache:
    """Parsed documents that passed validation, by query text: a bounded LRU per schema.

    Parsing and validating a document cost more CPU than running a simple read, and clients
    send the same few documents over and over. Only documents that parsed and validated
    cleanly are kept, so an invalid one is parsed and refused afresh every time (with its
    coded error); variables and limits are still checked on every request. Bounded both in
    entries and in the total length of the cached texts.
    """

    def __init__(self, max_entries: int = 512, max_chars: int = 8 * 1024 * 1024,
                 max_query_chars: int = 256 * 1024) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self.max_query_chars = max_query_chars
        # (query, validation rules) -> [document, whether it introspects (None: not known yet)]
        self._entries: OrderedDict[tuple[str, tuple[Any, ...]], list[Any]] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str, rules: tuple[Any, ...]) -> Any | None:
        with self._lock:
            entry = self._entries.get((query, rules))
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end((query, rules))
            self.hits += 1
            return entry[0]

    def introspects(self, query: str, rules: tuple[Any, ...], document: Any) -> bool:
        """Whether ``document`` selects __schema or __type, remembered with the document."""
        entry = self._entries.get((query, rules))
        if entry is None or entry[0] is not document:
            return _introspects(document)
        if entry[1] is None:
            entry[1] = _introspects(document)
        return bool(entry[1])

    def put(self, query: str, rules: tuple[Any, ...], document: Any) -> None:
        if len(query) > self.max_query_chars:
            return
        with self._lock:
            key = (query, rules)
            if key in self._entries:
                return
            self._entries[key] = [document, None]
            self._chars += len(query)
            while len(self._entries) > self.max_entries or self._chars > self.max_chars:
                (old, _), _ = self._entries.popitem(last=False)
                self._chars -= len(old)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0


def document_cache(schema: Any) -> DocumentCache:
    """The schema's cache of validated documents (see DocumentCache)."""
    cache: DocumentCache | None = getattr(schema, "_cers_document_cache", None)
    if cache is None:
        cache = schema._cers_document_cache = DocumentCache()
    return cache


class CachedDocuments(SchemaExtension):
    """Skips parsing and validation for a query text this schema has already validated.

    Runs after OperationLimits: its limits are measured on every request (they depend on
    the variables), and a refused operation is never cached."""

    def __init__(self) -> None:
        self._hit = False

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            cache = document_cache(context.schema)
            document = cache.get(context.query, tuple(context.validation_rules))
            if document is not None:
                context.graphql_document = document
                self._hit = True
        yield

    def on_validate(self) -> Iterator[None]:
        self._skip_validation_if_cached(self.execution_context)
        yield
        self._remember_if_valid(self.execution_context)

    def _skip_validation_if_cached(self, context: ExecutionContext) -> None:
        if self._hit and context.pre_execution_errors is None:
            context.pre_execution_errors = []  # validated when it was cached

    def _remember_if_valid(self, context: ExecutionContext) -> None:
        if (not self._hit and context.query is not None and context.graphql_document is not None
                and context.pre_execution_errors == []):
            document_cache(context.schema).put(
                context.query, tuple(context.validation_rules), context.graphql_document)


def _masked(error: GraphQLError) -> GraphQLError:
    return GraphQLError(INTERNAL_ERROR_MESSAGE, nodes=error.nodes, source=error.source,
                        positions=error.positions, path=error.path, original_error=None)


class SubgraphOperation(OperationLimits, CachedDocuments):
    """What every subgraph operation goes through, as one extension: its span, its limits
    (OperationLimits), the cache of validated documents (CachedDocuments), and unexpected
    errors masked (as Strawberry's MaskErrors would). Strawberry runs each extension's hooks
    through context managers of their own on every request; one costs less than four."""

    def __init__(self) -> None:
        CachedDocuments.__init__(self)

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = SUBGRAPH_MAX_TOKENS
        with operation_span(context):
            yield
            result = context.result
            if result is not None and result.errors:
                result.errors = [_masked(e) if _is_unexpected(e) else e for e in result.errors]

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        self._refuse_past_limits(context)  # limits first: a refused operation is never cached
        self._skip_validation_if_cached(context)
        yield
        self._remember_if_valid(context)


def federation_schema(
    query: type,
    mutation: type | None = None,
    types: Iterable[type] = (),
    extensions: Iterable[Any] = (),
    **options: Any,
) -> strawberry.federation.Schema:
    """A federation subgraph schema pinned to federation 2.9, masking unexpected errors.

    ``extensions`` are extension classes or factories; ``options`` go to Strawberry's Schema.
    """
    return _Schema(
        query=query,
        mutation=mutation,
        types=list(types),
        extensions=[SubgraphOperation, *extensions],
        federation_version="2.9",
        scalar_overrides={datetime: DATETIME_SCALAR, **options.pop("scalar_overrides", {})},
        **options,
    )


ContextExtra = (
    Mapping[str, Any]
    | Callable[[Request], Mapping[str, Any]]
    | Callable[[Request], Awaitable[Mapping[str, Any]]]
)


class _GraphQLApp(GraphQL[Context, None]):
    def __init__(
        self, schema: strawberry.federation.Schema, extra: ContextExtra | None, graphiql: bool
    ) -> None:
        super().__init__(
            schema, graphql_ide="graphiql" if graphiql else None, allow_queries_via_get=graphiql
        )
        self._extra = extra
        # Introspection (and the "Did you mean" hints that would stand in for it) goes with
        # GraphiQL: both are off in production.
        self._introspection = graphiql

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if result.data is None:
            # Refused before execution (syntax, validation): always coded, never a hint.
            errors: list[dict[str, Any]] = list(response.get("errors") or ())  # type: ignore[arg-type]
            for error in errors:
                if error.get("path"):
                    continue  # raised while executing: the resolver's own error
                extensions = dict(error.get("extensions") or {})
                extensions.setdefault("code", "BAD_USER_INPUT")
                error["extensions"] = extensions
                if not self._introspection:
                    error["message"] = _SUGGESTION.sub("", str(error.get("message", "")))
        return response

    def decode_json(self, data: str | bytes) -> object:
        parsed = _parsed_body.get()
        if parsed is not None and (data is parsed[0] or data == parsed[0]):
            return parsed[1]
        return json.loads(data)

    def encode_json(self, data: object) -> str | bytes:
        encoded = json.dumps(data, separators=(",", ":"))
        if len(encoded) <= SUBGRAPH_MAX_RESPONSE_BYTES:
            return encoded
        log.warning("response of %d characters refused (limit %d)", len(encoded),
                    SUBGRAPH_MAX_RESPONSE_BYTES)
        return json.dumps({"data": None, "errors": [{
            "message": f"The response would be {len(encoded)} characters; the limit is "
                       f"{SUBGRAPH_MAX_RESPONSE_BYTES}. Ask for fewer fields or smaller pages.",
            "extensions": {"code": "BAD_USER_INPUT", "limit": "response",
                           "max": SUBGRAPH_MAX_RESPONSE_BYTES},
        }]})

    async def get_context(self, request: Any, response: Any) -> Context:
        extra: dict[str, Any] = {}
        if callable(self._extra):
            produced = self._extra(request)
            extra.update(await produced if inspect.isawaitable(produced) else produced)
        elif self._extra is not None:
            extra.update(self._extra)
        principal = request.scope.get("state", {}).get("principal")
        extra.setdefault("introspection", self._introspection)
        return Context(request=request, principal=principal, extra=extra, response=response)


def _auth_failure(exc: AuthError) -> Response:
    status = 503 if exc.code == "UNAVAILABLE" else 401
    headers = {"www-authenticate": 'Bearer error="invalid_token"'} if status == 401 else {}
    body = {"errors": [{"message": exc.message, "extensions": {"code": exc.code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


Admit = Callable[[Principal], Awaitable[None]]


def graphql_route(
    path: str,
    schema: strawberry.federation.Schema,
    verifier: JWKSVerifier,
    context_extra: ContextExtra | None = None,
    *,
    graphiql: bool | None = None,
    admit: Admit | None = None,
) -> Route:
    """POST ``path`` (and GET with GraphiQL unless production) serving ``schema``.

    A bearer token is verified first: no header means an anonymous caller (principal None);
    an invalid token answers HTTP 401 with a GraphQL-shaped UNAUTHENTICATED error.
    ``admit`` then sees the verified principal and raises AuthError to refuse it (a closed
    account's token: common/closed_accounts.py).
    ``context_extra`` is a dict, or a (sync or async) function of the request giving one,
    copied into ``Context.extra`` for every request. ``graphiql`` defaults to not production.
    """
    if graphiql is None:
        graphiql = not load_settings().production
    app = _AuthenticatingApp(_GraphQLApp(schema, context_extra, graphiql), verifier, admit)
    return Route(path, app, methods=["GET", "POST"] if graphiql else ["POST"])


def _bad_request(message: str, status: int = 400, **extensions: Any) -> Response:
    body = {"errors": [{"message": message,
                        "extensions": {"code": "BAD_USER_INPUT", **extensions}}]}
    return JSONResponse(body, status_code=status)


# The POST body being served and its JSON, parsed once by _read_body: Strawberry's own parse
# of the same bytes (``decode_json``) takes it from here.
_parsed_body: ContextVar[tuple[bytes, Any] | None] = ContextVar("parsed_body", default=None)


async def _read_body(request: Request) -> tuple[bytes, Response | None]:
    """The POST body, or a coded refusal: too large, not JSON, not one operation."""
    limit = SUBGRAPH_MAX_BODY_BYTES
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        return b"", _bad_request(f"The request body is larger than {limit} bytes.", 413,
                                 limit="body", max=limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return b"", _bad_request(f"The request body is larger than {limit} bytes.", 413,
                                     limit="body", max=limit)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/"):
        return bytes(body), _bad_request("Uploads go to /documents, not to /graphql.", 415)
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return bytes(body), _bad_request("The body is not valid JSON.")
    if not isinstance(payload, dict):
        return bytes(body), _bad_request("Send one GraphQL request as a JSON object; this "
                                         "service does not take batches.")
    if not isinstance(payload.get("query"), str):
        return bytes(body), _bad_request("The request has no 'query' string.")
    if not isinstance(payload.get("variables") or {}, dict):
        return bytes(body), _bad_request("'variables' must be a JSON object.")
    raw = bytes(body)
    _parsed_body.set((raw, payload))
    return raw, None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class _AuthenticatingApp:
    def __init__(self, app: _GraphQLApp, verifier: JWKSVerifier, admit: Admit | None) -> None:
        self.app = app
        self.verifier = verifier
        self.admit = admit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._serve(scope, receive, send)
            return
        # One read session per database for the whole request (common/db.py RequestReads).
        async with request_reads():
            await self._serve(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if scope["method"] == "POST":
            body, refused = await _read_body(request)
            if refused is not None:
                await refused(scope, receive, send)
                return
            receive = _replay(body, receive)
        try:
            token = bearer_token(request.headers.get("authorization"))
            principal = await self.verifier.verify(token) if token is not None else None
            if principal is not None and self.admit is not None:
                await self.admit(principal)
        except AuthError as exc:
            log.info("rejected credentials: %s", exc.message)
            await _auth_failure(exc)(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        try:
            await self.app(scope, receive, send)
        finally:
            _parsed_body.set(None)
