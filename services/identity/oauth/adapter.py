"""The thin Starlette adapter authlib lacks: requests in, responses out, off the event loop."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from services.identity.oauth.unit import Unit, current_unit
from services.identity.service_layer.deps import Deps

T = TypeVar("T")
OAuthResult = tuple[int, Any, list[tuple[str, str]]]


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class FormRequest(OAuth2Request):  # type: ignore[misc]
    """An OAuth2Request from already-read query and form pairs (authlib reads them in a thread)."""

    def __init__(
        self, method: str, uri: str, headers: Mapping[str, str],
        args: list[tuple[str, str]], form: list[tuple[str, str]],
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self._args = dict(args)
        self._form = dict(form)
        self.payload = _Payload(args + form)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


async def oauth_request(request: Request, public_base_url: str) -> FormRequest:
    form: list[tuple[str, str]] = []
    if request.method == "POST":
        form = [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
    # authlib checks the URI for https; the public origin is what the client actually used.
    uri = public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        uri += "?" + request.url.query
    return FormRequest(
        request.method, uri, Headers(scope=request.scope),
        list(request.query_params.multi_items()), form,
    )


def query_request(base: FormRequest, pairs: list[tuple[str, str]]) -> FormRequest:
    """The authorization request again, rebuilt from the query a sign-in page carried along."""
    return FormRequest("GET", base.uri, base.headers, pairs, [])


async def in_thread(deps: Deps, work: Callable[[], T]) -> T:
    """Run authlib work in a worker thread, inside one transaction its callbacks share."""
    async with deps.db.transaction() as session:
        token = current_unit.set(Unit(session, asyncio.get_running_loop()))
        try:
            return await asyncio.to_thread(work)
        finally:
            current_unit.reset(token)


def with_params(uri: str, params: list[tuple[str, str]]) -> str:
    """``uri`` with ``params`` added to its query, each encoded (RFC 3986), whatever it holds."""
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


def to_response(result: OAuthResult) -> Response:
    status, body, headers = result
    header_map = dict(headers)
    location = header_map.pop("Location", None)
    if location and status in (301, 302, 303, 307):
        return RedirectResponse(location, status_code=302, headers=header_map)
    if isinstance(body, dict | list):
        header_map.pop("Content-Type", None)
        return JSONResponse(body, status_code=status, headers=header_map)
    if isinstance(body, str) and body.startswith(("{", "[")):
        header_map.pop("Content-Type", None)
        return JSONResponse(json.loads(body), status_code=status, headers=header_map)
    return Response(body or "", status_code=status, headers=header_map)
