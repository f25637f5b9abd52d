"""How the OAuth provider keeps authlib's synchronous callbacks off the event loop.

authlib's grant callbacks (query_client, save_token, ...) are synchronous. We run each authlib
call in a worker thread (``asyncio.to_thread``) and let the callbacks hop back onto the event
loop for their database work (``asyncio.run_coroutine_threadsafe``), all inside one async
transaction the request opened. So the loop never blocks on authlib (or on RSA signing and
argon2 secret checks inside it), the database stays on the async drivers we use everywhere,
and one token request is one transaction: a spent code, the new refresh token and a revoked
family commit together. The per-request ``Unit`` reaches the callbacks through a ContextVar,
which ``to_thread`` copies into the worker.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


@dataclass
class Unit:
    """One request's transaction, reachable from authlib's synchronous callbacks."""

    session: AsyncSession
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()


current_unit: contextvars.ContextVar[Unit] = contextvars.ContextVar("identity_oauth_unit")


def unit() -> Unit:
    return current_unit.get()
