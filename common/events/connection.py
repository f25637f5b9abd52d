"""One NATS connection per process that never gives up: connect, reconnect, re-bootstrap."""

from __future__ import annotations

import asyncio
import logging
import time

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from common.events.streams import ensure_streams
from common.tasks import cancel_and_wait, finish_within

log = logging.getLogger(__name__)


class NatsConnection:
    """Connects in the background and keeps reconnecting forever.

    ``wait_ready()`` returns once connected with the streams in place; the relay and the
    consumers wait on it, so a process started while NATS is down catches up when it returns.
    """

    def __init__(
        self,
        url: str,
        *,
        name: str,
        stream_replicas: int = 1,
        reconnect_seconds: float = 1.0,
        request_timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.name = name
        self.stream_replicas = stream_replicas
        self.reconnect_seconds = reconnect_seconds
        self.request_timeout = request_timeout
        self.nc: NATS | None = None
        self._js: JetStreamContext | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._bootstrap: asyncio.Task[None] | None = None
        self.disconnected_since: float | None = time.monotonic()
        self.last_error: str | None = None

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    @property
    def js(self) -> JetStreamContext:
        if self._js is None or not self._ready.is_set():
            raise ConnectionError(f"NATS at {self.url} is not connected")
        return self._js

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._connect(), name=f"nats-connect-{self.name}")

    async def wait_ready(self) -> JetStreamContext:
        await self._ready.wait()
        return self.js

    async def close(self, within: float = 5.0) -> None:
        """Close within about ``within`` seconds, connected, reconnecting or never connected."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        # nats-py's connect loop can swallow a cancellation that lands mid-connect.
        await cancel_and_wait(
            [task for task in (self._task, self._bootstrap) if task is not None],
            within=within / 2, what=f"NATS connection of {self.name}",
        )
        self._ready.clear()
        if self.nc is not None and not self.nc.is_closed:
            await finish_within(
                asyncio.ensure_future(self.nc.close()),
                within=max(deadline - loop.time(), 0.5),
                what=f"closing the NATS connection of {self.name} to {self.url}",
            )

    async def _connect(self) -> None:
        servers = [server.strip() for server in self.url.split(",") if server.strip()]
        self.nc = await nats.connect(
            servers,
            name=self.name,
            max_reconnect_attempts=-1,
            reconnect_time_wait=self.reconnect_seconds,
            connect_timeout=2,
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
        )
        self._js = self.nc.jetstream(timeout=self.request_timeout)
        log.info("connected to NATS at %s", self.url)
        await self._ensure_streams()

    async def _ensure_streams(self) -> None:
        assert self._js is not None
        delay = self.reconnect_seconds
        while True:
            try:
                await ensure_streams(self._js, self.stream_replicas)
            except Exception as exc:  # noqa: BLE001 - JetStream may still be starting; retry
                self.last_error = f"stream bootstrap failed: {type(exc).__name__}: {exc}"
                log.warning("NATS at %s: %s; retrying in %.1fs", self.url, self.last_error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            self.disconnected_since = None
            self.last_error = None
            self._ready.set()
            return

    async def _on_error(self, exc: Exception) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        log.warning("NATS at %s: %s (retrying every %.1fs)", self.url, exc, self.reconnect_seconds)

    async def _on_disconnected(self) -> None:
        self._ready.clear()
        if self.disconnected_since is None:
            self.disconnected_since = time.monotonic()
        log.warning("disconnected from NATS at %s; events wait in the outbox", self.url)

    async def _on_reconnected(self) -> None:
        log.info("reconnected to NATS at %s", self.url)
        # The server may have lost its store (or be a new cluster): bootstrap again.
        if self._bootstrap is None or self._bootstrap.done():
            self._bootstrap = asyncio.create_task(self._ensure_streams())
