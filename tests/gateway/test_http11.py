from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from gateway.http11 import HTTPError, Pool


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    return await reader.readexactly(length)


@pytest.fixture
async def server() -> AsyncIterator[Callable[..., Any]]:
    servers: list[asyncio.Server] = []

    async def start(handler) -> str:  # type: ignore[no-untyped-def]
        srv = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(srv)
        return f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}/graphql"

    yield start
    for srv in servers:
        srv.close()


async def test_responses_with_length_and_chunked_bodies_reuse_one_connection(server) -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        body = await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        await writer.drain()
        await reader.read()

    pool = Pool(await server(handler))
    assert await pool.post(b'{"a":1}', {}) == (200, b'{"a":1}')
    assert await pool.post(b"{}", {"x-request-id": "r"}) == (200, b"abcde")
    assert connections == 1
    pool.close()


async def test_a_keep_alive_connection_the_server_closed_is_retried_once(server) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # the server drops the idle connection

    pool = Pool(await server(handler))
    assert await pool.post(b"{}", {}) == (200, b"ok")
    await asyncio.sleep(0.05)
    assert await pool.post(b"{}", {}) == (200, b"ok")
    pool.close()


async def test_a_server_that_answers_garbage_is_an_error(server) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()
        writer.close()

    pool = Pool(await server(handler))
    with pytest.raises(HTTPError):
        await pool.post(b"{}", {})
