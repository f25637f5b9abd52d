"""Reading rendered manifests: workloads, their containers, and what each container's env holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.deploy.kustomize import Resource, pod_spec, render

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
RENDERINGS = {
    "base": K8S / "base",
    "dev": K8S / "overlays" / "dev",
    "prod": K8S / "overlays" / "prod",
}
OVERLAYS = ("dev", "prod")
APPS = {"gateway": "gateway", "identity": "services.identity", "facility": "services.facility",
        "submittal": "services.submittal"}
SERVICES = ("identity", "facility", "submittal")
KUBERNETES_VERSION = "1.35"

_cache: dict[str, list[Resource]] = {}


def rendered(name: str) -> list[Resource]:
    if name not in _cache:
        _cache[name] = render(RENDERINGS[name])
    return _cache[name]


def kustomization_dirs() -> list[Path]:
    return sorted(p.parent for p in K8S.rglob("kustomization.yaml"))


def find(resources: list[Resource], kind: str, name: str) -> Resource:
    for resource in resources:
        if resource["kind"] == kind and resource["metadata"]["name"] == name:
            return resource
    raise AssertionError(f"no {kind} {name!r} in the rendering")


def of_kind(resources: list[Resource], *kinds: str) -> list[Resource]:
    return [r for r in resources if r["kind"] in kinds]


def workloads(resources: list[Resource]) -> list[Resource]:
    return [r for r in resources if pod_spec(r) is not None]


def pod_labels(workload: Resource) -> dict[str, str]:
    template = workload["spec"]["template"]
    return dict(template.get("metadata", {}).get("labels", {}))


def containers(workload: Resource) -> list[dict[str, Any]]:
    spec = pod_spec(workload) or {}
    return list(spec.get("initContainers", [])) + list(spec.get("containers", []))


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels and matchExpressions)."""
    if "matchLabels" in selector or "matchExpressions" in selector:
        match_labels = selector.get("matchLabels", {})
        expressions = selector.get("matchExpressions", [])
    else:
        match_labels, expressions = selector, []  # a Service's plain selector map
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expr in expressions:
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


@dataclass(frozen=True)
class EnvValue:
    """Where a container's variable comes from: a literal, or a Secret's key."""

    value: str | None = None
    secret: str | None = None
    key: str | None = None
    optional: bool = False


def container_env(resources: list[Resource], container: dict[str, Any]) -> dict[str, EnvValue]:
    """The container's environment as Kubernetes builds it: envFrom first, then env."""
    env: dict[str, EnvValue] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            config = find(resources, "ConfigMap", source["configMapRef"]["name"])
            for name, value in config.get("data", {}).items():
                env[name] = EnvValue(value=str(value))
        else:
            raise AssertionError(f"unexpected envFrom source {source}")
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = EnvValue(value=str(item["value"]))
            continue
        ref = item.get("valueFrom", {})
        if "secretKeyRef" in ref:
            s = ref["secretKeyRef"]
            env[item["name"]] = EnvValue(
                secret=s["name"], key=s["key"], optional=bool(s.get("optional", False))
            )
        elif "configMapKeyRef" in ref:
            c = ref["configMapKeyRef"]
            data = find(resources, "ConfigMap", c["name"]).get("data", {})
            assert c["key"] in data, f"ConfigMap {c['name']} has no key {c['key']}"
            env[item["name"]] = EnvValue(value=str(data[c["key"]]))
        elif "fieldRef" in ref:
            env[item["name"]] = EnvValue(value=f"<{ref['fieldRef']['fieldPath']}>")
        else:
            raise AssertionError(f"unexpected env source in {item}")
    return env


def app_deployment(resources: list[Resource], app: str) -> tuple[Resource, dict[str, Any]]:
    deployment = find(resources, "Deployment", app)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return deployment, container


def route(ingress: dict[str, Any], path: str) -> str:
    """The backend Service an ingress controller picks: Exact first, then longest Prefix."""
    best: tuple[int, str] | None = None
    for rule in ingress["spec"]["rules"]:
        for p in rule["http"]["paths"]:
            if p["pathType"] == "Exact" and p["path"] == path:
                return str(p["backend"]["service"]["name"])
            prefix = p["path"].rstrip("/")
            if p["pathType"] == "Prefix" and (path == prefix or path.startswith(prefix + "/")):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), p["backend"]["service"]["name"])
    assert best is not None, f"no route for {path}"
    return best[1]
