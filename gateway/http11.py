"""A minimal HTTP/1.1 client for subgraph POSTs: keep-alive pools, no per-call allocation of
clients, about a tenth of httpx's overhead. Only what subgraphs need: POST with a JSON body,
Content-Length or chunked responses."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from urllib.parse import urlsplit

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
        reader = conn.reader
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError as exc:
            raise HTTPError("response headers too large") from exc
        lines = head.split(b"\r\n")
        try:
            status = int(lines[0].split(b" ", 2)[1])
        except (IndexError, ValueError) as exc:
            raise HTTPError(f"not an HTTP response: {lines[0][:80]!r}") from exc
        length = -1
        chunked = False
        keep = not lines[0].startswith(b"HTTP/1.0")
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                v = value.strip().lower()
                keep = v == b"keep-alive" if not keep else v != b"close"
        limit = self.max_response_bytes
        if chunked:
            return status, await _read_chunked(reader, limit), keep
        if length >= 0:
            if limit is not None and length > limit:
                raise HTTPError(f"response of {length} bytes is over the limit of {limit}")
            return status, await reader.readexactly(length), keep
        body = await reader.read(limit + 1) if limit is not None else await reader.read()
        if limit is not None and len(body) > limit:
            raise HTTPError(f"response is over the limit of {limit} bytes")
        return status, body, False

    def close(self) -> None:
        if self._sweep_at is not None:
            self._sweep_at.cancel()
            self._sweep_at = None
        while self._idle:
            self._idle.pop().close()


async def _read_chunked(reader: asyncio.StreamReader, limit: int | None = None) -> bytes:
    body = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return bytes(body)
        if limit is not None and len(body) + size > limit:
            raise HTTPError(f"response is over the limit of {limit} bytes")
        body += await reader.readexactly(size)
        await reader.readexactly(2)
