"""Runs ASGI apps with uvicorn on free loopback ports in one background thread."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

T = TypeVar("T")


class ServerThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.servers: list[tuple[uvicorn.Server, socket.socket, Any]] = []

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def serve(self, app: ASGIApp, lifespan: str = "on") -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(256)
        port = sock.getsockname()[1]
        # As the processes run (gateway/__main__.py): the peer is the peer, whatever a client
        # writes in X-Forwarded-For.
        config = uvicorn.Config(app, lifespan=lifespan, log_level="warning", access_log=False,
                                proxy_headers=False)
        server = uvicorn.Server(config)

        async def start() -> Any:
            task = asyncio.ensure_future(server.serve(sockets=[sock]))
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
            return task

        task = self.run(start())
        self.servers.append((server, sock, task))
        return f"http://127.0.0.1:{port}"

    def stop_server(self, url: str) -> None:
        for entry in list(self.servers):
            server, sock, task = entry
            if url.endswith(f":{sock.getsockname()[1]}"):
                server.should_exit = True
                self.run(asyncio.wait_for(asyncio.shield(task), 10))
                sock.close()
                self.servers.remove(entry)

    def close(self) -> None:
        for server, _, _ in self.servers:
            server.should_exit = True

        async def wait() -> None:
            await asyncio.gather(*(t for _, _, t in self.servers), return_exceptions=True)

        self.run(wait())
        for _, sock, _ in self.servers:
            sock.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
