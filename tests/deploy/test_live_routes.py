"""Live updates pass the Ingress and the NetworkPolicies: WebSocket upgrades and Server-Sent
Events on /graphql, held open far longer than the gateway's keep-alive interval."""

from __future__ import annotations

import pytest

from gateway.config import GATEWAY_ENV_VARS
from gateway.live_http import SSE_HEADERS
from tests.deploy.manifests import of_kind, rendered, route
from tests.deploy.test_network_policies import PORT, Cluster

ANNOTATION = "nginx.ingress.kubernetes.io/"


@pytest.mark.parametrize("overlay", ["base", "dev", "prod"])
def test_the_ingress_holds_live_connections_open(overlay: str) -> None:
    (ingress,) = of_kind(rendered(overlay), "Ingress")
    assert route(ingress, "/graphql") == "gateway"
    annotations = ingress["metadata"]["annotations"]
    keep_alive = float(GATEWAY_ENV_VARS["GATEWAY_KEEPALIVE_SECONDS"][0])
    for name in ("proxy-read-timeout", "proxy-send-timeout"):
        # An idle live connection sees a ping every keep-alive interval, well within this.
        assert float(annotations[ANNOTATION + name]) >= 10 * keep_alive, name
    assert annotations[ANNOTATION + "proxy-http-version"] == "1.1"  # Upgrade needs 1.1
    # Buffering stays on for everything else: SSE answers turn it off for themselves.
    assert ANNOTATION + "proxy-buffering" not in annotations
    assert SSE_HEADERS["x-accel-buffering"] == "no"


@pytest.mark.parametrize("overlay", ["base", "dev", "prod"])
def test_live_traffic_flows_from_the_ingress_to_the_gateway_to_the_subgraphs(
        overlay: str) -> None:
    cluster = Cluster(overlay)
    assert cluster.allows("ingress-controller", "gateway", PORT["gateway"])
    # The gateway's subgraph sockets use the subgraphs' HTTP port; the live feed is NATS.
    for subgraph in ("submittal", "facility"):
        assert cluster.allows("gateway", subgraph, PORT[subgraph])
        assert cluster.allows(subgraph, "nats", PORT["nats"])
    assert not cluster.allows("ingress-controller", "submittal", 8103)
