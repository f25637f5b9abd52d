"""Gateway benchmark: direct subgraph call (the floor), our gateway, @apollo/gateway and
Hive Gateway, over the same subgraphs and operations, from one run.

``python -m bench.gateway_bench [--seconds 8] [--concurrency 32]``. Load comes from a separate
process (bench/gateway_load.py) on loopback at fixed concurrency. Two workloads: identical
requests, and requests whose variables and token vary (Hive Gateway deduplicates identical
in-flight requests, which flatters it on the first).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from common.natsserver import free_port

ROOT = Path(__file__).resolve().parents[1]
ISSUER = "http://bench.gateway"
AUDIENCE = "cers-api"

SINGLE = ("single-subgraph",
          "query One($id: ID!) { facility(id: $id) { id name cersId } }",
          lambda i: {"id": f"f{1 + i % 3}"})
NESTED = ("nested across 3 subgraphs",
          "query Nested($first: Int!) { facilities(first: $first) { name organization { name } "
          "elements { kind submittedBy { username name } } } }",
          lambda i: {"first": 2 + i % 2})


def serve_subgraph(name: str, port: int) -> None:
    import uvicorn

    from tests.gateway.conftest import subgraph_app
    from tests.gateway.subgraphs.core import SCHEMAS

    uvicorn.run(subgraph_app(name, SCHEMAS[name], record=False), host="127.0.0.1", port=port,
                log_level="warning", access_log=False)


def serve_jwks(key_file: str, port: int) -> None:
    import uvicorn
    from joserfc.jwk import RSAKey
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    key = RSAKey.import_key(json.loads(Path(key_file).read_text()))
    body = {"keys": [key.as_dict(private=False)]}

    async def jwks(_: Any) -> JSONResponse:
        return JSONResponse(body)

    uvicorn.run(Starlette(routes=[Route("/jwks.json", jwks)]), host="127.0.0.1", port=port,
                log_level="warning")


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and all its descendants (Hive Gateway may fork workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    family = {pid}
    grew = True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in family and child not in family:
                family.add(child)
                grew = True
    return sum(times.get(p, 0.0) for p in family)


def _wait(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


class Harness:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: list[subprocess.Popen[bytes]] = []
        self.node: list[Any] = []

    def spawn(self, args: list[str], env: dict[str, str] | None = None) -> int:
        log = (self.workdir / f"proc-{len(self.processes)}.log").open("w")
        self.processes.append(subprocess.Popen(
            args, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=log
        ))
        return self.processes[-1].pid

    def close(self) -> None:
        for n in self.node:
            n.stop()
        for p in self.processes:
            p.terminate()
        for p in self.processes:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def _tokens(key_file: Path, count: int) -> list[str]:
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    key = RSAKey.import_key(json.loads(key_file.read_text()))
    now = int(time.time())
    return [
        jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": "bench"}, {
            "iss": ISSUER, "aud": AUDIENCE, "sub": f"user-{i}", "portal": "business",
            "scope": "openid", "client_id": "bench", "iat": now, "exp": now + 3600,
            "jti": uuid.uuid4().hex}, key)
        for i in range(count)
    ]


def _bodies(query: str, variables: Any, tokens: list[str], vary: bool) -> list[Any]:
    if not vary:
        return [[{"authorization": f"Bearer {tokens[0]}"},
                 {"query": query, "variables": variables(0)}]]
    return [[{"authorization": f"Bearer {tokens[i % len(tokens)]}"},
             {"query": query, "variables": variables(i)}] for i in range(200)]


def _load(workdir: Path, url: str, bodies: list[Any], concurrency: int, seconds: float
          ) -> dict[str, Any]:
    path = workdir / f"bodies-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(bodies))
    out = subprocess.run(
        [sys.executable, "-m", "bench.gateway_load", url, str(path), str(concurrency),
         str(seconds)], cwd=ROOT, capture_output=True, text=True, check=True,
        timeout=seconds * 3 + 60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS",
                                                                              "8")))
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--only", default="", help="comma list of targets to run")
    args = parser.parse_args(argv)
    from joserfc.jwk import RSAKey

    from tests.gateway.compose import SUPERGRAPHS
    from tests.gateway.reference import NodeGateway, node_available, with_urls

    workdir = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    harness = Harness(workdir)
    try:
        key_file = workdir / "key.json"
        key = RSAKey.generate_key(2048, {"kid": "bench"})
        key_file.write_text(json.dumps(key.as_dict(private=True)))
        jwks_port = free_port()
        harness.spawn([sys.executable, "-m", "bench.gateway_bench", "jwks", str(key_file),
                       str(jwks_port)])
        urls = {}
        pids: dict[str, int] = {}
        for name in ("users", "orgs", "elements"):
            port = free_port()
            pid = harness.spawn([sys.executable, "-m", "bench.gateway_bench", "subgraph", name,
                                 str(port)])
            urls[name] = f"http://127.0.0.1:{port}/graphql"
            if name == "orgs":
                pids["direct"] = pid
        for url in urls.values():
            _wait(url.removesuffix("/graphql") + "/healthz")
        supergraph = workdir / "supergraph.graphql"
        supergraph.write_text(with_urls((SUPERGRAPHS / "core.graphql").read_text(), urls))
        targets: dict[str, str] = {}
        gw_port = free_port()
        pids["ours"] = harness.spawn([sys.executable, "-m", "gateway"], env={
            "GATEWAY_SUPERGRAPH": str(supergraph), "GATEWAY_PORT": str(gw_port),
            "GATEWAY_OPS_PORT": str(free_port()),
            "JWKS_URL": f"http://127.0.0.1:{jwks_port}/jwks.json", "PUBLIC_BASE_URL": ISSUER,
            "API_AUDIENCE": AUDIENCE, "LOG_LEVEL": "WARNING", "GATEWAY_MAX_COST": "100000",
        })
        targets["ours"] = f"http://127.0.0.1:{gw_port}/graphql"
        _wait(f"http://127.0.0.1:{gw_port}/healthz")
        if node_available():
            for kind in ("apollo", "hive"):
                gateway = NodeGateway(kind, supergraph).start(timeout=120)
                harness.node.append(gateway)
                targets[kind] = gateway.url + "/graphql"
                assert gateway.process is not None
                pids[kind] = gateway.process.pid
        else:
            print("node is not installed: skipping @apollo/gateway and Hive Gateway")
        only = {t for t in args.only.split(",") if t}
        tokens = _tokens(key_file, 50)
        results: list[dict[str, Any]] = []
        for label, query, variables in (SINGLE, NESTED):
            for vary in (False, True):
                workload = "varying variables+token" if vary else "identical requests"
                bodies = _bodies(query, variables, tokens, vary)
                runs = dict(targets)
                if label == SINGLE[0]:
                    runs = {"direct": urls["orgs"], **runs}
                for target, url in runs.items():
                    if only and target not in only:
                        continue
                    cpu_before = _cpu_seconds(pids[target])
                    r = _load(workdir, url, bodies, args.concurrency, args.seconds)
                    cpu = _cpu_seconds(pids[target]) - cpu_before
                    # CPU per request of the target process alone, warm-up included on both
                    # sides: a figure that stays meaningful when the machine is busy.
                    total = r["requests"] + r["warmup_requests"]
                    r["cpu_ms_per_req"] = round(cpu * 1000 / max(1, total), 3)
                    r.update(query=label, workload=workload, target=target)
                    results.append(r)
                    print(f"{label:28} {workload:24} {target:7} {r['rps']:9.1f} req/s  "
                          f"p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
                          f"cpu {r['cpu_ms_per_req']:6.3f} ms/req  errors {r['errors']}",
                          flush=True)
        _print_ratios(results)
        (workdir / "results.json").write_text(json.dumps(results, indent=2))
        print(f"results: {workdir / 'results.json'}")
    finally:
        harness.close()
    return 0


def _print_ratios(results: list[dict[str, Any]]) -> None:
    print("\nratios (same run):")
    groups: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["query"], r["workload"]), {})[r["target"]] = r
    for (query, workload), by in groups.items():
        ours = by.get("ours")
        if not ours:
            continue
        parts = []
        if "direct" in by:
            parts.append(f"p50 ours/direct {ours['p50_ms'] / by['direct']['p50_ms']:.2f}x")
        for other in ("hive", "apollo"):
            if other in by:
                parts.append(f"rps ours/{other} {ours['rps'] / by[other]['rps']:.2f}x")
                parts.append(
                    f"cpu/req ours/{other} "
                    f"{ours['cpu_ms_per_req'] / max(by[other]['cpu_ms_per_req'], 1e-9):.2f}x"
                )
        print(f"  {query:28} {workload:24} " + ", ".join(parts))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "subgraph":
        serve_subgraph(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "jwks":
        serve_jwks(sys.argv[2], int(sys.argv[3]))
    else:
        raise SystemExit(main())
