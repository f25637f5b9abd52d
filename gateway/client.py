"""Subgraph HTTP calls over keep-alive pools, with a timeout per subgraph."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import httpx

from common.tracing import TRACE_HEADERS
from gateway.http11 import HTTPError, Pool


class SubgraphError(Exception):
    """A subgraph did not answer with a GraphQL response."""


class SubgraphClient:
    def __init__(
        self,
        urls: Mapping[str, str],
        timeouts: Mapping[str, float],
        default_timeout: float = 10.0,
        max_connections: int = 256,
        max_response_bytes: int | None = None,
    ) -> None:
        self.urls = dict(urls)
        self.timeouts = dict(timeouts)
        self.default_timeout = default_timeout
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        # https:// subgraphs go through httpx; http:// ones through the lean keep-alive pool.
        self._http = httpx.AsyncClient(limits=limits, timeout=default_timeout)
        self._pools: dict[str, Pool] = {}
        self._inflight: dict[tuple[str, bytes, tuple[tuple[str, str], ...]],
                             asyncio.Future[tuple[int, bytes]]] = {}
        for name in self.urls:
            if self.url(name).startswith("http://"):
                self._pools[name] = Pool(self.url(name), max_idle=max_connections,
                                         max_response_bytes=max_response_bytes)

    def url(self, service: str) -> str:
        # The supergraph's url is the url: a subgraph may live at any path.
        return self.urls[service]

    async def post(
        self,
        service: str,
        body: dict[str, Any],
        headers: Mapping[str, str],
        *,
        deduplicate: bool = False,
    ) -> dict[str, Any]:
        """POSTs a GraphQL request; identical in-flight queries share one subgraph call when
        ``deduplicate`` (same service, body and headers other than x-request-id and the trace
        context)."""
        timeout = self.timeouts.get(service, self.default_timeout)
        content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            async with asyncio.timeout(timeout):
                if not deduplicate:
                    status, payload = await self._send(service, content, headers)
                else:
                    status, payload = await self._shared(service, content, headers, timeout)
        except TimeoutError as exc:
            raise SubgraphError(f"no answer within {timeout}s") from exc
        except (HTTPError, httpx.HTTPError, OSError) as exc:
            raise SubgraphError(f"{type(exc).__name__}: {exc}") from exc
        try:
            result = json.loads(payload)
        except ValueError as exc:
            raise SubgraphError(f"HTTP {status}, not JSON") from exc
        if not isinstance(result, dict) or ("data" not in result and "errors" not in result):
            raise SubgraphError(f"HTTP {status}, not a GraphQL response")
        return result

    async def _send(
        self, service: str, content: bytes, headers: Mapping[str, str]
    ) -> tuple[int, bytes]:
        pool = self._pools.get(service)
        if pool is not None:
            return await pool.post(content, dict(headers))
        response = await self._http.post(
            self.url(service), content=content,
            headers={**headers, "content-type": "application/json", "accept": "application/json"},
        )
        return response.status_code, response.content

    async def _shared(
        self, service: str, content: bytes, headers: Mapping[str, str], seconds: float
    ) -> tuple[int, bytes]:
        key = (service, content, tuple(sorted(
            (k, v) for k, v in headers.items() if k != "x-request-id" and k not in TRACE_HEADERS
        )))
        task = self._inflight.get(key)
        if task is None:
            # Its own task with its own timeout: a caller that goes away (client disconnect,
            # shorter deadline) does not fail the others waiting on the same answer.
            task = asyncio.ensure_future(
                asyncio.wait_for(self._send(service, content, headers), seconds)
            )
            self._inflight[key] = task
            task.add_done_callback(lambda t: self._settled(key, t))
        # Raw bytes are shared, never parsed objects: each caller merges its own copy.
        return await asyncio.shield(task)

    def _settled(
        self, key: tuple[str, bytes, tuple[tuple[str, str], ...]],
        task: asyncio.Future[tuple[int, bytes]],
    ) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved, so a task nobody awaited any more stays quiet

    async def get_health(self, service: str) -> tuple[bool, str]:
        """Our services answer ``/healthz`` beside ``/graphql``; any other subgraph is asked
        ``{ __typename }`` at its own url, which every GraphQL server answers."""
        url = self.url(service)
        if url.rstrip("/").endswith("/graphql"):
            health = url.rstrip("/")[: -len("graphql")] + "healthz"
            response = await self._http.get(health, timeout=2.0)
            return response.status_code == 200, f"HTTP {response.status_code}"
        response = await self._http.post(
            url, json={"query": "{__typename}"}, timeout=2.0,
            headers={"accept": "application/json"},
        )
        try:
            answered = response.status_code == 200 and "data" in response.json()
        except ValueError:
            answered = False
        return answered, f"HTTP {response.status_code}"

    async def aclose(self) -> None:
        for pool in self._pools.values():
            pool.close()
        await self._http.aclose()
