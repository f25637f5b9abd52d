"""Stopping background tasks within a bound, even when a library swallows a cancellation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)


async def cancel_and_wait(
    tasks: Iterable[asyncio.Future[Any]], *, within: float, what: str = "tasks"
) -> set[asyncio.Future[Any]]:
    """Cancel ``tasks`` and wait up to ``within`` seconds for them to end; returns the rest.

    The cancellation is repeated until each task ends: on Python 3.11 ``asyncio.wait_for``
    (which nats-py and others use) can swallow one that lands as its inner future completes,
    and the task then carries on with its loop. A task still running after ``within`` seconds
    is logged and left behind, so a shutdown always ends.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    pending = {task for task in tasks if not task.done()}
    while pending:
        remaining = deadline - loop.time()
        if remaining <= 0:
            names = sorted(
                task.get_name() if isinstance(task, asyncio.Task) else repr(task)
                for task in pending
            )
            log.error(
                "%s still running %.1fs after being cancelled, left behind: %s",
                what, within, ", ".join(names),
            )
            break
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=min(0.25, remaining))
    return pending


async def finish_within(work: asyncio.Future[Any], *, within: float, what: str) -> bool:
    """Wait up to ``within`` seconds for ``work``, then cancel it (see :func:`cancel_and_wait`).

    True when it finished by itself. Its exception, if any, is logged, not raised: this is for
    shutdown steps, where one failing must not keep the next from running.
    """
    done, _ = await asyncio.wait({work}, timeout=within)
    if not done:
        log.warning("%s did not finish within %.1fs; cancelling it", what, within)
        await cancel_and_wait({work}, within=1.0, what=what)
        return False
    if not work.cancelled() and work.exception() is not None:
        log.warning("%s failed: %r", what, work.exception())
        return False
    return True
