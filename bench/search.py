"""Statewide search, change feed and exports against the California-scale dataset.

    python -m bench search [--repeat 30] [--explain]

Needs PostgreSQL (``BENCH_PG``, default ``postgresql+asyncpg://postgres@127.0.0.1:5432``);
builds the dataset first when it is missing (``python -m bench dataset``, a few minutes).
Starts nats-server, the facility and submittal services on the dataset and the gateway, and
times through the gateway, with a statewide token and with the Los Angeles County
regulator's token:

- every search shape, first page (50 facilities, their matching materials, the facility's
  name and CERS ID from the facility subgraph), with and without totalCount;
- the feed catching up from the start and from an hour-old cursor;
- CSV and GeoJSON exports of about 10,000 rows: time to the first byte and the submittal
  process's resident memory while it streams; the regulator's snapshot.

Each figure is printed absolute and as a ratio: to its target, and (searches) to a trivial
gateway round trip measured in the same run. ``--explain`` prints each shape's SQL plan.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import dataset
from bench.gateway_bench import AUDIENCE, ISSUER, Harness, _cpu_seconds, _wait
from common.natsserver import NatsServerProcess, free_port

PG = os.environ.get("BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432")
LA_AGENCY = dataset.agency_id(dataset.LA_COUNTY)
SAN_DIEGO_AGENCY = dataset.agency_id(37)
STATE, LA = "statewide", "LA regulator"
TARGET_MS = 100.0
FEED_TARGET = 20_000.0
TTFB_TARGET_MS = 200.0

SHAPES: dict[str, dict[str, Any]] = {
    "CAS number": {"f": {"casNumbers": ["7664-41-7"]}},
    "name starts with": {"f": {"nameStartsWith": "chlor"}},
    "name contains": {"f": {"nameContains": "hydro"}},
    "EHS": {"f": {"ehs": True}},
    "hazard category": {"f": {"hazardCategories": ["OXIDIZER"]}},
    "physical state": {"f": {"physicalStates": ["GAS"]}},
    "amount > 10,000 lb": {"f": {"maximumDailyAmountAbove": {"amount": 10000,
                                                             "units": "POUNDS"}}},
    "county": {"f": {"counties": ["Los Angeles"]}},
    "agency": {"f": {"agencyIds": [SAN_DIEGO_AGENCY]}},
    "compliance OVERDUE": {"f": {"complianceStatuses": ["OVERDUE"]}},
    "within 2 mi": {"f": {"near": {"latitude": 34.0522, "longitude": -118.2437,
                                   "radiusMiles": 2}}, "sort": "DISTANCE"},
    "ammonia within 10 mi, nearest": {"f": {"casNumbers": ["7664-41-7"], "near": {
        "latitude": 34.0522, "longitude": -118.2437, "radiusMiles": 10}}, "sort": "DISTANCE"},
    "EHS within 5 mi, nearest": {"f": {"ehs": True, "near": {
        "latitude": 34.0522, "longitude": -118.2437, "radiusMiles": 5}}, "sort": "DISTANCE"},
    "chlorine > 500 lb, by amount": {"f": {"casNumbers": ["7782-50-5"],
                                           "maximumDailyAmountAbove": {"amount": 500,
                                                                       "units": "POUNDS"}},
                                     "sort": "AMOUNT"},
}
QUERY = """query($f: HazardousMaterialSearchFilter, $sort: HazardousMaterialSearchSort) {
  hazardousMaterialSearch(filter: $f, sort: $sort, first: 50) {
    %s pageInfo { hasNextPage endCursor }
    edges { node { facility { id name cersId } distanceMiles complianceStatus
      materials { commonName casNumber maximumDailyAmount units amountInUnits } } } } }"""
TRIVIAL = "query { __typename }"


def _tokens(key: Any) -> dict[str, str]:
    from joserfc import jwt

    now = int(time.time())

    def mint(sub: str, portal: str, scope: str = "openid") -> str:
        return jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": "bench"}, {
            "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "portal": portal, "scope": scope,
            "client_id": "bench", "iat": now, "exp": now + 7200, "jti": uuid.uuid4().hex}, key)

    return {STATE: mint("bench-state", "state", "openid statewide:read"),
            LA: mint(dataset.LA_INSPECTOR, "regulator")}


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def _timed_posts(client: httpx.Client, url: str, token: str, body: dict[str, Any],
                 repeat: int) -> list[float]:
    headers = {"authorization": f"Bearer {token}"}
    client.post(url, json=body, headers=headers).raise_for_status()  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.post(url, json=body, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        payload = response.json()
        if response.status_code != 200 or payload.get("errors"):
            raise RuntimeError(f"search failed: {response.status_code} {payload}")
    return times


def searches(base: str, tokens: dict[str, str], repeat: int, pids: dict[str, int],
             only: str = "") -> None:
    """Each shape's first page: wall time, and the CPU it cost the submittal service and the
    gateway per request (CPU is the steadier figure on a machine shared with other work)."""
    url = base + "/graphql"
    with httpx.Client(timeout=60) as client:
        trivial = _timed_posts(client, url, tokens[STATE], {"query": TRIVIAL}, repeat)
        baseline = statistics.median(trivial)
        print(f"baseline: a trivial gateway round trip, median {baseline:.1f} ms")
        print(f"{'shape':32} {'token':13} {'p50 ms':>7} {'p95 ms':>7} {'/target':>7} "
              f"{'/base':>6} {'cpu sub':>7} {'cpu gw':>6} {'cpu fac':>7} | {'+total p95':>10} "
              f"{'/target':>7}  total")
        worst = 0.0
        for name, shape in SHAPES.items():
            if not any(part in name for part in only.split(",")):
                continue
            for who in (STATE, LA):
                variables = {"f": shape["f"], "sort": shape.get("sort", "CERS_ID")}
                cpu = {name: _cpu_seconds(pid) for name, pid in pids.items()}
                plain = _timed_posts(client, url, tokens[who], {
                    "query": QUERY % "", "variables": variables}, repeat)
                per_request = {name: (_cpu_seconds(pid) - cpu[name]) * 1000 / (repeat + 1)
                               for name, pid in pids.items()}
                counted_body = {"query": QUERY % "totalCount totalCountIsExact",
                                "variables": variables}
                counted = _timed_posts(client, url, tokens[who], counted_body, repeat)
                result = client.post(url, json=counted_body, headers={
                    "authorization": f"Bearer {tokens[who]}"}).json()
                found = result["data"]["hazardousMaterialSearch"]
                total = f"{found['totalCount']:,}{'' if found['totalCountIsExact'] else '+'}"
                p95, p95_total = _p95(plain), _p95(counted)
                worst = max(worst, p95)
                print(f"{name:32} {who:13} {statistics.median(plain):7.1f} {p95:7.1f} "
                      f"{p95 / TARGET_MS:7.2f} {p95 / baseline:6.1f} "
                      f"{per_request['submittal']:7.1f} {per_request['gateway']:6.1f} "
                      f"{per_request['facility']:7.1f} | "
                      f"{p95_total:10.1f} "
                      f"{p95_total / TARGET_MS:7.2f}  {total}", flush=True)
        print(f"worst first-page p95 {worst:.1f} ms = {worst / TARGET_MS:.2f} of the "
              f"{TARGET_MS:.0f} ms target")


def feed(base: str, tokens: dict[str, str]) -> None:
    with httpx.Client(timeout=120) as client:
        for label, params in (("from the start", {}),
                              ("from an hour-old cursor",
                               {"since": (datetime.now(UTC) - timedelta(hours=1)).isoformat()})):
            for who in (STATE, LA):
                headers = {"authorization": f"Bearer {tokens[who]}",
                           "accept-encoding": "identity"}
                count, pages = 0, 0
                query: dict[str, Any] = {"limit": 10000, **params}
                started = time.perf_counter()
                while True:
                    response = client.get(base + "/exports/feed", params=query, headers=headers)
                    response.raise_for_status()
                    count += response.text.count("\n")
                    pages += 1
                    if response.headers["feed-has-more"] != "true":
                        break
                    query = {"limit": 10000, "after": response.headers["feed-cursor"]}
                seconds = time.perf_counter() - started
                rate = count / seconds if seconds else 0.0
                print(f"feed {label:24} {who:13} {count:8,} events in {seconds:6.2f} s = "
                      f"{rate:9,.0f} events/s ({rate / FEED_TARGET:.2f} of the "
                      f"{FEED_TARGET:,.0f}/s target, {pages} pages)", flush=True)


class RssSampler:
    """Resident memory of one process, sampled every 20 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.samples, self._stop = pid, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self._rss())
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self.start = self._rss()
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self.thread.join()


def exports(base: str, tokens: dict[str, str], submittal_pid: int) -> None:
    cases = (
        ("CSV, EHS in San Diego County", "/exports/search.csv", STATE,
         {"ehs": "true", "counties": "San Diego"}),
        ("GeoJSON, EHS in San Diego County", "/exports/search.geojson", STATE,
         {"ehs": "true", "counties": "San Diego"}),
        ("CSV, regulator, ammonia", "/exports/search.csv", LA, {"casNumbers": "7664-41-7"}),
        ("CSV, EHS in Los Angeles County (47k rows)", "/exports/search.csv", STATE,
         {"ehs": "true", "counties": "Los Angeles"}),
        ("snapshot, LA regulator (gzip NDJSON)", "/exports/snapshot", LA, {}),
    )
    with httpx.Client(timeout=600) as client:
        for label, path, who, params in cases:
            headers = {"authorization": f"Bearer {tokens[who]}", "accept-encoding": "identity"}
            with RssSampler(submittal_pid) as rss:
                started = time.perf_counter()
                first = None
                size = lines = 0
                with client.stream("GET", base + path, params=params, headers=headers) as r:
                    r.raise_for_status()
                    for chunk in r.iter_bytes():
                        if first is None:
                            first = (time.perf_counter() - started) * 1000
                        size += len(chunk)
                        lines += chunk.count(b"\n")
                total = time.perf_counter() - started
            peak = max(rss.samples or [rss.start])
            rows = "(gzip)" if path.endswith("snapshot") else f"{lines:,} lines"
            print(f"export {label:38} first byte {first or 0:6.1f} ms "
                  f"({(first or 0) / TTFB_TARGET_MS:.2f} of {TTFB_TARGET_MS:.0f} ms), "
                  f"all {total:5.1f} s, {size / 1e6:6.1f} MB, {rows}; submittal RSS "
                  f"{rss.start:.0f} -> peak {peak:.0f} MB (+{peak - rss.start:.0f})",
                  flush=True)


def _filter(shape: dict[str, Any]) -> tuple[Any, Any]:
    """A shape's GraphQL variables as the service's filter and sort."""
    from services.submittal.domain import search as rules
    from services.submittal.domain.hmi import HazardCategory, PhysicalState, Units

    f = shape["f"]
    near = f.get("near")
    above = f.get("maximumDailyAmountAbove")
    flt = rules.SearchFilter(
        cas_numbers=tuple(f.get("casNumbers", ())), name_starts_with=f.get("nameStartsWith"),
        name_contains=f.get("nameContains"), ehs=f.get("ehs"),
        hazard_categories=tuple(HazardCategory(h) for h in f.get("hazardCategories", ())),
        physical_states=tuple(PhysicalState(p) for p in f.get("physicalStates", ())),
        maximum_daily_amount_above=rules.AmountAbove(above["amount"], Units(above["units"]))
        if above else None, counties=tuple(f.get("counties", ())),
        agency_ids=tuple(f.get("agencyIds", ())),
        compliance_statuses=tuple(rules.ComplianceStatus(c)
                                  for c in f.get("complianceStatuses", ())),
        near=rules.Near(near["latitude"], near["longitude"], near["radiusMiles"])
        if near else None)
    return flt, rules.Sort(rules.SortBy(shape.get("sort", "CERS_ID")))


async def explain() -> None:
    """Each shape's page and count SQL as the service builds them, with PostgreSQL's plans."""
    import datetime as dt

    from sqlalchemy import func, select, text
    from sqlalchemy.dialects import postgresql

    from common.db import Database
    from services.submittal.service_layer import search as service

    db = Database(f"{PG}/bench_submittal")
    today = dt.date.today()
    async with db.read() as session:
        for name, shape in SHAPES.items():
            flt, sort = _filter(shape)
            for who, scope in ((STATE, service.Scope(True)),
                               (LA, service.Scope(False, (LA_AGENCY,)))):
                page, _ = service.page_query(flt, scope, sort, None, today)
                table = service.SearchFacility if service.facility_level(flt, sort) else \
                    service.M
                counted = select(func.count()).select_from(
                    service.total_query(flt, scope, today, table)
                    .limit(service.COUNT_LIMIT + 1).subquery())
                print(f"\n### {name} ({who})\n")
                for label, query in (("page", page.limit(51)), ("total", counted)):
                    sql = str(query.compile(dialect=postgresql.dialect(),
                                            compile_kwargs={"literal_binds": True}))
                    plan = await session.execute(text("EXPLAIN (ANALYZE, COSTS OFF) " + sql))
                    print(f"{label}:\n```\n{sql}\n\n" + "\n".join(r[0] for r in plan)
                          + "\n```", flush=True)
    await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--skip", default="", help="comma list of: search,feed,exports")
    parser.add_argument("--only", default="",
                        help="search shapes whose name contains this, or any of a comma "
                        "list (e.g. 'county,OVERDUE')")
    args = parser.parse_args()
    facility_url, submittal_url = f"{PG}/bench_facility", f"{PG}/bench_submittal"
    if asyncio.run(dataset.exists(submittal_url)) < 150_000:
        print("building the dataset (python -m bench dataset)", flush=True)
        asyncio.run(dataset.load(facility_url, submittal_url, 150_000, 2_000_000, 17))
    if args.explain:
        asyncio.run(explain())
        return 0
    from joserfc.jwk import RSAKey

    # A terminated run still stops the processes it started (finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    skip = set(args.skip.split(","))
    workdir = Path(tempfile.mkdtemp(prefix="search-bench-"))
    harness = Harness(workdir)
    nats = NatsServerProcess(workdir / "nats")
    try:
        nats.start()
        key = RSAKey.generate_key(2048, {"kid": "bench"})
        key_file = workdir / "key.json"
        key_file.write_text(json.dumps(key.as_dict(private=True)))
        ports = {name: free_port() for name in ("jwks", "facility", "submittal", "gateway")}
        harness.spawn([sys.executable, "-m", "bench.gateway_bench", "jwks", str(key_file),
                       str(ports["jwks"])])
        env = {
            "DATA_DIR": str(workdir), "NATS_URL": nats.url, "PUBLIC_BASE_URL": ISSUER,
            "API_AUDIENCE": AUDIENCE, "JWKS_URL": f"http://127.0.0.1:{ports['jwks']}/jwks.json",
            "FACILITY_DATABASE_URL": facility_url, "SUBMITTAL_DATABASE_URL": submittal_url,
            "DEMO": "0", "AUTO_MIGRATE": "1", "LOG_LEVEL": "WARNING",
            **{f"{n.upper()}_PORT": str(p) for n, p in ports.items() if n != "jwks"},
            # Internal ports of their own too, so the bench runs beside `make run` or tests.
            **{f"{n.upper()}_OPS_PORT": str(free_port()) for n in ports if n != "jwks"},
            "FACILITY_URL": f"http://127.0.0.1:{ports['facility']}",
            "SUBMITTAL_URL": f"http://127.0.0.1:{ports['submittal']}",
            "IDENTITY_URL": f"http://127.0.0.1:{ports['jwks']}",
        }
        facility_pid = harness.spawn([sys.executable, "-m", "services.facility", "serve"], env)
        submittal_pid = harness.spawn([sys.executable, "-m", "services.submittal", "serve"], env)
        gateway_pid = harness.spawn([sys.executable, "-m", "gateway"], env)
        base = f"http://127.0.0.1:{ports['gateway']}"
        for name in ("facility", "submittal", "gateway"):
            _wait(f"http://127.0.0.1:{ports[name]}/healthz", timeout=120)
        tokens = _tokens(key)
        if "search" not in skip:
            searches(base, tokens, args.repeat,
                     {"submittal": submittal_pid, "gateway": gateway_pid,
                      "facility": facility_pid}, args.only)
        if "feed" not in skip:
            feed(base, tokens)
        if "exports" not in skip:
            exports(base, tokens, submittal_pid)
    finally:
        harness.close()
        nats.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
