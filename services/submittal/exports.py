"""The public ``/exports`` routes: search results as CSV and GeoJSON, the change feed and the
snapshot of the current state. All take ``Authorization: Bearer <token>`` and see what the
caller sees in GraphQL (the same scope and the same withheld trade secrets).

- ``GET /exports/search.csv?<filter>``, ``GET /exports/search.geojson?<filter>``: the filter
  in the portal's URL form (``casNumbers=7664-41-7&counties=Plumas&ehs=true&latitude=..
  &longitude=..&radiusMiles=..&sort=DISTANCE`` ...; docs/search.md lists every parameter).
- ``GET /exports/feed?after=<cursor>&limit=<n>`` (or ``since=<ISO time>``): NDJSON entries
  after the cursor, each with its own cursor; ``Feed-Cursor`` and ``Feed-Has-More`` headers.
- ``GET /exports/snapshot``: gzip-compressed NDJSON of every facility in scope with its
  current elements, headed by the feed cursor to continue from.
"""

from __future__ import annotations

import datetime as dt
import logging
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from common.auth import AuthError, JWKSVerifier, Principal, bearer_token
from common.logs import request_id_var
from services.submittal.domain import search as rules
from services.submittal.domain.hmi import HazardCategory, PhysicalState, Units
from services.submittal.service_layer import audit, exports, feed
from services.submittal.service_layer import search as service
from services.submittal.service_layer.access import load_caller
from services.submittal.service_layer.deps import Deps

log = logging.getLogger(__name__)
LIST_PARAMS = ("casNumbers", "hazardCategories", "physicalStates", "counties", "agencyIds",
               "complianceStatuses", "inventoryStatuses")


class BadRequest(Exception):
    pass


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _list(request: Request, name: str) -> tuple[str, ...]:
    values = [v.strip() for raw in request.query_params.getlist(name) for v in raw.split(",")]
    return tuple(v for v in values if v)


def _enum(kind: Callable[[str], Any], values: tuple[str, ...], name: str) -> tuple[Any, ...]:
    try:
        return tuple(kind(v.upper()) for v in values)
    except ValueError as error:
        raise BadRequest(f"{name}: {error}") from error


def _float(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError as error:
        raise BadRequest(f"{name} must be a number, not {raw!r}") from error


def _bool(request: Request, name: str) -> bool | None:
    raw = (request.query_params.get(name) or "").lower()
    if raw in ("", "any"):
        return None
    if raw in ("true", "yes", "1", "y"):
        return True
    if raw in ("false", "no", "0", "n"):
        return False
    raise BadRequest(f"{name} is true or false, not {raw!r}")


def parse_filter(request: Request) -> tuple[rules.SearchFilter, rules.Sort]:
    """The search in the query string (the portal's bookmarkable URL uses the same names)."""
    lat, lon, radius = (_float(request, n) for n in ("latitude", "longitude", "radiusMiles"))
    near = None
    if lat is not None or lon is not None or radius is not None:
        if lat is None or lon is None or radius is None:
            raise BadRequest("A distance search needs latitude, longitude and radiusMiles.")
        near = rules.Near(lat, lon, radius)
    above = None
    amount = _float(request, "amountAbove")
    units = _enum(Units, (request.query_params.get("amountUnits") or "POUNDS",), "amountUnits")[0]
    if amount is not None:
        above = rules.AmountAbove(amount, units)
    flt = rules.SearchFilter(
        cas_numbers=_list(request, "casNumbers"),
        name_starts_with=request.query_params.get("nameStartsWith") or None,
        name_contains=request.query_params.get("nameContains") or None,
        ehs=_bool(request, "ehs"),
        hazard_categories=_enum(HazardCategory, _list(request, "hazardCategories"),
                                "hazardCategories"),
        physical_states=_enum(PhysicalState, _list(request, "physicalStates"), "physicalStates"),
        maximum_daily_amount_above=above, counties=_list(request, "counties"),
        agency_ids=_list(request, "agencyIds"),
        compliance_statuses=_enum(rules.ComplianceStatus, _list(request, "complianceStatuses"),
                                  "complianceStatuses"),
        inventory_statuses=tuple(s.upper() for s in _list(request, "inventoryStatuses")),
        near=near)
    sort = rules.Sort(_enum(rules.SortBy, (request.query_params.get("sort") or "CERS_ID",),
                            "sort")[0], units)
    issues = rules.check_filter(flt, sort)
    if issues:
        raise BadRequest("; ".join(f"{'.'.join(i.field[1:]) or i.field[0]}: {i.message}"
                                   for i in issues))
    return flt, sort


async def _gzip(chunks: AsyncIterator[str]) -> AsyncIterator[bytes]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    async for chunk in chunks:
        out = compressor.compress(chunk.encode())
        if out:
            yield out
    yield compressor.flush()


async def _encoded(chunks: AsyncIterator[str]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield chunk.encode()


def export_routes(deps: Deps, verifier: JWKSVerifier) -> list[Route]:
    async def principal_of(request: Request) -> Principal | None:
        token = bearer_token(request.headers.get("authorization"))
        return await verifier.verify(token) if token else None

    async def scope_of(request: Request) -> tuple[Principal, service.Scope] | Response:
        try:
            principal = await principal_of(request)
        except AuthError as error:
            return _error(401, error.code, error.message)
        if principal is None:
            return _error(401, "UNAUTHENTICATED", "Sign in first: send a Bearer token.")
        async with deps.db.read() as session:
            caller = await load_caller(session, principal, fresh=deps.fresh)
        scope = service.Scope.of(caller)
        if (caller.staff or caller.business) and not deps.fresh():
            return _error(503, "UNAVAILABLE", "Permissions are being brought up to date; "
                          "retry shortly.")
        return principal, scope

    def streamed(body: AsyncIterator[str], media_type: str, request: Request,
                 headers: dict[str, str], *, gzip: bool | None = None) -> StreamingResponse:
        if gzip is None:
            gzip = "gzip" in request.headers.get("accept-encoding", "").lower()
        if gzip:
            headers = {**headers, "content-encoding": "gzip", "vary": "Accept-Encoding"}
        content = _gzip(body) if gzip else _encoded(body)
        return StreamingResponse(content, media_type=media_type,
                                 headers={"x-content-type-options": "nosniff",
                                          "cache-control": "no-store", **headers})

    async def audited(make_body: Callable[[Any], AsyncIterator[str]], principal: Principal,
                      action: str, what: dict[str, Any], counter: list[int], *,
                      one_snapshot: bool = False) -> AsyncIterator[str]:
        """Stream from one read transaction, opened when the stream starts; log the audit
        row however the stream ends (a client that hangs up is logged with what it got)."""
        request_id = request_id_var.get()
        try:
            async with deps.db.read() as session:
                if one_snapshot and session.get_bind().dialect.name == "postgresql":
                    # Every batch and the cursor read one and the same snapshot.
                    await session.connection(
                        execution_options={"isolation_level": "REPEATABLE READ"})
                async for chunk in make_body(session):
                    yield chunk
        finally:
            await audit.record(deps.db, principal, action, what, counter[0], request_id)

    async def search_export(request: Request, kind: str) -> Response:
        checked = await scope_of(request)
        if isinstance(checked, Response):
            return checked
        principal, scope = checked
        try:
            flt, sort = parse_filter(request)
        except BadRequest as error:
            return _error(400, "BAD_USER_INPUT", str(error))
        today = dt.date.today()
        async with deps.db.read() as session:
            total, _ = await service.count(session, scope, flt, today,
                                           limit=exports.MAX_EXPORT_FACILITIES)
        if not total.exact:
            return _error(400, "BAD_USER_INPUT", f"More than {total.value:,} facilities match; "
                          "an export holds at most that many. Narrow the filter (or use "
                          "/exports/snapshot for everything).")
        counter = [0]
        write = exports.csv_rows if kind == "csv" else exports.geojson

        def body(session: Any) -> AsyncIterator[str]:
            return write(exports.results(session, scope, flt, sort, today), flt, sort, counter)

        media, name = (("text/csv; charset=utf-8", "hazardous-materials.csv") if kind == "csv"
                       else ("application/geo+json", "hazardous-materials.geojson"))
        return streamed(audited(body, principal, f"EXPORT_{kind.upper()}",
                                {**flt.as_json(), "sort": sort.by.value}, counter),
                        media, request, {"content-disposition": f'attachment; filename="{name}"',
                                         "x-total-count": str(total.value)})

    async def search_csv(request: Request) -> Response:
        return await search_export(request, "csv")

    async def search_geojson(request: Request) -> Response:
        return await search_export(request, "geojson")

    async def feed_page(request: Request) -> Response:
        checked = await scope_of(request)
        if isinstance(checked, Response):
            return checked
        principal, scope = checked
        try:
            limit = int(request.query_params.get("limit") or 1000)
            if not 1 <= limit <= feed.MAX_PAGE:
                raise ValueError
        except ValueError:
            return _error(400, "BAD_USER_INPUT", f"limit is 1 to {feed.MAX_PAGE:,}.")
        after_param, since = request.query_params.get("after"), request.query_params.get("since")
        async with deps.db.read() as session:
            try:
                if after_param:
                    after = exports.decode_position(after_param)
                elif since:
                    after = await feed.position_at(session, dt.datetime.fromisoformat(since))
                else:
                    after = 0
            except ValueError:
                return _error(400, "BAD_USER_INPUT", "after is a cursor from this feed (pass "
                              "it unchanged) and since an ISO 8601 time.")
            entries = await feed.read(session, scope, after, limit)
        last = entries[-1].position if entries else after
        assert last is not None
        await audit.record(deps.db, principal, "FEED",
                           {"after": after, "limit": limit}, len(entries))

        async def lines() -> AsyncIterator[str]:
            for start in range(0, len(entries), 200):
                yield "".join(exports.feed_line(e) for e in entries[start:start + 200])

        return streamed(lines(), "application/x-ndjson", request, {
            "feed-cursor": exports.encode_position(last),
            "feed-has-more": "true" if len(entries) == limit else "false"})

    async def snapshot(request: Request) -> Response:
        checked = await scope_of(request)
        if isinstance(checked, Response):
            return checked
        principal, scope = checked
        counter = [0]
        today = dt.date.today()

        def body(session: Any) -> AsyncIterator[str]:
            return exports.snapshot(session, scope, today, counter)

        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        return StreamingResponse(
            _gzip(audited(body, principal, "SNAPSHOT", {}, counter, one_snapshot=True)),
            media_type="application/gzip", headers={
                "content-disposition": f'attachment; filename="cers-snapshot-{stamp}.ndjson.gz"',
                "x-content-type-options": "nosniff", "cache-control": "no-store"})

    return [
        Route("/exports/search.csv", search_csv, methods=["GET"]),
        Route("/exports/search.geojson", search_geojson, methods=["GET"]),
        Route("/exports/feed", feed_page, methods=["GET"]),
        Route("/exports/snapshot", snapshot, methods=["GET"]),
    ]

