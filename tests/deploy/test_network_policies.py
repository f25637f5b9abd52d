from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.deploy.manifests import SERVICES, of_kind, pod_labels, rendered, selects, workloads

Resource = dict[str, Any]


@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace and labels) or, with ``ip``, an address outside the cluster."""

    name: str
    namespace: str = ""
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    ip: str | None = None


def namespace_labels(namespace: str) -> dict[str, str]:
    return {"kubernetes.io/metadata.name": namespace}


def peer_matches(peer: dict[str, Any], policy_namespace: str, endpoint: Endpoint) -> bool:
    if "ipBlock" in peer:
        if endpoint.ip is None:
            return False  # a pod's address is not modelled; our ipBlocks are for the outside
        address = ipaddress.ip_address(endpoint.ip)
        block = peer["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(e) for e in block.get("except", [])
        )
    if endpoint.ip is not None:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], namespace_labels(endpoint.namespace)):
            return False
    elif endpoint.namespace != policy_namespace:
        return False
    return selects(peer.get("podSelector", {}), endpoint.labels)


def port_matches(rule: dict[str, Any], port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    return any(p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports)


def side_allows(
    policies: list[Resource], subject: Endpoint, other: Endpoint, port: int, protocol: str,
    direction: str,
) -> bool:
    """Whether the policies of ``subject``'s namespace let it send (Egress) or receive (Ingress)."""
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    applying = [
        p for p in policies
        if (p["metadata"].get("namespace") or "") == subject.namespace
        and direction in p["spec"].get("policyTypes", ["Ingress"])
        and selects(p["spec"]["podSelector"], subject.labels)
    ]
    if subject.ip is not None or not applying:
        return True  # not isolated: outside the cluster, or in a namespace these don't govern
    for policy in applying:
        namespace = policy["metadata"].get("namespace") or ""
        for rule in policy["spec"].get(key, []):
            peers = rule.get(peers_key)
            if (not peers or any(peer_matches(peer, namespace, other) for peer in peers)) and (
                port_matches(rule, port, protocol)
            ):
                return True
    return False


def allowed(
    policies: list[Resource], source: Endpoint, destination: Endpoint, port: int,
    protocol: str = "TCP",
) -> bool:
    return side_allows(policies, source, destination, port, protocol, "Egress") and side_allows(
        policies, destination, source, port, protocol, "Ingress"
    )


class Cluster:
    def __init__(self, name: str) -> None:
        resources = rendered(name)
        self.policies = of_kind(resources, "NetworkPolicy")
        self.namespace = self.policies[0]["metadata"].get("namespace") or ""
        self.pods = {
            w["metadata"]["name"]: Endpoint(w["metadata"]["name"], self.namespace, pod_labels(w))
            for w in workloads(resources)
        }
        self.outside = {
            "ingress-controller": Endpoint(
                "ingress-controller", "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}
            ),
            "prometheus": Endpoint(
                "prometheus", "monitoring", {"app.kubernetes.io/name": "prometheus"}
            ),
            "kube-dns": Endpoint("kube-dns", "kube-system", {"k8s-app": "kube-dns"}),
            "tempo": Endpoint("tempo", "monitoring", {"app.kubernetes.io/name": "tempo"}),
            # Another namespace's pod with our labels: a podSelector alone must not admit it.
            "stranger": Endpoint("stranger", "someone-else", {
                "app.kubernetes.io/name": "gateway", "app.kubernetes.io/component": "server"
            }),
            "smtp-relay": Endpoint("smtp-relay", ip="203.0.113.25"),
            "internet": Endpoint("internet", ip="198.51.100.7"),
        }

    def endpoint(self, name: str) -> Endpoint:
        return self.pods.get(name) or self.outside[name]

    def allows(self, source: str, destination: str, port: int, protocol: str = "TCP") -> bool:
        return allowed(self.policies, self.endpoint(source), self.endpoint(destination), port,
                       protocol)


PORT = {"gateway": 8000, "identity": 8001, "facility": 8002, "submittal": 8003,
        **{f"{s}-postgres": 5432 for s in SERVICES}, "nats": 4222, "otel-collector": 4318,
        "tempo": 4317}
APPS = ("gateway", "identity", "facility", "submittal")

ALLOWED = [
    ("ingress-controller", "gateway"), ("ingress-controller", "identity"),
    ("ingress-controller", "submittal"),
    ("gateway", "identity"), ("gateway", "facility"), ("gateway", "submittal"),
    ("facility", "identity"), ("submittal", "identity"),
    *[(s, f"{s}-postgres") for s in SERVICES],
    *[(f"{s}-migrate", f"{s}-postgres") for s in SERVICES],
    *[(s, "nats") for s in SERVICES],
    *[(app, "otel-collector") for app in APPS], ("otel-collector", "tempo"),
]

FORBIDDEN = [
    ("ingress-controller", "facility"), ("ingress-controller", "identity-postgres"),
    ("ingress-controller", "nats"),
    ("gateway", "nats"), *[("gateway", f"{s}-postgres") for s in SERVICES],
    ("facility", "identity-postgres"), ("facility", "submittal-postgres"),
    ("submittal", "facility-postgres"), ("identity", "facility-postgres"),
    ("identity-migrate", "facility-postgres"), ("facility-migrate", "nats"),
    ("submittal", "facility"), ("facility", "submittal"), ("identity", "facility"),
    ("nats", "identity"), ("identity-postgres", "identity"),
    ("prometheus", "identity-postgres"), ("prometheus", "nats"),
    ("ingress-controller", "otel-collector"), ("nats", "otel-collector"),
    *[(f"{s}-postgres", "otel-collector") for s in SERVICES],
    ("identity-migrate", "otel-collector"),
    ("otel-collector", "identity"), ("otel-collector", "nats"), ("gateway", "tempo"),
    *[("stranger", target) for target in
      ("gateway", "identity", "facility", "submittal", "nats", "identity-postgres")],
]


@pytest.fixture(params=["base", "dev", "prod"])
def cluster(request: pytest.FixtureRequest) -> Cluster:
    return Cluster(request.param)


def test_everything_not_allowed_is_denied_by_default(cluster: Cluster) -> None:
    (deny,) = [p for p in cluster.policies if p["metadata"]["name"] == "default-deny"]
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


@pytest.mark.parametrize(("source", "destination"), ALLOWED)
def test_each_required_flow_is_allowed(cluster: Cluster, source: str, destination: str) -> None:
    assert cluster.allows(source, destination, PORT[destination])


@pytest.mark.parametrize(("source", "destination"), FORBIDDEN)
def test_each_other_flow_is_denied(cluster: Cluster, source: str, destination: str) -> None:
    assert not cluster.allows(source, destination, PORT[destination])


def test_nats_peers_reach_each_other_on_the_cluster_port_only(cluster: Cluster) -> None:
    assert cluster.allows("nats", "nats", 6222)
    assert not cluster.allows("identity", "nats", 6222)
    assert not cluster.allows("nats", "nats", 4222)


def test_every_pod_may_resolve_names_and_nothing_else_at_the_dns_server(cluster: Cluster) -> None:
    for pod in cluster.pods:
        assert cluster.allows(pod, "kube-dns", 53, "UDP"), pod
        assert cluster.allows(pod, "kube-dns", 53, "TCP"), pod
        assert not cluster.allows(pod, "kube-dns", 8080), pod


def test_only_the_mail_senders_reach_the_smtp_relay_and_nothing_reaches_the_internet(
    cluster: Cluster,
) -> None:
    assert cluster.allows("identity", "smtp-relay", 587)
    assert cluster.allows("facility", "smtp-relay", 587)
    for pod in ("gateway", "submittal", "nats", "identity-postgres", "identity-migrate"):
        assert not cluster.allows(pod, "smtp-relay", 587), pod
    for pod in cluster.pods:
        assert not cluster.allows(pod, "internet", 443), pod


def test_prometheus_scrapes_the_collectors_own_metrics_and_nothing_else_there(
    cluster: Cluster,
) -> None:
    assert cluster.allows("prometheus", "otel-collector", 8888)
    assert not cluster.allows("prometheus", "otel-collector", 4318)
    assert not cluster.allows("gateway", "otel-collector", 8888)


def test_prometheus_scrapes_only_the_operations_port(cluster: Cluster) -> None:
    assert not cluster.allows("prometheus", "identity", 5432)
    for app in ("gateway", "identity", "facility", "submittal"):
        assert cluster.allows("prometheus", app, PORT[app] + 100), app
        assert not cluster.allows("prometheus", app, PORT[app]), app


def test_the_ingress_controller_never_reaches_an_operations_port(cluster: Cluster) -> None:
    for app in ("gateway", "identity", "facility", "submittal"):
        assert not cluster.allows("ingress-controller", app, PORT[app] + 100), app
