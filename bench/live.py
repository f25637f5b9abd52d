"""Live updates under load: many concurrent subscriptions through the gateway, events fanned
out to all of them.

``python -m bench live [--subscriptions 5000] [--users 5000] [--events 10]``. Real parts:
nats-server, the submittal service and the gateway as their own processes (SQLite), clients
in this process over graphql-transport-ws. Each subscriber is a regulator of the one agency
whose facility the events are about, so every event reaches every subscription.

Reports, for one subscription (the baseline) and for N, from the same run:
- event-to-client latency (publish to NATS -> the client has the result): p50, p99, max;
- memory per subscription: the growth of the gateway's and submittal's RSS over the baseline,
  divided by N;
- CPU per delivered event: the gateway's and submittal's CPU seconds over the event phase,
  divided by the results delivered.
Events are published one at a time, each once every subscription has it (or after 60 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import nats
import websockets

from bench.gateway_bench import AUDIENCE, ISSUER, Harness, _cpu_seconds, _wait
from common.contracts import facility as contract
from common.events import Envelope, ensure_streams
from common.natsserver import NatsServerProcess, free_port

QUERY = "subscription { reviewQueueChanged { kind eventId element { id status } } }"
MARK = """mutation($f: ID!) { markNotApplicable(input: {facilityId: $f, element: UST}) {
  element { id } userErrors { code message } } }"""
UNREACHABLE = "http://127.0.0.1:9"


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Tokens:
    def __init__(self, key_file: Path) -> None:
        from joserfc.jwk import RSAKey

        self.key = RSAKey.import_key(json.loads(key_file.read_text()))

    def mint(self, sub: str, portal: str) -> str:
        from joserfc import jwt

        now = int(time.time())
        return jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": "bench"}, {
            "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "portal": portal, "scope": "openid",
            "client_id": "bench", "iat": now, "exp": now + 3600, "jti": uuid.uuid4().hex},
            self.key)


class Client:
    """One subscriber: records when each event's result arrives."""

    def __init__(self, arrivals: dict[str, list[float]]) -> None:
        self.arrivals = arrivals
        self.ready = asyncio.Event()
        self.failed: str | None = None
        self.task: asyncio.Task[None] | None = None

    async def run(self, url: str, token: str) -> None:
        try:
            async with websockets.connect(url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                                          max_size=None, ping_interval=None,
                                          open_timeout=120) as ws:
                await ws.send(json.dumps({"type": "connection_init",
                                          "payload": {"Authorization": f"Bearer {token}"}}))
                await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                          "payload": {"query": QUERY}}))
                async for raw in ws:
                    message = json.loads(raw)
                    kind = message.get("type")
                    if kind == "connection_ack":
                        self.ready.set()
                    elif kind == "ping":
                        await ws.send('{"type":"pong"}')
                    elif kind == "next":
                        arrived = time.perf_counter()
                        data = (message["payload"].get("data") or {}).get("reviewQueueChanged")
                        if data:
                            self.arrivals.setdefault(data["eventId"], []).append(arrived)
                        else:
                            self.failed = json.dumps(message["payload"])[:300]
                    elif kind in ("error", "complete"):
                        self.failed = self.failed or kind
                        return
        except Exception as exc:  # noqa: BLE001 - reported with the results
            self.failed = f"{type(exc).__name__}: {exc}"
        finally:
            self.ready.set()


async def _gauge(url: str, name: str) -> float:
    """A gauge of a process's /metrics; a process too busy to answer reads as 0 for now."""
    try:
        async with httpx.AsyncClient() as http:
            text = (await http.get(url, timeout=60)).text
    except httpx.HTTPError:
        return 0.0
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


async def _phase(count: int, users: int, events: int, *, gateway: str, submittal_ops: str,
                 gateway_ops: str,
                 tokens: Tokens, js: Any, facility: dict[str, str], pids: dict[str, int],
                 sequence: list[int]) -> dict[str, Any]:
    arrivals: dict[str, list[float]] = {}
    rss_before = {name: _rss(pid) for name, pid in pids.items()}
    clients_ = [Client(arrivals) for _ in range(count)]
    started = time.perf_counter()
    # One token per user (a user's tabs and devices of one sign-in share it).
    minted = [tokens.mint(f"reg-{u}", "regulator") for u in range(min(users, count))]
    tokens_for = [minted[i % len(minted)] for i in range(count)]
    for i, client in enumerate(clients_):
        client.task = asyncio.ensure_future(client.run(gateway, tokens_for[i]))
        if i % 200 == 199:
            await asyncio.sleep(0.05)  # a burst of connects, not one giant wave
    deadline = time.monotonic() + 300

    async def clients() -> int:
        return int(await _gauge(gateway_ops + "/metrics", "gateway_live_subscriptions"))

    async def upstream() -> int:
        return int(await _gauge(submittal_ops + "/metrics", "submittal_live_subscriptions"))

    # Every client subscribed at the gateway, and at least one upstream subscription per
    # user in the subgraph (the gateway shares one among the clients of one token).
    while await clients() < count or await upstream() < min(users, count):
        if time.monotonic() > deadline or all(c.failed for c in clients_):
            break
        await asyncio.sleep(0.25)
    setup = time.perf_counter() - started
    subscribed = await clients()
    upstream_subscriptions = await upstream()
    await asyncio.sleep(2)  # let allocation settle before measuring memory
    rss_after = {name: _rss(pid) for name, pid in pids.items()}
    cpu_before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
    latencies: list[float] = []
    for _ in range(events):
        sequence[0] += 1
        envelope = Envelope(
            type="submittal.element.not_applicable", aggregate_id=facility["facility"],
            sequence=sequence[0], data={
                "facility_id": facility["facility"], "organization_id": facility["org"],
                "element_id": facility["element"], "element": "UST", "marked_by": "bench",
                "marked_at": datetime.now(UTC).isoformat()})
        published = time.perf_counter()
        await js.publish(envelope.type, envelope.to_json(),
                         headers={"Nats-Msg-Id": envelope.id})
        wait_until = time.monotonic() + 60
        while len(arrivals.get(envelope.id, ())) < subscribed and (  # noqa: ASYNC110
                time.monotonic() < wait_until):  # polls a count many clients update
            await asyncio.sleep(0.005)
        latencies += [t - published for t in arrivals.get(envelope.id, ())]
    cpu_after = {name: _cpu_seconds(pid) for name, pid in pids.items()}
    delivered = len(latencies)
    for client in clients_:
        assert client.task is not None
        client.task.cancel()
    await asyncio.gather(*(c.task for c in clients_ if c.task), return_exceptions=True)
    failures = [c.failed for c in clients_ if c.failed]
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "subscriptions": count, "subscribed": subscribed, "users": min(users, count),
        "upstream_subscriptions": upstream_subscriptions,
        "setup_s": round(setup, 2), "events": events, "delivered": delivered,
        "expected": events * subscribed,
        "latency_ms": {"p50": round(pct(0.50), 1), "p99": round(pct(0.99), 1),
                       "max": round(latencies[-1] * 1000, 1),
                       "mean": round(statistics.fmean(latencies) * 1000, 1)}
        if latencies else None,
        "rss_growth_bytes": {n: rss_after[n] - rss_before[n] for n in pids},
        "cpu_s": {n: round(cpu_after[n] - cpu_before[n], 3) for n in pids},
        "failures": len(failures), "first_failure": failures[0] if failures else None,
    }


async def _run(args: argparse.Namespace, workdir: Path, harness: Harness) -> dict[str, Any]:
    from joserfc.jwk import RSAKey

    key_file = workdir / "key.json"
    key_file.write_text(json.dumps(RSAKey.generate_key(2048, {"kid": "bench"})
                                   .as_dict(private=True)))
    tokens = Tokens(key_file)
    jwks_port = free_port()
    harness.spawn([sys.executable, "-m", "bench.gateway_bench", "jwks", str(key_file),
                   str(jwks_port)])
    jwks = f"http://127.0.0.1:{jwks_port}/jwks.json"
    _wait(jwks)
    nats_server = NatsServerProcess(workdir / "nats")
    nats_server.start()
    try:
        ports = {n: free_port() for n in ("submittal", "submittal_ops", "gateway", "gateway_ops")}
        common = {"NATS_URL": nats_server.url, "JWKS_URL": jwks, "PUBLIC_BASE_URL": ISSUER,
                  "API_AUDIENCE": AUDIENCE, "DEMO": "0", "AUTO_MIGRATE": "1",
                  "DATA_DIR": str(workdir / "data"), "LOG_LEVEL": "WARNING",
                  "ENVIRONMENT": "embedded"}
        pids = {"submittal": harness.spawn(
            [sys.executable, "-m", "services.submittal", "serve"], env={
                **common, "SUBMITTAL_PORT": str(ports["submittal"]),
                "SUBMITTAL_OPS_PORT": str(ports["submittal_ops"]),
                "SUBMITTAL_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/submittal.db"})}
        submittal = f"http://127.0.0.1:{ports['submittal']}"
        submittal_ops = f"http://127.0.0.1:{ports['submittal_ops']}"
        _wait(submittal_ops + "/healthz", 120)
        pids["gateway"] = harness.spawn([sys.executable, "-m", "gateway"], env={
            **common, "GATEWAY_PORT": str(ports["gateway"]),
            "GATEWAY_OPS_PORT": str(ports["gateway_ops"]), "SUBMITTAL_URL": submittal,
            "IDENTITY_URL": UNREACHABLE, "FACILITY_URL": UNREACHABLE,
            "GATEWAY_MAX_SUBSCRIPTIONS_PER_USER": str(args.subscriptions + 10),
            "GATEWAY_MAX_LIVE_CONNECTIONS_PER_ADDRESS": str(args.subscriptions + 10)})
        _wait(f"http://127.0.0.1:{ports['gateway_ops']}/healthz", 120)

        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        await ensure_streams(js)
        facility = await _seed(js, submittal, tokens, args.users)
        gateway = f"ws://127.0.0.1:{ports['gateway']}/graphql"
        sequence = [100]
        phase = dict(gateway=gateway, submittal_ops=submittal_ops,
                     gateway_ops=f"http://127.0.0.1:{ports['gateway_ops']}", tokens=tokens, js=js,
                     facility=facility, pids=pids, sequence=sequence)
        baseline = await _phase(1, 1, args.events, **phase)  # type: ignore[arg-type]
        loaded = await _phase(args.subscriptions, args.users, args.events,
                              **phase)  # type: ignore[arg-type]
        await nc.close()
        return {"baseline": baseline, "loaded": loaded}
    finally:
        nats_server.stop()


async def _seed(js: Any, submittal: str, tokens: Tokens, users: int) -> dict[str, str]:
    """An agency with ``users`` regulators (VIEWER), a business, its facility, and one
    element of it (marked not applicable) that the events are about."""
    org, agency, facility = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())

    async def publish(type_: str, aggregate: str, payload: Any) -> None:
        envelope = Envelope(type=type_, aggregate_id=aggregate, sequence=1,
                            data=payload.model_dump(mode="json"), actor="bench")
        await js.publish(type_, envelope.to_json(), headers={"Nats-Msg-Id": envelope.id})

    for i in range(users):
        await publish(contract.STAFF_GRANTED, f"{agency}:reg-{i}", contract.StaffGranted(
            agency_id=agency, user_id=f"reg-{i}", role="VIEWER"))
    await publish(contract.ORGANIZATION_CREATED, org, contract.OrganizationCreated(
        organization_id=org, name="Bench Fuel", org_code=12345678))
    await publish(contract.FACILITY_CREATED, facility, contract.FacilityCreated(
        facility=contract.Facility(
            facility_id=facility, cers_id=10000001, organization_id=org, agency_id=agency,
            county_id=32, annual_due_date=date(2027, 3, 1),
            record=contract.FacilityRecord(
                name="Bench Yard", county="Plumas", city="Quincy",
                site_address={"street": "1 Main St", "city": "Quincy", "zip": "95971"},
                mailing_address={}, contacts={}, owner_operator={})),
        demo=False))
    await publish(contract.MEMBERSHIP_GRANTED, f"{org}:lead", contract.MembershipGranted(
        organization_id=org, user_id="lead", role="LEAD_USER"))
    token = tokens.mint("lead", "business")
    deadline = time.monotonic() + 300
    async with httpx.AsyncClient() as http:
        while True:
            try:
                body = (await http.post(submittal + "/graphql", json={
                    "query": MARK, "variables": {"f": facility}},
                    headers={"authorization": f"Bearer {token}"}, timeout=60)).json()
            except httpx.HTTPError as exc:
                body = {"error": str(exc)}
            element = ((body.get("data") or {}).get("markNotApplicable") or {}).get("element")
            if element:
                return {"org": org, "facility": facility, "element": element["id"]}
            if time.monotonic() > deadline:
                raise RuntimeError(f"the read model never caught up: {body}")
            await asyncio.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscriptions", type=int,
                        default=int(os.environ.get("BENCH_SUBSCRIPTIONS", "5000")))
    parser.add_argument("--users", type=int, default=0, help="distinct users (default: one "
                        "per subscription)")
    parser.add_argument("--events", type=int, default=10)
    args = parser.parse_args(argv)
    args.users = args.users or args.subscriptions
    workdir = Path(tempfile.mkdtemp(prefix="live-bench-"))
    harness = Harness(workdir)
    try:
        result = asyncio.run(_run(args, workdir, harness))
    finally:
        harness.close()
    base, loaded = result["baseline"], result["loaded"]
    print(json.dumps(result, indent=2))
    if loaded["latency_ms"] and base["latency_ms"]:
        n = loaded["subscribed"] or 1
        print(f"\n{loaded['subscribed']} subscriptions ({loaded['users']} users, "
              f"{loaded['upstream_subscriptions']} upstream subscriptions), "
              f"{loaded['delivered']}/{loaded['expected']} results delivered")
        print(f"event-to-client p99: {loaded['latency_ms']['p99']} ms "
              f"(baseline, 1 subscription: {base['latency_ms']['p99']} ms; ratio "
              f"{loaded['latency_ms']['p99'] / max(base['latency_ms']['p99'], 0.001):.1f}x)")
        for name, grown in loaded["rss_growth_bytes"].items():
            print(f"memory per subscription, {name}: {grown / n / 1024:.1f} KiB")
        for name, cpu in loaded["cpu_s"].items():
            per = cpu / max(loaded["delivered"], 1) * 1e6
            base_per = base["cpu_s"][name] / max(base["delivered"], 1) * 1e6
            print(f"CPU per delivered result, {name}: {per:.0f} µs (baseline {base_per:.0f} µs)")
    return 0 if loaded["delivered"] == loaded["expected"] and not loaded["failures"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
