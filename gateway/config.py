"""Gateway settings from environment variables (documented in GATEWAY_ENV_VARS)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from common.settings import EnvReader

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


TIMEOUT_PREFIX = "GATEWAY_TIMEOUT_"


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
    """The gateway's settings, or SettingsError naming every variable with an invalid value."""
    # GATEWAY_TIMEOUT_<NAME> overrides one subgraph's timeout: any such variable set is read.
    overrides = [name for name in os.environ if name.startswith(TIMEOUT_PREFIX)]
    env = EnvReader.of({**GATEWAY_ENV_VARS, **{
        name: ("", f"timeout of the {name[len(TIMEOUT_PREFIX):].lower()} subgraph")
        for name in overrides}})
    introspection = (env.flag("GATEWAY_INTROSPECTION") if env.text("GATEWAY_INTROSPECTION")
                     else not production)
    timeouts = {name[len(TIMEOUT_PREFIX):].lower(): env.number(name, minimum=0, above=True)
                for name in overrides}
    config = GatewayConfig(
        supergraph_path=Path(env.text("GATEWAY_SUPERGRAPH")),
        introspection=introspection,
        max_depth=env.integer("GATEWAY_MAX_DEPTH", minimum=1),
        max_aliases=env.integer("GATEWAY_MAX_ALIASES", minimum=0),
        max_cost=env.integer("GATEWAY_MAX_COST", minimum=1),
        max_directives=env.integer("GATEWAY_MAX_DIRECTIVES", minimum=0),
        max_tokens=env.integer("GATEWAY_MAX_TOKENS", minimum=1),
        default_list_size=env.integer("GATEWAY_DEFAULT_LIST_SIZE", minimum=1),
        max_response_bytes=env.integer("GATEWAY_MAX_RESPONSE_BYTES", minimum=1024),
        max_body_bytes=env.integer("GATEWAY_MAX_BODY_BYTES", minimum=1024),
        body_timeout=env.number("GATEWAY_BODY_TIMEOUT_SECONDS", minimum=0, above=True),
        max_batch=env.integer("GATEWAY_MAX_BATCH", minimum=1),
        forward_headers=frozenset(
            h.strip().lower() for h in env.text("GATEWAY_FORWARD_HEADERS").split(",")
            if h.strip()
        ),
        subgraph_timeout=env.number("GATEWAY_SUBGRAPH_TIMEOUT_SECONDS", minimum=0, above=True),
        subgraph_timeouts=timeouts,
        plan_cache_size=env.integer("GATEWAY_PLAN_CACHE_SIZE", minimum=0),
        portal_dir=Path(env.text("GATEWAY_PORTAL_DIR")),
        max_subscriptions_per_connection=env.integer(
            "GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION", minimum=1),
        max_subscriptions_per_user=env.integer("GATEWAY_MAX_SUBSCRIPTIONS_PER_USER", minimum=1),
        # 0 turns the limit off.
        max_live_connections_per_address=env.integer(
            "GATEWAY_MAX_LIVE_CONNECTIONS_PER_ADDRESS", minimum=0),
        subscription_idle_timeout=env.number("GATEWAY_SUBSCRIPTION_IDLE_SECONDS", minimum=0,
                                             above=True),
        keep_alive=env.number("GATEWAY_KEEPALIVE_SECONDS", minimum=0, above=True),
    )
    env.check()
    return config


def ws_compression() -> bool:
    env = EnvReader.of(GATEWAY_ENV_VARS)
    compression = env.flag("GATEWAY_WS_COMPRESSION")
    env.check()
    return compression
