"""A small, strict kustomize renderer: enough of `kustomize build` for deploy/k8s, in Python.

Supported: resources (files and directories), patches (strategic merge, or JSON 6902 with a
target), images, replicas and namespace. Anything else in a kustomization is an error rather
than silently ignored, so a manifest can never rely on a feature this renderer skips.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.patches import KustomizeError as KustomizeError
from tests.deploy.patches import json6902, strategic_merge

Resource = dict[str, Any]

SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "patches", "images", "replicas", "namespace"}

CLUSTER_SCOPED = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "PersistentVolume", "StorageClass", "IngressClass", "PriorityClass",
}

POD_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}


# libyaml's loader where PyYAML has it: the same documents, several times faster.
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml_documents(path: Path) -> list[Any]:
    try:
        text = path.read_text()
        return [doc for doc in yaml.load_all(text, Loader=Loader) if doc is not None]
    except (OSError, yaml.YAMLError) as exc:
        raise KustomizeError(f"{path}: cannot read YAML: {exc}") from exc


def kustomization_file(directory: Path) -> Path:
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        if (directory / name).is_file():
            return directory / name
    raise KustomizeError(f"{directory}: no kustomization.yaml")


def resource_id(resource: Resource) -> tuple[str, str, str]:
    meta = resource.get("metadata") or {}
    return (resource.get("kind", ""), meta.get("namespace") or "", meta.get("name", ""))


def pod_spec(resource: Resource) -> dict[str, Any] | None:
    node: Any = resource
    for key in POD_TEMPLATE_PATHS.get(resource.get("kind", ""), ()):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) and node is not resource else None


def render(directory: Path) -> list[Resource]:
    """Render the kustomization in ``directory`` like ``kustomize build`` would."""
    directory = directory.resolve()
    spec = load_yaml_documents(kustomization_file(directory))[0]
    unsupported = set(spec) - SUPPORTED_FIELDS
    if unsupported:
        raise KustomizeError(f"{directory}: unsupported kustomization fields {sorted(unsupported)}")
    resources: list[Resource] = []
    for entry in spec.get("resources", []):
        resources.extend(_load_resource(directory, entry))
    seen: set[tuple[str, str, str]] = set()
    for resource in resources:
        rid = resource_id(resource)
        if rid in seen:
            raise KustomizeError(f"{directory}: resource {rid} is defined twice")
        seen.add(rid)
    for patch in spec.get("patches", []):
        _apply_patch(directory, resources, patch)
    if "namespace" in spec:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource.setdefault("metadata", {})["namespace"] = spec["namespace"]
    for image in spec.get("images", []):
        _set_image(directory, resources, image)
    for replica in spec.get("replicas", []):
        _set_replicas(directory, resources, replica)
    return resources


def _load_resource(directory: Path, entry: str) -> list[Resource]:
    path = (directory / entry).resolve()
    if path.is_dir():
        return render(path)
    if not path.is_file():
        raise KustomizeError(f"{directory}: resource {entry!r} does not exist")
    if directory not in path.parents:
        # kustomize's load restrictor: files must sit in or below the kustomization.
        raise KustomizeError(f"{directory}: resource file {entry!r} is outside the kustomization")
    docs = load_yaml_documents(path)
    for doc in docs:
        if not isinstance(doc, dict) or not {"apiVersion", "kind", "metadata"} <= set(doc):
            raise KustomizeError(f"{path}: not a Kubernetes resource: {str(doc)[:80]}")
    return docs


def _matches(resource: Resource, target: dict[str, Any]) -> bool:
    group, _, version = resource.get("apiVersion", "").rpartition("/")
    meta = resource.get("metadata") or {}
    checks = {
        "kind": resource.get("kind", ""),
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace") or "",
        "group": group,
        "version": version,
    }
    for key, wanted in target.items():
        if key == "labelSelector":
            labels = meta.get("labels") or {}
            for term in str(wanted).split(","):
                label, _, value = term.partition("=")
                if labels.get(label.strip()) != value.strip():
                    return False
        elif key in checks:
            # kustomize treats a target's name and kind as anchored regular expressions.
            if not re.fullmatch(str(wanted), checks[key]):
                return False
        else:
            raise KustomizeError(f"unsupported patch target field {key!r}")
    return True


def _apply_patch(directory: Path, resources: list[Resource], entry: dict[str, Any]) -> None:
    if "path" in entry:
        path = (directory / entry["path"]).resolve()
        if not path.is_file():
            raise KustomizeError(f"{directory}: patch {entry['path']!r} does not exist")
        docs = load_yaml_documents(path)
        where = f"{directory}: patch {entry['path']!r}"
    elif "patch" in entry:
        docs = [doc for doc in yaml.safe_load_all(entry["patch"]) if doc is not None]
        where = f"{directory}: inline patch"
    else:
        raise KustomizeError(f"{directory}: a patch needs path or patch")
    target = entry.get("target")
    if len(docs) == 1 and isinstance(docs[0], list):
        if not target:
            raise KustomizeError(f"{where}: a JSON 6902 patch needs a target")
        selected = [r for r in resources if _matches(r, target)]
        if not selected:
            raise KustomizeError(f"{where}: target {target} matches no resource")
        for resource in selected:
            resources[resources.index(resource)] = json6902(resource, docs[0], where)
        return
    for doc in docs:
        if target:
            selector = target
        else:
            selector = {"kind": re.escape(doc["kind"]), "name": re.escape(doc["metadata"]["name"])}
        selected = [r for r in resources if _matches(r, selector)]
        if not selected:
            raise KustomizeError(f"{where}: {selector} matches no resource")
        for resource in selected:
            patch = copy.deepcopy(doc)
            if target:
                patch["metadata"] = {**patch.get("metadata", {}), **resource["metadata"]}
            resources[resources.index(resource)] = strategic_merge(resource, patch)


def _split_image(image: str) -> tuple[str, str]:
    name, _, digest = image.partition("@")
    if digest:
        return name, "@" + digest
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon:]
    return name, ""


def _set_image(directory: Path, resources: list[Resource], image: dict[str, Any]) -> None:
    found = False
    for resource in resources:
        spec = pod_spec(resource)
        if spec is None:
            continue
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            name, suffix = _split_image(container["image"])
            if name != image["name"]:
                continue
            found = True
            if "digest" in image:
                suffix = "@" + image["digest"]
            elif "newTag" in image:
                suffix = ":" + str(image["newTag"])
            container["image"] = image.get("newName", name) + suffix
    if not found:
        raise KustomizeError(f"{directory}: image {image['name']!r} is used by no container")


def _set_replicas(directory: Path, resources: list[Resource], replica: dict[str, Any]) -> None:
    selected = [
        r for r in resources
        if r["kind"] in ("Deployment", "StatefulSet", "ReplicaSet")
        and r["metadata"]["name"] == replica["name"]
    ]
    if not selected:
        raise KustomizeError(f"{directory}: replicas for {replica['name']!r}: no such workload")
    for resource in selected:
        resource["spec"]["replicas"] = int(replica["count"])
