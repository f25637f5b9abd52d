"""The fan-out of one upstream subscription to the clients that share it (gateway/live.py's
Group): every reading client gets every event in order; a client that stopped reading is
ended with UNAVAILABLE instead of being buffered without bound, and the others go on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

from gateway.live import Delivery, Group, LiveGateway, Prepared
from gateway.wsclient import MAX_PENDING


class Upstream:
    """Stands in for LiveGateway's side of a group: ``count`` events from the subgraph."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.groups: dict[Any, Group] = {}

    async def _upstream(self, prepared: Any, authorization: str) -> AsyncIterator[Any]:
        for n in range(self.count):
            await asyncio.sleep(0)  # the subgraph's events arrive one by one
            yield {"data": {"n": n}}

    async def _delivery(self, prepared: Any, event: dict[str, Any], headers: Any) -> Delivery:
        return Delivery(event)


async def test_a_client_that_stops_reading_is_ended_and_the_others_get_every_event() -> None:
    upstream = Upstream(MAX_PENDING * 2)
    group = Group(cast(LiveGateway, upstream), "key", cast(Prepared, None), "", {})
    upstream.groups["key"] = group
    reader, stalled = group.join(), group.join()

    received = []
    while (delivery := await reader.get()) is not None:
        received.append(delivery.result["data"]["n"])
    assert received == list(range(MAX_PENDING * 2))

    held = [stalled.get_nowait() for _ in range(stalled.qsize())]
    assert [d.result["data"]["n"] for d in held[:MAX_PENDING] if d] == list(range(MAX_PENDING))
    ended = held[MAX_PENDING]
    assert ended is not None and ended.result["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert held[MAX_PENDING + 1:] == [None]
    # The upstream subscription ended with its events; the group is gone.
    await group.task
    assert not upstream.groups and group.closed


async def test_the_last_client_leaving_ends_the_upstream_subscription() -> None:
    upstream = Upstream(10**6)
    group = Group(cast(LiveGateway, upstream), "key", cast(Prepared, None), "", {})
    upstream.groups["key"] = group
    first, second = group.join(), group.join()
    assert (await first.get()) is not None
    group.leave(first)
    assert not group.closed  # one client still reads
    group.leave(second)
    assert group.closed and not upstream.groups
    await asyncio.gather(group.task, return_exceptions=True)
    assert group.task.cancelled()
