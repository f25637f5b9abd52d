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


def _close_wait_sockets(port: int) -> int:
    """Sockets of this machine in CLOSE-WAIT towards ``port`` (the server's end closed, ours
    not yet)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote, state = fields[2], fields[3]
            if state == "08" and int(remote.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


async def _eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_connections_the_server_closed_are_closed_here_too_without_a_request(
    server,
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()  # a keep-alive timeout, after the answer

    url = await server(handler)
    port = int(url.split(":")[2].split("/")[0])
    pool = Pool(url, idle_seconds=0.3)
    answers = await asyncio.gather(*(pool.post(b"{}", {}) for _ in range(20)))
    assert answers == [(200, b"ok")] * 20
    assert pool.idle == 20
    # The server's closes land; nothing is sent meanwhile, yet the sweep closes our ends.
    await _eventually(lambda: pool.idle == 0 and _close_wait_sockets(port) == 0)
    assert await pool.post(b"{}", {}) == (200, b"ok")
    pool.close()


async def test_idle_connections_are_closed_after_the_idle_time(server) -> None:
    closed_by_client = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal closed_by_client
        while True:
            try:
                await _read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                closed_by_client += 1
                writer.close()
                return
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"2\r\nok\r\n0\r\n\r\n")
            await writer.drain()

    pool = Pool(await server(handler), idle_seconds=0.2)
    assert await asyncio.gather(*(pool.post(b"{}", {}) for _ in range(5))) == [(200, b"ok")] * 5
    assert pool.idle == 5
    await _eventually(lambda: pool.idle == 0 and closed_by_client == 5)
    pool.close()


async def test_a_restarted_server_is_reached_again() -> None:
    open_writers: list[asyncio.StreamWriter] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        open_writers.append(writer)
        try:
            while True:
                await _read_request(reader)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    first = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = first.sockets[0].getsockname()[1]
    pool = Pool(f"http://127.0.0.1:{port}/graphql", idle_seconds=30)
    assert await asyncio.gather(*(pool.post(b"{}", {}) for _ in range(4))) == [(200, b"ok")] * 4
    first.close()
    for writer in open_writers:  # the server goes away with its connections
        writer.close()
    await first.wait_closed()
    await _eventually(lambda: pool.idle == 0 or all(
        c.peer_closed() for c in pool._idle))
    with pytest.raises((HTTPError, OSError)):  # the gateway's client answers SubgraphError
        await pool.post(b"{}", {})  # nothing listens: the caller hears of it
    second = await asyncio.start_server(handler, "127.0.0.1", port)
    try:
        assert await pool.post(b"{}", {}) == (200, b"ok")
        assert pool.idle == 1  # the dead connections were dropped, not reused
    finally:
        pool.close()
        second.close()


def _answering(*responses: bytes, then_close: bool = False) -> Callable[..., Any]:
    """A server handler that answers each request with the next of ``responses``."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for response in responses:
            try:
                await _read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(response)
            await writer.drain()
        if then_close:
            writer.close()
        else:
            await reader.read()

    return handler


@pytest.mark.parametrize("response", [
    b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"HTTP/1.1 2OO OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
], ids=["length-not-a-number", "two-lengths", "chunk-size-not-hex", "status-not-a-number",
        "header-without-colon"])
async def test_a_malformed_response_is_an_http_error_not_a_crash(server, response: bytes) -> None:
    pool = Pool(await server(_answering(response, then_close=True)))
    with pytest.raises(HTTPError, match="not a valid HTTP response"):
        await pool.post(b"{}", {})
    assert pool.idle == 0
    pool.close()


async def test_responses_over_the_limit_are_refused_whatever_their_framing(server) -> None:
    announced = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               + (b"400\r\n" + b"x" * 1024 + b"\r\n") * 5 + b"0\r\n\r\n")
    until_close = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 5000
    for response in (announced, chunked, until_close):
        pool = Pool(await server(_answering(response, then_close=True)), max_response_bytes=4096)
        with pytest.raises(HTTPError, match="over the limit"):
            await pool.post(b"{}", {})
        pool.close()


async def test_a_body_that_ends_at_close_is_read_and_its_connection_not_kept(server) -> None:
    pool = Pool(await server(_answering(
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"data\":{}}", then_close=True)))
    assert await pool.post(b"{}", {}) == (200, b'{"data":{}}')
    assert pool.idle == 0
    pool.close()


async def test_a_response_cut_short_is_an_error_and_not_sent_again(server) -> None:
    requests = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        await _read_request(reader)
        requests += 1
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"da")
        await writer.drain()
        writer.close()

    pool = Pool(await server(handler))
    with pytest.raises(HTTPError, match="mid-response"):
        await pool.post(b"{}", {})
    assert requests == 1
    pool.close()


async def test_interim_answers_are_skipped_for_the_final_one(server) -> None:
    pool = Pool(await server(_answering(
        b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes")))
    assert await pool.post(b"{}", {}) == (200, b"ok")
    assert await pool.post(b"{}", {}) == (200, b"yes")
    pool.close()


async def test_a_connection_with_bytes_past_its_response_is_not_reused(server) -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await _read_request(reader)
        # A second, unasked-for response: reusing the connection would hand it to the next
        # request as its answer.
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                     b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")
        await writer.drain()
        await reader.read()

    pool = Pool(await server(handler))
    assert await pool.post(b"{}", {}) == (200, b"ok")
    assert await pool.post(b"{}", {}) == (200, b"ok")
    assert connections == 2
    pool.close()
