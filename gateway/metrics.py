"""Gateway metrics on the app's /metrics registry: operations, subgraph calls, the plan cache."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Histogram

log = logging.getLogger(__name__)

# Operation names come from clients: past this many distinct names, new ones count as "other"
# so no client can grow the registry (and Prometheus) without bound.
MAX_OPERATION_NAMES = 200
MAX_NAME_LENGTH = 100
ANONYMOUS = "anonymous"
OTHER = "other"
UNPARSED = "unparsed"  # refused before its operation was known


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
        self.operation_requests = Counter(
            "gateway_operation_requests_total",
            "GraphQL operations by name, type and outcome (ok, client_error, server_error, "
            "refused, failed)",
            ["operation", "type", "outcome"], registry=registry,
        )
        self.operation_latency = Histogram(
            "gateway_operation_duration_seconds", "GraphQL operation latency, by name and type",
            ["operation", "type"], registry=registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self._names: set[str] = set()

    def operation_label(self, name: str | None) -> str:
        if name is None:
            return ANONYMOUS
        name = name[:MAX_NAME_LENGTH]
        if name in self._names:
            return name
        if len(self._names) >= MAX_OPERATION_NAMES:
            return OTHER
        self._names.add(name)
        if len(self._names) == MAX_OPERATION_NAMES:
            log.warning("the gateway's metrics now label %d operation names; further names "
                        "count as %r", MAX_OPERATION_NAMES, OTHER)
        return name

    def observe_operation(
        self, name: str | None, kind: str, outcome: str, seconds: float,
        exemplar: dict[str, str] | None = None,
    ) -> None:
        label = self.operation_label(name) if kind != UNPARSED else UNPARSED
        self.operation_requests.labels(label, kind, outcome).inc()
        self.operation_latency.labels(label, kind).observe(seconds, exemplar)
