"""The real system under load: the services and the gateway started as ``make run`` starts them
(scripts/run.py, the demo data), on SQLite and on PostgreSQL.

``python -m bench real_system [--seconds 6] [--concurrency 16] [--databases sqlite,postgres]``
(PostgreSQL needs BENCH_DATABASE_URL or TEST_DATABASE_URL, a server URL whose user may create
databases). For each workload, direct to the service and through the gateway: requests per
second, p50/p99 latency, and the CPU each process spent per request (from /proc, so it stays
meaningful on a busy machine); then each process's resident memory after the load, and the
event path: how long after ``certifyNoChange`` commits the facility service shows the facility
CURRENT. The targets (issue 16) are printed beside the figures.

Load comes from bench/gateway_load.py in its own process (closed loop, keep-alive sockets),
cycling through requests whose tokens and variables vary. With Node.js installed, the same
gateway workloads also run through Hive Gateway and @apollo/gateway over the same services
(``--gateways ours,hive,apollo``, the default), for CPU per request and req/s side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.gateway_bench import _cpu_seconds, _load

ROOT = Path(__file__).resolve().parents[1]

FACILITY = "query One($id: ID!) { facility(id: $id) { id name cersId complianceStatus } }"
ME = "query Me { me { id username firstName lastName portal } }"
ELEMENT = "query Element($id: ID!) { submittalElement(id: $id) { id element status submittedAt } }"
STATEWIDE = """query Statewide($first: Int!) { facilities(first: $first) {
  edges { node { id cersId name county city complianceStatus annualDueDate } }
  pageInfo { hasNextPage endCursor } } }"""
FACILITIES = """{ myBusinesses { edges { node { id
  facilities(first: 10) { edges { node { id cersId name } } } } } } }"""
SET_DUE = """mutation SetDue($input: SetAnnualDueDateInput!) {
  setAnnualDueDate(input: $input) { facility { complianceStatus } userErrors { code message } } }"""
CERTIFY = """mutation Certify($input: CertifyNoChangeInput!) {
  certifyNoChange(input: $input) { elements { id } userErrors { code message } } }"""
STATUS = "query Status($id: ID!) { facility(id: $id) { complianceStatus } }"
# The Facility page's request to submittal, as the gateway's plan sends it: measured directly
# too, so that its CPU is not read through the other services' noise.
PAGE_SUBMITTAL = """query FacilityPage__submittal($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Facility {
    submittalElements { id element status submittedAt changeFromPrevious noChangeCertification
      submittedBy { __typename id } review { action comments reviewedAt
        reviewer { __typename id } } }
    drafts { id element status updatedAt basedOn validation { severity } } } } }"""
STATEMENT = "I certify that the HMBP on file is complete, accurate and unchanged."

TARGETS = {
    "simple_read_cpu_ms": 3.0,       # every service, one facility / me / one element
    "facility_page_cpu_ms": 10.0,    # summed over the services
    "gateway_single_rps": 250.0,
    "gateway_page_rps": 100.0,
    "event_p99_ms": 100.0,
    "rss_mb": 150.0,
    "gateway_cpu_vs_hive": 0.3,      # our gateway's CPU per request / Hive Gateway's
    "gateway_over_direct_p50": 1.1,  # one facility, through the gateway / direct
}
PROCESSES = ("gateway", "identity", "facility", "submittal")
SERVICES = ("identity", "facility", "submittal")
# The reference gateways: tests/gateway/reference.py kinds (both forward Authorization).
REFERENCES = {"hive": "hive-runtime", "apollo": "apollo"}
# Between two reads of the facility's status while waiting for an event (see event_path).
EVENT_POLL_SECONDS = 0.005
TOKENS = 24


def facility_page_query() -> str:
    """The portal's Facility page query, read from its source so the two never drift."""
    source = (ROOT / "web/src/pages/Facility.tsx").read_text()
    found = re.search(r"const FACILITY = gql`(.*?)`;", source, re.S)
    assert found, "web/src/pages/Facility.tsx has no FACILITY query"
    return found.group(1).strip()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _postgres_databases(server_url: str, names: list[str], drop: bool = False) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(server_url)
    conn = await asyncpg.connect(host=base.host, port=base.port or 5432, user=base.username,
                                 password=base.password, database=base.database)
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if not drop:
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _event_breakdown(submittal_url: str, facility_url: str, since: Any) -> dict[str, Any]:
    """Where an event's time goes: outbox row written -> published by the relay (sent_at) ->
    taken by the facility service's consumer (its inbox's processed_at).

    ``created_at`` is stamped when the event is recorded, so "relay" also counts the rest of
    the writing transaction; ``processed_at`` is stamped as the consumer's transaction starts,
    so "consume" leaves out applying and committing."""
    from sqlalchemy import text

    from common.db import Database

    submittal, facility = Database(submittal_url), Database(facility_url)
    try:
        async with submittal.read() as session:
            sent = {r[0]: (r[1], r[2]) for r in await session.execute(text(
                "SELECT event_id, created_at, sent_at FROM event_outbox "
                "WHERE subject LIKE 'submittal.%' AND created_at >= :since"), {"since": since})}
        async with facility.read() as session:
            applied = {r[0]: r[1] for r in await session.execute(text(
                "SELECT event_id, processed_at FROM event_inbox "
                "WHERE consumer = 'facility-submittal'"))}
    finally:
        await submittal.dispose()
        await facility.dispose()

    def instant(value: Any) -> float:
        from datetime import UTC, datetime

        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return float(value.timestamp())

    relay, consume = [], []
    for event_id, (created, published) in sent.items():
        if published is None or event_id not in applied:
            continue
        relay.append((instant(published) - instant(created)) * 1000)
        consume.append((instant(applied[event_id]) - instant(published)) * 1000)
    if not relay:
        return {}
    return {"events": len(relay),
            "relay_p50_ms": round(statistics.median(relay), 1),
            "relay_max_ms": round(max(relay), 1),
            "consume_p50_ms": round(statistics.median(consume), 1),
            "consume_max_ms": round(max(consume), 1)}


class Bench:
    def __init__(self, kind: str, seconds: float, concurrency: int, samples: int,
                 references: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.references = references
        self.rss: dict[str, float] = {}
        self.seconds = seconds
        self.concurrency = concurrency
        self.samples = samples
        self.workdir = Path(tempfile.mkdtemp(prefix=f"real-bench-{kind}-"))
        self.results: list[dict[str, Any]] = []
        self.pg_names: list[str] = []
        self.pg_url = ""

    # --- the system -------------------------------------------------------------------------

    def start(self) -> Any:
        from tests.e2e.system import RunningSystem

        system = RunningSystem(self.workdir / "data", None, demo=True)
        if self.kind == "postgres":
            from sqlalchemy.engine import make_url

            self.pg_url = os.environ.get("BENCH_DATABASE_URL") or os.environ["TEST_DATABASE_URL"]
            tag = uuid.uuid4().hex[:8]
            self.pg_names = [f"bench_{service}_{tag}"
                             for service in ("identity", "facility", "submittal")]
            asyncio.run(_postgres_databases(self.pg_url, self.pg_names))
            for service, name in zip(("identity", "facility", "submittal"), self.pg_names,
                                     strict=True):
                url = make_url(self.pg_url).set(database=name)
                system.env[f"{service.upper()}_DATABASE_URL"] = url.render_as_string(
                    hide_password=False)
        system.env["LOG_LEVEL"] = "WARNING"
        system.start(timeout=300)
        self.system = system
        self.pids = {name: system.child_pid(name) for name in PROCESSES}
        return system

    def database_url(self, service: str) -> str:
        return self.system.env.get(f"{service.upper()}_DATABASE_URL") or (
            f"sqlite+aiosqlite:///{self.workdir / 'data' / service}.db")

    def stop(self) -> None:
        self.system.stop()
        if self.pg_names:
            asyncio.run(_postgres_databases(self.pg_url, self.pg_names, drop=True))

    # --- tokens and data ----------------------------------------------------------------------

    def prepare(self) -> None:
        from tests.e2e import client

        system = self.system
        # Enough tokens that requests in flight at once rarely coincide: the gateway shares
        # one subgraph call among identical ones, which would flatter every figure.
        self.business = [client.sign_in(system, "demo.business", "Demo-Business-2026!").access_token
                         for _ in range(TOKENS)]
        self.regulator = client.sign_in(system, "demo.plumas", "Demo-Plumas-2026!",
                                        "regulator").access_token
        self.state = []
        for _ in range(TOKENS):
            state = client.client_credentials(system, "state-demo", "state-demo-secret")
            state.raise_for_status()
            self.state.append(str(state.json()["access_token"]))
        body = system.graphql(FACILITIES, token=self.business[0])
        self.facilities = [
            {"id": e["node"]["id"], "name": e["node"]["name"]}
            for b in body["data"]["myBusinesses"]["edges"]
            for e in b["node"]["facilities"]["edges"]
        ]
        assert self.facilities, body
        self.elements: list[str] = []
        page = facility_page_query()
        for facility in self.facilities:
            answer = system.graphql(page, {"id": facility["id"]}, self.business[0])
            assert not answer.get("errors"), answer
            self.elements += [e["id"] for e in answer["data"]["facility"]["submittalElements"]]
        assert self.elements, "the demo facilities have no submitted elements"

    def bodies(self, query: str, variables: Any, tokens: list[str]) -> list[Any]:
        # Token and variables vary independently: few requests in flight at once coincide.
        return [[{"authorization": f"Bearer {tokens[i % len(tokens)]}"},
                 {"query": query, "variables": variables(i // len(tokens))}]
                for i in range(240)]

    # --- load ----------------------------------------------------------------------------------

    def run(self, workload: str, target: str, url: str, bodies: list[Any],
            concurrency: int | None = None) -> dict[str, Any]:
        concurrency = concurrency or self.concurrency
        before = {name: _cpu_seconds(pid) for name, pid in self.pids.items()}
        r = _load(self.workdir, url, bodies, concurrency, self.seconds)
        total = max(1, r["requests"] + r["warmup_requests"])
        r["cpu_ms_per_req"] = {
            name: round((_cpu_seconds(pid) - before[name]) * 1000 / total, 3)
            for name, pid in self.pids.items()
        }
        r.update(workload=workload, target=target, database=self.kind, concurrency=concurrency)
        services = sum(r["cpu_ms_per_req"][k] for k in SERVICES)
        cpu = " ".join(f"{k} {v:5.2f}" for k, v in r["cpu_ms_per_req"].items())
        print(f"  {workload:22} {target:7} c={concurrency:<3} {r['rps']:7.1f} req/s  "
              f"p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:7.2f} ms  errors {r['errors']}  "
              f"cpu ms/req: {cpu} (services {services:5.2f})", flush=True)
        self.results.append(r)
        return r

    def load(self) -> None:
        gateway = f"{self.system.base_url}/graphql"
        direct = {name: f"{self.system.url(name)}/graphql"
                  for name in ("identity", "facility", "submittal")}
        facility_ids = [f["id"] for f in self.facilities]

        def by_facility(i: int) -> dict[str, Any]:
            return {"id": facility_ids[i % len(facility_ids)]}

        def by_element(i: int) -> dict[str, Any]:
            return {"id": self.elements[i % len(self.elements)]}

        reads = [
            ("one facility", "facility", FACILITY, by_facility, self.business),
            ("me", "identity", ME, lambda i: {}, self.business),
            ("one element", "submittal", ELEMENT, by_element, self.business),
        ]
        print(f"{self.kind}: c={self.concurrency}, {self.seconds:.0f} s each "
              f"({len(self.business)} business tokens, {len(facility_ids)} facilities, "
              f"{len(self.elements)} elements)")
        for workload, service, query, variables, tokens in reads:
            bodies = self.bodies(query, variables, tokens)
            # One at a time: the CPU a read costs, without 16 requests' threads contending
            # for the GIL; then under load, direct and through the gateway.
            self.run(workload, "direct", direct[service], bodies, concurrency=1)
            self.run(workload, "direct", direct[service], bodies)
            self.run(workload, "gateway", gateway, bodies)
        page = self.bodies(facility_page_query(), by_facility, self.business)
        self.run("Facility page", "gateway", gateway, page, concurrency=1)
        self.run("Facility page", "gateway", gateway, page)
        part = self.bodies(PAGE_SUBMITTAL, lambda i: {"representations": [
            {"__typename": "Facility", "id": facility_ids[i % len(facility_ids)]}]}, self.business)
        self.run("page: submittal part", "direct", direct["submittal"], part, concurrency=1)
        self.run("page: submittal part", "direct", direct["submittal"], part)
        statewide = self.bodies(STATEWIDE, lambda i: {"first": 50}, self.state)
        self.run("statewide listing (50)", "gateway", gateway, statewide)
        for name in self.references:
            self.through_reference(name, [
                ("one facility", self.bodies(FACILITY, by_facility, self.business)),
                ("Facility page", page), ("statewide listing (50)", statewide)])
        self.rss.update({name: round(_rss_mb(pid), 1) for name, pid in self.pids.items()})
        print("  RSS after load (MB): " + ", ".join(f"{k} {v}" for k, v in self.rss.items()))

    def through_reference(self, name: str, workloads: list[tuple[str, list[Any]]]) -> None:
        """The gateway workloads through a reference gateway over the same services."""
        from scripts.supergraph import SUPERGRAPH
        from tests.gateway.reference import NodeGateway, with_urls

        supergraph = self.workdir / f"supergraph-{name}.graphql"
        supergraph.write_text(with_urls(SUPERGRAPH.read_text(), {
            service: f"{self.system.url(service)}/graphql" for service in SERVICES}))
        gateway = NodeGateway(REFERENCES[name], supergraph).start(timeout=120)
        try:
            assert gateway.process is not None
            self.pids[name] = gateway.process.pid
            for workload, bodies in workloads:
                self.run(workload, name, f"{gateway.url}/graphql", bodies)
            self.rss[name] = round(_rss_mb(gateway.process.pid), 1)
        finally:
            self.pids.pop(name, None)
            gateway.stop()

    # --- the event path ------------------------------------------------------------------------

    def event_path(self) -> dict[str, Any]:
        """certifyNoChange commits in submittal; its event makes the facility CURRENT in the
        facility service. Measured from the mutation's answer (after the commit) and from its
        request (an upper bound) to the first read of the facility service that shows it.

        The mutations go through the gateway on one keep-alive client: ``httpx.post`` would
        build a client, and its TLS context, per call (25-60 ms of the bench's own CPU, which
        "after the request" used to include). The facility is read every ``EVENT_POLL_SECONDS``:
        each read is a GraphQL request served on the event loop that also applies the events,
        so polling back to back would slow down what it measures."""
        system = self.system
        facility = next((f for f in self.facilities if f["name"].endswith("Portola")),
                        self.facilities[0])
        facility_url = f"{system.url('facility')}/graphql"
        after_answer: list[float] = []
        after_request: list[float] = []
        from datetime import UTC, datetime

        began = datetime.now(UTC)
        gateway = f"{system.base_url}/graphql"
        with httpx.Client(timeout=30) as http, httpx.Client(timeout=30) as api:
            def mutate(query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
                return dict(api.post(gateway, json={"query": query, "variables": variables},
                                     headers={"authorization": f"Bearer {token}"}).json())

            def status() -> str:
                answer = http.post(facility_url, json={
                    "query": STATUS, "variables": {"id": facility["id"]}},
                    headers={"authorization": f"Bearer {self.business[0]}"}).json()
                assert answer.get("data"), answer
                return str(answer["data"]["facility"]["complianceStatus"])

            for _ in range(self.samples):
                yesterday = (date.today() - timedelta(days=1)).isoformat()
                due = mutate(SET_DUE, {"input": {
                    "facilityId": facility["id"], "annualDueDate": yesterday}}, self.regulator)
                assert due.get("data") and not due["data"]["setAnnualDueDate"]["userErrors"], due
                deadline = time.monotonic() + 30
                while status() != "OVERDUE" and time.monotonic() < deadline:
                    time.sleep(0.01)
                sent = time.perf_counter()
                certified = mutate(CERTIFY, {"input": {
                    "facilityId": facility["id"], "statement": STATEMENT}}, self.business[0])
                answered = time.perf_counter()
                assert certified.get("data") and not (
                    certified["data"]["certifyNoChange"]["userErrors"]), certified
                deadline = time.monotonic() + 30
                while status() != "CURRENT":
                    if time.monotonic() > deadline:
                        raise RuntimeError("the facility never became CURRENT")
                    time.sleep(EVENT_POLL_SECONDS)
                seen = time.perf_counter()
                after_answer.append((seen - answered) * 1000)
                after_request.append((seen - sent) * 1000)

        def pct(values: list[float], p: float) -> float:
            ordered = sorted(values)
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)

        result = {
            "samples": len(after_answer),
            "after_answer_p50_ms": pct(after_answer, 0.5),
            "after_answer_p90_ms": pct(after_answer, 0.9),
            "after_answer_p99_ms": pct(after_answer, 0.99),
            "after_request_p50_ms": pct(after_request, 0.5),
            "after_request_p99_ms": pct(after_request, 0.99),
            "after_answer_mean_ms": round(statistics.fmean(after_answer), 1),
            "after_answer_ms": [round(v, 1) for v in after_answer],
            "after_request_ms": [round(v, 1) for v in after_request],
        }
        result["breakdown"] = asyncio.run(_event_breakdown(
            self.database_url("submittal"), self.database_url("facility"), began))
        print(f"  event path certifyNoChange -> facility CURRENT, {result['samples']} samples: "
              f"after the answer p50 {result['after_answer_p50_ms']} ms, "
              f"p90 {result['after_answer_p90_ms']} ms, "
              f"p99 {result['after_answer_p99_ms']} ms; after the request p50 "
              f"{result['after_request_p50_ms']} ms, p99 {result['after_request_p99_ms']} ms "
              f"(target p99 < {TARGETS['event_p99_ms']:.0f} ms); per event "
              f"{result['breakdown']}", flush=True)
        return result

    # --- summary -------------------------------------------------------------------------------

    def summary(self, events: dict[str, Any]) -> dict[str, Any]:
        def find(workload: str, target: str, concurrency: int | None = None) -> dict[str, Any]:
            return next(r for r in self.results
                        if r["workload"] == workload and r["target"] == target
                        and r["concurrency"] == (concurrency or self.concurrency))

        rows = []
        for workload, service in (("one facility", "facility"), ("me", "identity"),
                                  ("one element", "submittal")):
            for c in (1, self.concurrency):
                cpu = find(workload, "direct", c)["cpu_ms_per_req"][service]
                rows.append((f"{service} CPU per simple read ({workload}, direct, c={c})",
                             f"{cpu:.2f} ms", f"<= {TARGETS['simple_read_cpu_ms']:.0f} ms",
                             cpu <= TARGETS["simple_read_cpu_ms"]))
        for c in (1, self.concurrency):
            page_run = find("Facility page", "gateway", c)
            page_cpu = sum(v for k, v in page_run["cpu_ms_per_req"].items() if k != "gateway")
            rows.append((f"Facility page CPU summed over the services (c={c})",
                         f"{page_cpu:.2f} ms", f"<= {TARGETS['facility_page_cpu_ms']:.0f} ms",
                         page_cpu <= TARGETS["facility_page_cpu_ms"]))
        page = find("Facility page", "gateway")
        single = find("one facility", "gateway")
        rows.append(("one facility through the gateway", f"{single['rps']:.0f} req/s",
                     f">= {TARGETS['gateway_single_rps']:.0f}",
                     single["rps"] >= TARGETS["gateway_single_rps"]))
        latency = single["p50_ms"] / max(find("one facility", "direct")["p50_ms"], 1e-9)
        rows.append(("one facility p50, through the gateway / direct (c=16)", f"{latency:.2f}x",
                     f"<= {TARGETS['gateway_over_direct_p50']}x",
                     latency <= TARGETS["gateway_over_direct_p50"]))
        rows.append(("Facility page through the gateway", f"{page['rps']:.0f} req/s",
                     f">= {TARGETS['gateway_page_rps']:.0f}",
                     page["rps"] >= TARGETS["gateway_page_rps"]))
        rows.append(("event path p99 (after the answer)", f"{events['after_answer_p99_ms']} ms",
                     f"< {TARGETS['event_p99_ms']:.0f} ms",
                     events["after_answer_p99_ms"] < TARGETS["event_p99_ms"]))
        worst = max(((k, v) for k, v in self.rss.items() if k in PROCESSES),
                    key=lambda kv: kv[1])
        rows.append((f"largest RSS after load ({worst[0]})", f"{worst[1]:.0f} MB",
                     f"< {TARGETS['rss_mb']:.0f} MB", worst[1] < TARGETS["rss_mb"]))
        rows += self.side_by_side()
        print(f"\n{self.kind}: figure / target")
        for name, figure, target, met in rows:
            verdict = "" if met is None else "met" if met else "NOT MET"
            print(f"  {name:60} {figure:>12}  {'target ' + target if target else '':17} "
                  f"{verdict}")
        return {"database": self.kind, "results": self.results, "rss_mb": self.rss,
                "event_path": events,
                "summary": [dict(zip(("figure", "value", "target", "met"), r, strict=True))
                            for r in rows]}


    def side_by_side(self) -> list[tuple[str, str, str, bool | None]]:
        """Our gateway against each reference gateway, same workloads, same run."""
        rows: list[tuple[str, str, str, bool | None]] = []
        ours = {r["workload"]: r for r in self.results
                if r["target"] == "gateway" and r["concurrency"] == self.concurrency}
        for r in self.results:
            if r["target"] not in self.references or r["workload"] not in ours:
                continue
            mine, name = ours[r["workload"]], r["target"]
            cpu = mine["cpu_ms_per_req"]["gateway"] / max(r["cpu_ms_per_req"][name], 1e-9)
            met = cpu <= TARGETS["gateway_cpu_vs_hive"] if name == "hive" else None
            rows.append((f"gateway CPU per request, ours/{name} ({r['workload']})",
                         f"{cpu:.2f}x", f"<= {TARGETS['gateway_cpu_vs_hive']}x"
                         if name == "hive" else "", met))
            rows.append((f"req/s, ours/{name} ({r['workload']})",
                         f"{mine['rps'] / max(r['rps'], 1e-9):.2f}x", "", None))
            # What each planner makes the services do for the same answers.
            services = [sum(x["cpu_ms_per_req"][k] for k in SERVICES) for x in (mine, r)]
            rows.append((f"services' CPU per request, ours/{name} ({r['workload']})",
                         f"{services[0] / max(services[1], 1e-9):.2f}x", "", None))
        return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float,
                        default=float(os.environ.get("BENCH_SECONDS", "6")))
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--samples", type=int, default=40, help="event-path samples")
    default_dbs = "sqlite,postgres" if (os.environ.get("BENCH_DATABASE_URL")
                                        or os.environ.get("TEST_DATABASE_URL")) else "sqlite"
    parser.add_argument("--databases", default=default_dbs)
    parser.add_argument("--events-only", action="store_true",
                        help="measure only the event path (no load, no summary)")
    parser.add_argument("--gateways", default="ours,hive,apollo",
                        help="ours plus any of hive, apollo (they need Node.js)")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    from tests.gateway.reference import node_available

    references = tuple(g for g in args.gateways.split(",") if g in REFERENCES)
    if references and not node_available():
        print("node is not installed: skipping Hive Gateway and @apollo/gateway")
        references = ()
    reports = []
    for kind in [k for k in args.databases.split(",") if k]:
        bench = Bench(kind, args.seconds, args.concurrency, args.samples, references)
        bench.start()
        try:
            bench.prepare()
            if args.events_only:
                reports.append({"database": kind, "event_path": bench.event_path()})
                continue
            bench.load()
            events = bench.event_path()
            reports.append(bench.summary(events))
        finally:
            bench.stop()
    out = Path(tempfile.gettempdir()) / f"real-system-{secrets.token_hex(3)}.json"
    out.write_text(json.dumps(reports, indent=2))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
