"""A small closed-loop HTTP/1.1 load generator: fixed concurrency over keep-alive sockets.

Run as its own process: ``python -m bench.gateway_load URL BODIES.json CONCURRENCY SECONDS``
where BODIES.json is a list of [headers, body] pairs cycled through. Prints one JSON line:
requests, errors, seconds, rps, p50_ms, p99_ms.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any
from urllib.parse import urlsplit


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if length is not None:
        return status, await reader.readexactly(length)
    if chunked:
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return status, bytes(body)
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    return status, b""


async def _worker(
    host: str, port: int, path: str, requests: list[bytes], offset: int,
    stop_at: float, latencies: list[float], errors: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = offset
    n = len(requests)
    try:
        while time.perf_counter() < stop_at:
            raw = requests[i % n]
            i += 1
            started = time.perf_counter()
            writer.write(raw)
            status, body = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            if status != 200 or b'"errors"' in body:
                errors[0] += 1
    finally:
        writer.close()


def _encode(host: str, port: int, path: str, headers: dict[str, str], body: Any) -> bytes:
    payload = json.dumps(body).encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}",
             "Content-Type: application/json", f"Content-Length: {len(payload)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def run(url: str, bodies: list[Any], concurrency: int, seconds: float) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
    requests = [_encode(host, port, path, h, b) for h, b in bodies]
    warm_latencies: list[float] = []
    warm_errors = [0]
    warm_until = time.perf_counter() + min(2.0, seconds / 3)
    await asyncio.gather(*(
        _worker(host, port, path, requests, c * 7, warm_until, warm_latencies, warm_errors)
        for c in range(concurrency)
    ))
    latencies: list[float] = []
    errors = [0]
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(
        _worker(host, port, path, requests, c * 7, stop_at, latencies, errors)
        for c in range(concurrency)
    ))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies \
            else float("nan")

    return {"requests": len(latencies), "warmup_requests": len(warm_latencies),
            "errors": errors[0], "seconds": round(elapsed, 2),
            "rps": round(len(latencies) / elapsed, 1), "p50_ms": round(pct(0.50), 2),
            "p99_ms": round(pct(0.99), 2)}


def cli() -> None:
    url, bodies_file, concurrency, seconds = sys.argv[1:5]
    with open(bodies_file) as f:
        bodies = json.load(f)
    import uvloop

    print(json.dumps(uvloop.run(run(url, bodies, int(concurrency), float(seconds)))))


if __name__ == "__main__":
    cli()
