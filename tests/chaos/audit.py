"""What happened to every event, and whether each read model agrees with its producer's truth.

Reads the services' SQLite databases directly (the test owns the processes and their files)
and the DEADLETTER stream.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Each consumer follows every event of one producer's stream: "<service>-<producer>".
CONSUMERS = {
    "facility-identity": ("facility", "identity"),
    "facility-submittal": ("facility", "submittal"),
    "submittal-facility": ("submittal", "facility"),
}


@contextmanager
def database(data_dir: Path, service: str) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(data_dir / f"{service}.db", timeout=30)) as connection:
        yield connection


def consumers(data_dir: Path) -> dict[str, tuple[str, str]]:
    """The known consumers, plus any a service added since (found by its inbox rows)."""
    found = dict(CONSUMERS)
    for service in ("identity", "facility", "submittal"):
        with database(data_dir, service) as db:
            for (name,) in db.execute("SELECT DISTINCT consumer FROM event_positions"):
                producer = name.split("-", 1)[1] if "-" in name else ""
                if producer in ("identity", "facility", "submittal"):
                    found.setdefault(name, (service, producer))
    return found


@dataclass
class EventCounts:
    emitted: Counter[str] = field(default_factory=Counter)  # by producer's event type
    applied: Counter[str] = field(default_factory=Counter)  # (consumer, type) -> once
    never: Counter[str] = field(default_factory=Counter)
    held: Counter[str] = field(default_factory=Counter)
    unsent: int = 0
    missing: list[str] = field(default_factory=list)

    def table(self) -> str:
        lines = [f"{'consumer / event type':<58} {'emitted':>8} {'applied once':>13} "
                 f"{'never':>6} {'held':>5}"]
        for key in sorted(self.applied.keys() | self.never.keys()):
            consumer, subject = key.split(" ", 1)
            lines.append(f"{key:<58} {self.emitted[subject]:>8} {self.applied[key]:>13} "
                         f"{self.never[key]:>6} {self.held[key]:>5}")
        lines.append(f"unsent in an outbox: {self.unsent}")
        return "\n".join(lines)


def count_events(data_dir: Path) -> EventCounts:
    counts = EventCounts()
    outboxes: dict[str, dict[str, str]] = {}
    for service in ("identity", "facility", "submittal"):
        with database(data_dir, service) as db:
            rows = db.execute("SELECT event_id, subject, sent_at FROM event_outbox").fetchall()
        outboxes[service] = {event_id: subject for event_id, subject, _ in rows}
        counts.unsent += sum(1 for *_, sent_at in rows if sent_at is None)
        counts.emitted.update(subject for _, subject, _ in rows)
    for consumer, (service, producer) in consumers(data_dir).items():
        with database(data_dir, service) as db:
            inbox = {event_id for (event_id,) in db.execute(
                "SELECT event_id FROM event_inbox WHERE consumer = ?", (consumer,))}
            held = db.execute("SELECT subject FROM event_held WHERE consumer = ?",
                              (consumer,)).fetchall()
        for (subject,) in held:
            counts.held[f"{consumer} {subject}"] += 1
        for event_id, subject in outboxes[producer].items():
            key = f"{consumer} {subject}"
            if event_id in inbox:
                counts.applied[key] += 1
            else:
                counts.never[key] += 1
                counts.missing.append(f"{consumer}: {subject} {event_id}")
    return counts


def divergences(data_dir: Path) -> list[str]:
    """Every way a read model differs from what its producer holds."""
    problems: list[str] = []
    with database(data_dir, "facility") as f, database(data_dir, "submittal") as s, \
            database(data_dir, "identity") as i:
        def compare(what: str, truth: set[Any], copy: set[Any]) -> None:
            for row in sorted(truth - copy, key=repr)[:10]:
                problems.append(f"{what}: submittal lacks {row}")
            for row in sorted(copy - truth, key=repr)[:10]:
                problems.append(f"{what}: submittal has {row}, facility does not")

        compare("facility owner, agency and name",
                set(f.execute("SELECT id, organization_id, agency_id, name FROM facilities")),
                set(s.execute("SELECT id, organization_id, agency_id, name FROM rm_facilities")))
        compare("membership",
                set(f.execute("SELECT organization_id, user_id, role FROM memberships")),
                set(s.execute("SELECT organization_id, user_id, role FROM rm_memberships")))
        compare("staff role",
                set(f.execute("SELECT agency_id, user_id, role FROM agency_staff "
                              "WHERE user_id IS NOT NULL")),
                set(s.execute("SELECT agency_id, user_id, role FROM rm_staff")))
        compare("business name",
                set(f.execute("SELECT id, name FROM organizations")),
                set(s.execute("SELECT id, name FROM rm_organizations")))

        active = {row[0] for row in i.execute("SELECT id FROM users WHERE status = 'active'")}
        known = {row[0] for row in f.execute("SELECT user_id FROM known_users WHERE active")}
        for user in sorted(active - known)[:10]:
            problems.append(f"account {user} is active in identity, unknown to facility")
        for user in sorted(known - active)[:10]:
            problems.append(f"account {user} is known active to facility, not to identity")

        # Compliance: each certification applied once, the last one is the last annual update.
        certified: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for sequence, payload in s.execute(
            "SELECT sequence, payload FROM event_outbox WHERE subject = 'submittal.hmbp.certified'"
        ):
            data = json.loads(payload)["data"]
            certified[data["facility_id"]].append((sequence, data["certified_at"]))
        history = Counter(row[0] for row in f.execute(
            "SELECT facility_id FROM facility_history WHERE action = 'HMBP_CERTIFIED'"))
        last_update = dict(f.execute("SELECT id, last_annual_update_at FROM facilities"))
        for facility_id, events in certified.items():
            if history[facility_id] != len(events):
                problems.append(f"facility {facility_id}: {len(events)} certifications emitted, "
                                f"{history[facility_id]} recorded")
            expected = max(events)[1]
            stored = last_update.get(facility_id)
            if stored is None or not _same_instant(stored, expected):
                problems.append(f"facility {facility_id}: last annual update {stored}, "
                                f"the last certification says {expected}")

        # Drafts never outlive a transfer of their facility.
        for facility_id, occurred_at in f.execute(
            "SELECT aggregate_id, max(json_extract(payload, '$.occurred_at')) FROM event_outbox "
            "WHERE subject = 'facility.facility.transferred' GROUP BY aggregate_id"
        ):
            stale = sum(
                1 for (created_at,) in s.execute(
                    "SELECT created_at FROM elements WHERE facility_id = ? AND status = 'DRAFT'",
                    (facility_id,))
                if _parse(created_at) < _parse(occurred_at)
            )
            if stale:
                problems.append(f"facility {facility_id}: {stale} draft(s) of the previous "
                                "owner survived its transfer")
    return problems


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _same_instant(stored: str, iso: str) -> bool:
    return _parse(stored) == _parse(iso)
