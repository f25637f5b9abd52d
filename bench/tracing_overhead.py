"""Tracing's cost: the whole system under a fixed closed-loop load through the gateway, with
tracing off, sampling 1% and sampling 100%, from one run.

``python -m bench.tracing_overhead [--seconds 3] [--cycles 6] [--concurrency 16]``. Three
systems run side by side, started as `make run` starts them (one off, one at 1%, one at 100%),
each exporting its spans over OTLP/HTTP to a local endpoint that counts and discards them, so
the processes pay for recording, batching, encoding and sending as against a Collector. The
load (a separate process, bench/gateway_load.py) runs two operations a signed-in business
sends: one facility answers from its database, one the gateway joins across facility and
submittal. It visits the three systems in turn, a few seconds each, for several cycles in
rotating order, so whatever else the machine runs weighs on all three alike.

Two figures per mode: throughput, and the CPU time the system's processes spent per request
(CPU-bound, the cost in throughput). The target: under 10% at 1%.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.gateway_bench import _cpu_seconds, _load

MODES = {"off": None, "1%": "0.01", "100%": "1.0"}
FACILITIES = """query Facilities { myBusinesses { edges { node { id name
  facilities(first: 10) { edges { node { id cersId name complianceStatus annualDueDate } } }
} } } }"""
ELEMENTS = """query Elements($id: ID!) { facility(id: $id) { id name complianceStatus
  submittalElements { element status submittedAt } } }"""


class Discard:
    """An OTLP/HTTP endpoint that answers 200 and keeps only counts."""

    def __init__(self) -> None:
        self.requests = 0
        self.bytes = 0
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                size = int(self.headers.get("content-length", "0"))
                self.rfile.read(size)
                counter.requests += 1
                counter.bytes += size
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[Discard]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def _workload(system: Any) -> list[Any]:
    from tests.e2e import client
    from tests.e2e.conftest import DEMO_BUSINESS
    from tests.e2e.system import eventually

    token = client.sign_in(system, *DEMO_BUSINESS).access_token
    headers = {"authorization": f"Bearer {token}"}

    def facility_ids() -> list[str] | None:
        body = system.graphql(FACILITIES, token=token)
        edges = (body.get("data") or {}).get("myBusinesses", {}).get("edges") or []
        ids = [f["node"]["id"] for e in edges for f in e["node"]["facilities"]["edges"]]
        return ids or None

    ids = eventually(facility_ids, timeout=120)
    for facility_id in ids:  # answered without errors before the load counts them
        eventually(lambda i=facility_id: not system.graphql(
            ELEMENTS, {"id": i}, token=token).get("errors"), timeout=60)
    return [[headers, {"query": FACILITIES}], *(
        [headers, {"query": ELEMENTS, "variables": {"id": i}}] for i in ids)]


def _start(folder: Path, ratio: str | None, endpoint: str) -> Any:
    from tests.e2e.system import RunningSystem

    system = RunningSystem(folder / "var", nats_url=None, demo=True)
    system.env.update({"LOG_LEVEL": "WARNING", "IDENTITY_ADDRESS_ATTEMPTS_PER_MINUTE": "1000"})
    system.env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    if ratio is not None:
        system.env.update({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
                           "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
                           "OTEL_TRACES_SAMPLER_ARG": ratio})
    system.start()
    return system


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="per visit")
    parser.add_argument("--cycles", type=int,
                        default=int(os.environ.get("BENCH_CYCLES", "6")))
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="tracing-bench-"))
    systems: dict[str, Any] = {}
    totals = {mode: {"requests": 0, "seconds": 0.0, "cpu": 0.0, "errors": 0}
              for mode in MODES}
    with Discard().running() as sink:
        try:
            bodies: dict[str, list[Any]] = {}
            for mode, ratio in MODES.items():
                systems[mode] = _start(folder / mode.rstrip("%"), ratio, sink.url)
                bodies[mode] = _workload(systems[mode])
            order = list(MODES)
            for cycle in range(args.cycles):
                for mode in order[cycle % 3:] + order[:cycle % 3]:
                    system = systems[mode]
                    before_cpu = _cpu_seconds(system.process.pid)
                    r = _load(folder, f"{system.base_url}/graphql", bodies[mode],
                              args.concurrency, args.seconds)
                    total = totals[mode]
                    total["cpu"] += _cpu_seconds(system.process.pid) - before_cpu
                    total["requests"] += r["requests"] + r["warmup_requests"]
                    total["seconds"] += r["seconds"]
                    total["errors"] += r["errors"]
        finally:
            for system in systems.values():
                system.stop()
        exports, megabytes = sink.requests, sink.bytes / 1e6
    rows = {}
    for mode, total in totals.items():
        rps = total["requests"] / max(total["seconds"], 1e-9)
        cpu = total["cpu"] * 1000 / max(1, total["requests"])
        rows[mode] = (rps, cpu)
        print(f"tracing {mode:5} {rps:8.1f} req/s  cpu {cpu:6.3f} ms/req  "
              f"errors {total['errors']}", flush=True)
    print(f"OTLP exports received (1% and 100% together): {exports}, {megabytes:.1f} MB")
    print("\nratios against tracing off (same run, interleaved):")
    for mode in ("1%", "100%"):
        rps, cpu = rows[mode][0] / rows["off"][0], rows[mode][1] / rows["off"][1]
        verdict = ""
        if mode == "1%":
            verdict = f"  (target: under 10% cost: {'met' if cpu < 1.10 else 'NOT met'})"
        print(f"  {mode:5} / off: throughput {rps:5.3f}, CPU per request {cpu:5.3f}{verdict}")
    (folder / "results.json").write_text(json.dumps(totals, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
