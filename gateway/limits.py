"""The gateway's operation limits (common.limits with its configuration), and where the
CPU-heavy steps of a request run: off the event loop, one at a time per core."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from common.limits import Limits
from gateway.config import GatewayConfig

T = TypeVar("T")

_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?\s*$")


def limits_of(config: GatewayConfig) -> Limits:
    return Limits(
        max_depth=config.max_depth,
        max_aliases=config.max_aliases,
        max_cost=config.max_cost,
        max_directives=config.max_directives,
        default_list_size=config.default_list_size,
    )


def without_suggestion(message: str) -> str:
    """A validation message without its "Did you mean ...?" hint, which names schema
    elements a caller without introspection must not learn."""
    return _SUGGESTION.sub("", message)


class Offload:
    """Runs CPU-bound steps (parsing, validating, planning, encoding large bodies) in worker
    threads so one request's work never holds the event loop; the interpreter switches
    threads every few milliseconds, so other requests keep being served meanwhile."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or max(1, min(4, os.cpu_count() or 1))
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="gateway-cpu")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
