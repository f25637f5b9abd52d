"""Chaos: crash NATS and every service mid-flight under a mixed write load; lose nothing.

The short form runs in `make test` (CHAOS_SECONDS, default 40 s of load); `make chaos` runs a
longer one. Both print, per consumer and event type: emitted, applied once, never applied,
held; and fail on any loss, duplicate effect or read-model divergence.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import nats

from tests.chaos.audit import EventCounts, count_events, divergences
from tests.chaos.cluster import ChaosCluster
from tests.chaos.load import Load
from tests.e2e import client
from tests.e2e.system import eventually

CHAOS_SECONDS = float(os.environ.get("CHAOS_SECONDS", "40"))
WORKERS = 3
SETTLE_SECONDS = 120.0


def test_no_event_is_lost_or_applied_twice_when_nats_and_services_crash_mid_flight(
    tmp_path: Path,
) -> None:
    cluster = ChaosCluster(tmp_path / "var")
    cluster.start()
    try:
        load = Load(cluster)
        load.prepare()
        until = time.monotonic() + CHAOS_SECONDS
        workers = [threading.Thread(target=load.run, args=(until, n), daemon=True)
                   for n in range(WORKERS)]
        for worker in workers:
            worker.start()
        faults = run_faults(cluster, load, until)
        for worker in workers:
            worker.join(timeout=120)

        counts = settle(cluster)
        dead = asyncio.run(dead_letters(cluster.nats.url))
        problems = divergences(cluster.data_dir)
        print(f"\nchaos: {CHAOS_SECONDS:.0f}s of load by {WORKERS} clients; faults: "
              f"{', '.join(faults)}")
        print("operations:", ", ".join(f"{k} {v}" for k, v in sorted(load.outcomes.items())))
        print(counts.table())
        print(f"dead letters: {dead}; read-model divergences: {len(problems)}")
        for problem in problems:
            print(f"  {problem}")

        assert sum(count for key, count in load.outcomes.items() if key.endswith(": ok")) > 50, (
            "the load did too little to prove anything")
        assert counts.unsent == 0, "events left unsent in an outbox"
        assert not counts.missing, f"events never applied: {counts.missing[:20]}"
        assert not counts.held, f"events still held: {dict(counts.held)}"
        assert dead == 0, "events were dead-lettered"
        assert not problems, problems
    finally:
        cluster.stop()


def run_faults(cluster: ChaosCluster, load: Load, until: float) -> list[str]:
    """Crash things on a schedule spread over the load, one round per minute of it."""
    rng = random.Random(11)

    def nats_crash() -> None:
        cluster.kill_nats()
        time.sleep(3)
        cluster.restart_nats()

    def consumer_crash(service: str) -> Callable[[], None]:
        def crash() -> None:
            cluster.signal(service, signal.SIGSTOP)
            time.sleep(3)  # it holds whatever it had fetched, unacknowledged
            cluster.restart(service)
        return crash

    def transfer_while_submittal_is_frozen() -> None:
        # The sequence that lost an event before: B's draft on X, submittal frozen holding the
        # next message, X transferred to C, submittal killed and restarted, C renames X.
        with load.reserve(rng) as facility:
            owner = load.lead_of(load.owner[facility])
            assert owner is not None
            started = load.gql(owner, START_DRAFT, {"input": {
                "facilityId": facility, "element": "APSA", "basedOn": "BLANK"}})
            assert client.data(started)["startSubmittal"]["element"], started
            cluster.signal("submittal", signal.SIGSTOP)
            time.sleep(1)
            to = load.transfer_facility(rng, facility)
            assert to is not None, "the regulator could not transfer the facility"
            time.sleep(2)
            cluster.restart("submittal")
            new_lead = load.lead_of(to)
            assert new_lead is not None
            client.payload(load.gql(new_lead, RENAME, {"input": {
                "facilityId": facility, "name": "Renamed by the new owner"}}), "updateFacility")

    def producer_crash(service: str) -> Callable[[], None]:
        return lambda: cluster.restart(service)

    round_seconds = min(CHAOS_SECONDS, 60.0)
    schedule = [
        (0.10, "NATS killed and restarted", nats_crash),
        (0.25, "transfer while submittal frozen, then killed", transfer_while_submittal_is_frozen),
        (0.45, "facility frozen then killed", consumer_crash("facility")),
        (0.60, "identity killed mid-relay", producer_crash("identity")),
        (0.72, "submittal frozen then killed", consumer_crash("submittal")),
        (0.85, "facility killed mid-relay", producer_crash("facility")),
    ]
    start = until - CHAOS_SECONDS
    done: list[str] = []
    for round_start in range(0, int(CHAOS_SECONDS), int(round_seconds)):
        for fraction, name, fault in schedule:
            due = start + round_start + fraction * round_seconds
            if due > until - 5:
                return done
            time.sleep(max(due - time.monotonic(), 0))
            fault()
            done.append(name)
    return done


def settle(cluster: ChaosCluster) -> EventCounts:
    """Wait until every outbox is sent and every consumer has applied every event."""
    last: list[EventCounts] = []

    def probe() -> EventCounts | None:
        counts = count_events(cluster.data_dir)
        last[:] = [counts]
        return counts if not (counts.unsent or counts.missing or counts.held) else None

    try:
        return eventually(probe, timeout=SETTLE_SECONDS, interval=1.0)
    except AssertionError:
        return last[0]


async def dead_letters(url: str) -> int:
    connection = await nats.connect(url)
    try:
        info = await connection.jetstream().stream_info("DEADLETTER")
        return int(info.state.messages)
    finally:
        await connection.close()


START_DRAFT = """mutation($input: StartSubmittalInput!) { startSubmittal(input: $input) {
  element { id } userErrors { code message } } }"""
RENAME = """mutation($input: UpdateFacilityInput!) { updateFacility(input: $input) {
  facility { id } userErrors { code message } } }"""
