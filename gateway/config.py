"""Gateway settings from environment variables (documented in GATEWAY_ENV_VARS)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SUPERGRAPH = Path(__file__).with_name("supergraph.graphql")
DEFAULT_PORTAL = Path(__file__).resolve().parents[1] / "web" / "dist"

# name -> (default, meaning); "" means unset or derived.
GATEWAY_ENV_VARS: dict[str, tuple[str, str]] = {
    "GATEWAY_SUPERGRAPH": (str(DEFAULT_SUPERGRAPH), "supergraph SDL file the gateway serves"),
    "GATEWAY_INTROSPECTION": ("", "1/0: introspection and GraphiQL; default on, off in production"),
    "GATEWAY_MAX_DEPTH": ("15", "deepest field nesting an operation may have"),
    "GATEWAY_MAX_ALIASES": ("30", "most aliases an operation may use"),
    "GATEWAY_MAX_COST": ("20000", "most field cost (fields times list sizes) of an operation"),
    "GATEWAY_MAX_DIRECTIVES": ("50", "most directives an operation may use"),
    "GATEWAY_MAX_TOKENS": ("10000", "most lexical tokens in an operation document"),
    "GATEWAY_DEFAULT_LIST_SIZE": (
        "20", "items assumed in a list whose schema declares no @listSize and no page argument"
    ),
    "GATEWAY_MAX_RESPONSE_BYTES": (
        "8388608", "largest response (and subgraph response) the gateway returns or reads"
    ),
    "GATEWAY_MAX_BODY_BYTES": ("1048576", "largest request body accepted on POST /graphql"),
    "GATEWAY_BODY_TIMEOUT_SECONDS": ("10", "longest a client may take to send a request body"),
    "GATEWAY_MAX_BATCH": ("10", "most operations in one batched request"),
    "GATEWAY_FORWARD_HEADERS": ("", "comma-separated client headers forwarded to subgraphs"),
    "GATEWAY_SUBGRAPH_TIMEOUT_SECONDS": ("10", "timeout of one subgraph call"),
    "GATEWAY_PLAN_CACHE_SIZE": ("1000", "operations whose plans stay cached"),
    "GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION": (
        "20", "most subscriptions one WebSocket connection may run at once"
    ),
    "GATEWAY_MAX_SUBSCRIPTIONS_PER_USER": (
        "50", "most subscriptions one user (token subject) may run at once, over any protocol"
    ),
    "GATEWAY_MAX_LIVE_CONNECTIONS_PER_ADDRESS": (
        "100", "most WebSocket and SSE connections open at once from one client address "
        "(0: no limit)"
    ),
    "GATEWAY_SUBSCRIPTION_IDLE_SECONDS": (
        "300", "a WebSocket connection running no subscription for this long is closed"
    ),
    "GATEWAY_KEEPALIVE_SECONDS": (
        "15", "how often live connections (WebSocket, SSE, subgraph sockets) are pinged"
    ),
    "GATEWAY_WS_COMPRESSION": (
        "0", "1/0: offer permessage-deflate to WebSocket clients (about 300 KB of zlib state "
        "per socket, and a compression per message per client)"
    ),
    "GATEWAY_PORTAL_DIR": (str(DEFAULT_PORTAL), "the built web portal served at /"),
}


def _get(name: str) -> str:
    return os.environ.get(name, GATEWAY_ENV_VARS[name][0])


@dataclass(frozen=True)
class GatewayConfig:
    supergraph_path: Path = DEFAULT_SUPERGRAPH
    introspection: bool = True
    max_depth: int = 15
    max_aliases: int = 30
    max_cost: int = 20000
    max_directives: int = 50
    max_tokens: int = 10_000
    default_list_size: int = 20
    max_response_bytes: int = 8_388_608
    max_body_bytes: int = 1_048_576
    body_timeout: float = 10.0
    max_batch: int = 10
    forward_headers: frozenset[str] = frozenset()
    subgraph_timeout: float = 10.0
    # subgraph name -> timeout in seconds, from GATEWAY_TIMEOUT_<NAME>
    subgraph_timeouts: dict[str, float] = field(default_factory=dict)
    plan_cache_size: int = 1000
    portal_dir: Path = DEFAULT_PORTAL
    max_subscriptions_per_connection: int = 20
    max_subscriptions_per_user: int = 50
    max_live_connections_per_address: int = 100
    subscription_idle_timeout: float = 300.0
    keep_alive: float = 15.0
    connection_init_timeout: float = 10.0


def load_gateway_config(production: bool = False) -> GatewayConfig:
    flag = _get("GATEWAY_INTROSPECTION").strip().lower()
    introspection = (flag in ("1", "true", "yes", "on")) if flag else not production
    timeouts = {
        k[len("GATEWAY_TIMEOUT_"):].lower(): float(v)
        for k, v in os.environ.items()
        if k.startswith("GATEWAY_TIMEOUT_")
    }
    return GatewayConfig(
        supergraph_path=Path(_get("GATEWAY_SUPERGRAPH")),
        introspection=introspection,
        max_depth=int(_get("GATEWAY_MAX_DEPTH")),
        max_aliases=int(_get("GATEWAY_MAX_ALIASES")),
        max_cost=int(_get("GATEWAY_MAX_COST")),
        max_directives=int(_get("GATEWAY_MAX_DIRECTIVES")),
        max_tokens=int(_get("GATEWAY_MAX_TOKENS")),
        default_list_size=int(_get("GATEWAY_DEFAULT_LIST_SIZE")),
        max_response_bytes=int(_get("GATEWAY_MAX_RESPONSE_BYTES")),
        max_body_bytes=int(_get("GATEWAY_MAX_BODY_BYTES")),
        body_timeout=float(_get("GATEWAY_BODY_TIMEOUT_SECONDS")),
        max_batch=int(_get("GATEWAY_MAX_BATCH")),
        forward_headers=frozenset(
            h.strip().lower() for h in _get("GATEWAY_FORWARD_HEADERS").split(",") if h.strip()
        ),
        subgraph_timeout=float(_get("GATEWAY_SUBGRAPH_TIMEOUT_SECONDS")),
        subgraph_timeouts=timeouts,
        plan_cache_size=int(_get("GATEWAY_PLAN_CACHE_SIZE")),
        portal_dir=Path(_get("GATEWAY_PORTAL_DIR")),
        max_subscriptions_per_connection=int(_get("GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION")),
        max_subscriptions_per_user=int(_get("GATEWAY_MAX_SUBSCRIPTIONS_PER_USER")),
        max_live_connections_per_address=int(_get("GATEWAY_MAX_LIVE_CONNECTIONS_PER_ADDRESS")),
        subscription_idle_timeout=float(_get("GATEWAY_SUBSCRIPTION_IDLE_SECONDS")),
        keep_alive=float(_get("GATEWAY_KEEPALIVE_SECONDS")),
    )
