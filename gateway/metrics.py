"""Gateway metrics on the app's /metrics registry: subgraph calls and the plan cache."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.subgraph_requests = Counter(
            "gateway_subgraph_requests_total", "Subgraph calls by outcome (ok, error, failed)",
            ["service", "outcome"], registry=registry,
        )
        self.subgraph_latency = Histogram(
            "gateway_subgraph_request_duration_seconds", "Subgraph call latency",
            ["service"], registry=registry,
        )
        self.operations = Counter(
            "gateway_operations_total", "Operations by plan cache result (hit, miss, refused)",
            ["cache"], registry=registry,
        )
