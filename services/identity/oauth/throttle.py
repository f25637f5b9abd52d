"""Per-address throttles (password attempts, sign-ups), and finding the client's address.

Behind proxies only ``trusted_hops`` entries of X-Forwarded-For are believed: the client is the
address the outermost trusted proxy saw. Anything to its left could be forged by the client.
GraphQL requests reach identity through the gateway, one proxy more than the hosted pages
(which the Ingress routes straight to identity); the gateway appends the address it saw, so
for them one more hop is believed.
The counts live in this process; with several replicas each throttles what it sees, and the
per-account lockout (in the database) still bounds guessing against any one account.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from starlette.requests import Request


def client_address(request: Request, trusted_hops: int) -> str:
    peer = request.client.host if request.client else "unknown"
    if trusted_hops <= 0:
        return peer
    # Several X-Forwarded-For headers are one list, in order (RFC 9110 §5.3).
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    if len(hops) >= trusted_hops:
        return hops[-trusted_hops]
    return hops[0] if hops else peer


class AddressThrottle:
    """At most ``limit`` attempts per address within any ``window_seconds``."""

    def __init__(
        self, limit: int, window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}

    def allow(self, address: str) -> bool:
        """Count one attempt from ``address``; False once it is over the limit."""
        return self.attempt(address) is None

    def attempt(self, address: str) -> int | None:
        """Count one attempt from ``address``: None when allowed, else the whole seconds
        until the next attempt will be (for a ``Retry-After`` header)."""
        now = self.clock()
        hits = self._hits.setdefault(address, deque())
        while hits and now - hits[0] > self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, math.ceil(self.window - (now - hits[0])))
        hits.append(now)
        if len(self._hits) > 100_000:
            # Bound memory under a spray of addresses: forget the quiet ones.
            for key in [k for k, v in self._hits.items() if not v or now - v[-1] > self.window]:
                del self._hits[key]
        return None


class RequestThrottle:
    """An AddressThrottle keyed on the client of a request that came through ``hops`` proxies."""

    def __init__(self, throttle: AddressThrottle, hops: int) -> None:
        self.throttle = throttle
        self.hops = hops

    def attempt(self, request: Request) -> int | None:
        return self.throttle.attempt(client_address(request, self.hops))
