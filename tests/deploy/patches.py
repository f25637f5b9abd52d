"""Strategic-merge and JSON 6902 patches, as kustomize applies them."""

from __future__ import annotations

import copy
from typing import Any

Resource = dict[str, Any]


class KustomizeError(Exception):
    pass


# List fields merged item by item (their patchMergeKey in the Kubernetes API); any other list
# in a strategic merge patch replaces the original, as kustomize does.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "imagePullSecrets": "name",
}


def strategic_merge(original: Any, patch: Any, field: str = "") -> Any:
    """Merge ``patch`` into ``original`` with Kubernetes strategic-merge semantics."""
    if isinstance(original, dict) and isinstance(patch, dict):
        merged = dict(original)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = strategic_merge(merged[key], value, key)
            else:
                merged[key] = copy.deepcopy(value)
        return merged
    if isinstance(original, list) and isinstance(patch, list) and field in MERGE_KEYS:
        key = MERGE_KEYS[field]
        merged_list = [copy.deepcopy(item) for item in original]
        for item in patch:
            if not isinstance(item, dict) or key not in item:
                raise KustomizeError(f"{field}: every patch item needs its merge key {key!r}")
            for i, existing in enumerate(merged_list):
                if existing.get(key) == item[key]:
                    merged_list[i] = strategic_merge(existing, item)
                    break
            else:
                merged_list.append(copy.deepcopy(item))
        return merged_list
    return copy.deepcopy(patch)


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise KustomizeError(f"JSON pointer {path!r} must start with /")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _walk(document: Any, parts: list[str], where: str) -> Any:
    node = document
    for part in parts:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise KustomizeError(f"{where}: path /{'/'.join(parts)} does not exist") from exc
    return node


def json6902(resource: Resource, operations: list[dict[str, Any]], where: str) -> Resource:
    """Apply RFC 6902 add/remove/replace/test operations; a missing path is an error."""
    document = copy.deepcopy(resource)
    for op in operations:
        parts = _pointer(op["path"])
        parent = _walk(document, parts[:-1], where)
        last = parts[-1]
        kind = op["op"]
        if kind == "test":
            if _walk(document, parts, where) != op["value"]:
                raise KustomizeError(f"{where}: test failed at {op['path']}")
        elif kind == "add":
            if isinstance(parent, list):
                parent.insert(len(parent) if last == "-" else int(last), op["value"])
            else:
                parent[last] = op["value"]
        elif kind in ("replace", "remove"):
            _walk(document, parts, where)  # the target must exist
            if kind == "remove":
                del parent[int(last) if isinstance(parent, list) else last]
            elif isinstance(parent, list):
                parent[int(last)] = op["value"]
            else:
                parent[last] = op["value"]
        else:
            raise KustomizeError(f"{where}: unsupported JSON 6902 op {kind!r}")
    return document
