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
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.dataloader import DataLoader
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from common.auth import AuthError, JWKSVerifier, Principal, bearer_token
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
    }
)
FEDERATION_VERSION = "2.9"
INTERNAL_ERROR_MESSAGE = "Internal error. It has been logged; quote the x-request-id header."
_MAX_CURSOR_LENGTH = 2048

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


def _mask_unexpected_errors() -> MaskErrors:
    # A factory, not an instance: extensions keep per-operation state.
    return MaskErrors(should_mask_error=_is_unexpected, error_message=INTERNAL_ERROR_MESSAGE)


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
        extensions=[_mask_unexpected_errors, *extensions],
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

    async def get_context(self, request: Any, response: Any) -> Context:
        extra: dict[str, Any] = {}
        if callable(self._extra):
            produced = self._extra(request)
            extra.update(await produced if inspect.isawaitable(produced) else produced)
        elif self._extra is not None:
            extra.update(self._extra)
        principal = request.scope.get("state", {}).get("principal")
        return Context(request=request, principal=principal, extra=extra)


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


class _AuthenticatingApp:
    def __init__(self, app: _GraphQLApp, verifier: JWKSVerifier, admit: Admit | None) -> None:
        self.app = app
        self.verifier = verifier
        self.admit = admit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
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
        await self.app(scope, receive, send)
