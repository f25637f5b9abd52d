"""`python -m services.<service> events …`: what an operator needs when events are held.

- ``events stuck``: every aggregate a consumer holds events for, what it waits for, since when,
  and whether it is stuck (held past ``EVENT_STUCK_AFTER_SECONDS`` or behind a dead letter).
- ``events retry [--durable D] [--aggregate A]``: apply held events that can apply now,
  dead-lettered ones included (after their cause is fixed).
- ``events replay --durable D --from-stream-sequence N``: deliver the stream again from N
  through the inbox rule, for an event that never reached this consumer at all.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from datetime import UTC

from sqlalchemy import and_, func, select

from common.events.bus import EventBus


def parser(prog: str) -> argparse.ArgumentParser:
    events = argparse.ArgumentParser(prog=f"{prog} events", description=__doc__.split("\n")[0])
    commands = events.add_subparsers(dest="action", required=True)
    commands.add_parser("stuck", help="list aggregates with held events, as JSON lines")
    retry = commands.add_parser("retry", help="apply held events that can apply now")
    retry.add_argument("--durable")
    retry.add_argument("--aggregate")
    replay = commands.add_parser("replay", help="deliver a stream again from a sequence")
    replay.add_argument("--durable", required=True)
    replay.add_argument("--from-stream-sequence", type=int, required=True)
    return events


async def held_report(bus: EventBus) -> list[dict[str, object]]:
    held, positions = bus.tables.held, bus.tables.positions
    now = time.time()
    async with bus.db.read() as session:
        rows = (
            await session.execute(
                select(
                    held.c.consumer, held.c.aggregate_id, func.count(), func.min(held.c.sequence),
                    func.min(held.c.held_at), func.max(held.c.dead_lettered_at),
                    func.max(held.c.last_error), func.max(positions.c.last_sequence),
                )
                .select_from(held.outerjoin(positions, and_(
                    positions.c.consumer == held.c.consumer,
                    positions.c.aggregate_id == held.c.aggregate_id,
                )))
                .group_by(held.c.consumer, held.c.aggregate_id)
                .order_by(func.min(held.c.held_at))
            )
        ).all()
    report: list[dict[str, object]] = []
    for durable, aggregate, count, head, since, dead, error, last in rows:
        consumer = bus.consumers.get(durable)
        stuck_after = consumer.stuck_after if consumer else 0.0
        age = now - (since if since.tzinfo else since.replace(tzinfo=UTC)).timestamp()
        report.append({
            "durable": durable, "aggregate_id": aggregate,
            "waiting_for_sequence": int(last or 0) + 1, "first_held_sequence": int(head),
            "held": int(count), "held_seconds": round(age, 1),
            "dead_lettered": dead is not None, "last_error": error,
            "stuck": dead is not None or age >= stuck_after,
        })
    return report


async def run(bus: EventBus, argv: Sequence[str], prog: str) -> int:
    """Run one operator command against ``bus`` (built with its consumers, not started)."""
    args = parser(prog).parse_args(list(argv))
    try:
        if args.action == "stuck":
            report = await held_report(bus)
            for line in report:
                print(json.dumps(line))
            if not report:
                print("no held events: every consumer is in step")
            return 0
        if args.action == "retry":
            durables = [args.durable] if args.durable else list(bus.consumers)
            for durable in durables:
                if durable not in bus.consumers:
                    print(f"unknown durable {durable!r}; this service has {sorted(bus.consumers)}")
                    return 1
                applied = await bus.retry_held(durable, args.aggregate)
                print(f"{durable}: applied {applied} held event(s)")
            return 0
        if args.durable not in bus.consumers:
            print(f"unknown durable {args.durable!r}; this service has {sorted(bus.consumers)}")
            return 1
        delivered = await bus.replay_from(args.durable, args.from_stream_sequence)
        print(f"{args.durable}: delivered {delivered} event(s) again from stream sequence "
              f"{args.from_stream_sequence}; see `events stuck` for what is still held")
        return 0
    finally:
        await bus.stop()
