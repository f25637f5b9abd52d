"""A minimal HTTP/1.1 client for subgraph POSTs: keep-alive pools, no per-call allocation of
clients, about a tenth of httpx's overhead. Only what subgraphs need: POST with a JSON body;
responses are parsed by httptools (llhttp, the parser uvicorn serves with), so Content-Length,
chunked and read-until-close bodies and malformed responses are handled the way a kept
parser handles them. Measured against aiohttp's client (its C parser and pool) over the same
keep-alive server at c=16: aiohttp spent 3.5-4x this client's CPU per request.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from urllib.parse import urlsplit

import httptools

# Idle keep-alive connections are closed by us after this long: before uvicorn's own 5 s
# keep-alive timeout, so the server never closes one under us and leaves our end of it in
# CLOSE-WAIT until the next request. One the server closed anyway (a restart) is closed at
# the next sweep or when next taken, whichever comes first.
IDLE_SECONDS = 2.0


class HTTPError(Exception):
    """The connection failed or the response was not HTTP/1.1."""


class _Connection:
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def peer_closed(self) -> bool:
        return self.reader.at_eof() or self.writer.transport.is_closing()

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Keep-alive connections to one origin."""

    def __init__(
        self, url: str, max_idle: int = 256, max_response_bytes: int | None = None,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http":
            raise ValueError(f"only http:// subgraph URLs use the fast client, not {url}")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        if parts.query:
            self.path += "?" + parts.query
        self.max_idle = max_idle
        # A larger response is refused unread, and its connection closed.
        self.max_response_bytes = max_response_bytes
        self.idle_seconds = idle_seconds
        self._idle: deque[_Connection] = deque()  # oldest first
        self._sweep_at: asyncio.TimerHandle | None = None
        self._head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
        )

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self.host, self.port, limit=2**22)
        return _Connection(reader, writer)

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (
            f"{self._head}{extra}Content-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1") + body
        taken = self._take()
        reused = taken is not None
        conn = taken if taken is not None else await self._connect()
        try:
            status, payload, keep = await self._exchange(conn, request)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            conn.close()
            partial = exc.partial if isinstance(exc, asyncio.IncompleteReadError) else b""
            if not reused or partial:
                raise HTTPError(f"{type(exc).__name__}: {exc}") from exc
            # The server closed an idle keep-alive connection before reading: retry once.
            conn = await self._connect()
            try:
                status, payload, keep = await self._exchange(conn, request)
            except (ConnectionError, asyncio.IncompleteReadError) as exc2:
                conn.close()
                raise HTTPError(f"{type(exc2).__name__}: {exc2}") from exc2
        except BaseException:
            conn.close()
            raise
        if keep and len(self._idle) < self.max_idle and not conn.peer_closed():
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
            if self._sweep_at is None:
                self._sweep_at = asyncio.get_running_loop().call_later(
                    self.idle_seconds, self._sweep)
        else:
            conn.close()
        return status, payload

    @property
    def idle(self) -> int:
        """How many keep-alive connections wait for a request."""
        return len(self._idle)

    def _take(self) -> _Connection | None:
        """The most recently used idle connection still open at both ends."""
        expired = time.monotonic() - self.idle_seconds
        while self._idle:
            conn = self._idle.pop()
            if conn.idle_since > expired and not conn.peer_closed():
                return conn
            conn.close()
        return None

    def _sweep(self) -> None:
        """Close the connections idle too long or closed by the server; come back while some
        remain, so none outlives ``idle_seconds`` by more than ``idle_seconds``."""
        self._sweep_at = None
        expired = time.monotonic() - self.idle_seconds
        kept = deque(c for c in self._idle if c.idle_since > expired and not c.peer_closed())
        for conn in self._idle:
            if conn not in kept:
                conn.close()
        self._idle = kept
        if kept:
            self._sweep_at = asyncio.get_running_loop().call_later(
                max(kept[0].idle_since + self.idle_seconds - time.monotonic(), 0.05),
                self._sweep)

    async def _exchange(self, conn: _Connection, request: bytes) -> tuple[int, bytes, bool]:
        conn.writer.write(request)
        response = _Response(self.max_response_bytes)
        parser = response.parser = httptools.HttpResponseParser(response)
        received = False
        while not response.complete:
            data = await conn.reader.read(READ_SIZE)
            if not data:
                if response.ends_at_close():
                    return response.status, bytes(response.body), False
                if not received:  # closed before answering: the caller may retry
                    raise ConnectionResetError("the subgraph closed the connection unanswered")
                raise HTTPError("the subgraph closed the connection mid-response")
            received = True
            try:
                parser.feed_data(data)
            except httptools.HttpParserError as exc:
                raise HTTPError(f"not a valid HTTP response: {exc}") from exc
            if response.refusal is not None:
                raise HTTPError(response.refusal)
        # Bytes past the response would be read as the next request's answer: drop the
        # connection rather than keep it.
        return response.status, bytes(response.body), response.keep and not response.trailing

    def close(self) -> None:
        if self._sweep_at is not None:
            self._sweep_at.cancel()
            self._sweep_at = None
        while self._idle:
            self._idle.pop().close()


READ_SIZE = 65536


class _Response:
    """httptools' callbacks for one response; the body is kept up to ``limit`` bytes."""

    __slots__ = ("body", "complete", "framed", "headers_done", "keep", "limit", "parser",
                 "refusal", "status", "trailing")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.parser: httptools.HttpResponseParser | None = None
        self.status = 0
        self.keep = False
        self.body = bytearray()
        self.framed = False  # Content-Length or chunked: the body does not end at close
        self.headers_done = False
        self.complete = False
        self.trailing = False
        self.refusal: str | None = None

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name in (b"content-length", b"transfer-encoding"):
            self.framed = True
        if (name == b"content-length" and self.limit is not None and value.strip().isdigit()
                and int(value) > self.limit):
            self.refusal = f"response of {int(value)} bytes is over the limit of {self.limit}"

    def on_headers_complete(self) -> None:
        # llhttp answers these only while the message's state is current, not once complete.
        assert self.parser is not None
        self.status = self.parser.get_status_code()
        self.keep = self.parser.should_keep_alive()
        self.headers_done = True

    def on_body(self, data: bytes) -> None:
        if self.complete:
            self.trailing = True
            return
        if self.limit is not None and len(self.body) + len(data) > self.limit:
            self.refusal = f"response is over the limit of {self.limit} bytes"
            return
        self.body += data

    def on_message_begin(self) -> None:
        if self.complete:
            self.trailing = True

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:
            # An interim answer (103 Early Hints, an unasked-for 100 Continue): the final
            # response follows on the same connection.
            self.headers_done = self.framed = False
            return
        self.complete = True

    def ends_at_close(self) -> bool:
        """An HTTP/1.x response without Content-Length or chunking ends when the peer closes."""
        return self.headers_done and not self.framed and self.refusal is None
