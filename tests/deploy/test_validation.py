from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import ValidationError

from tests.deploy.kustomize import Loader, load_yaml_documents, render
from tests.deploy.manifests import (
    K8S,
    KUBERNETES_VERSION,
    RENDERINGS,
    find,
    kustomization_dirs,
    rendered,
)

ALL = list(RENDERINGS)


def raw_manifest_files() -> list[Path]:
    """Every file a kustomization lists as a resource (patches are partial, so not these)."""
    files = []
    for directory in kustomization_dirs():
        spec = load_yaml_documents(directory / "kustomization.yaml")[0]
        files += [directory / r for r in spec.get("resources", []) if (directory / r).is_file()]
    return sorted(files)


def validate(resource: dict[str, Any]) -> None:
    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_strict_validation_rejects_a_misspelt_field() -> None:
    deployment = copy.deepcopy(find(rendered("base"), "Deployment", "gateway"))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(ValidationError, match="livenesProbe"):
        validate(deployment)


@pytest.mark.parametrize("path", raw_manifest_files(), ids=lambda p: str(p.relative_to(K8S)))
def test_every_manifest_file_validates_strictly(path: Path) -> None:
    for resource in load_yaml_documents(path):
        validate(resource)


@pytest.mark.parametrize("name", ALL)
def test_every_rendered_resource_validates_strictly(name: str) -> None:
    for resource in rendered(name):
        validate(resource)


def test_every_yaml_file_under_deploy_parses() -> None:
    for path in K8S.rglob("*.yaml"):
        list(yaml.load_all(path.read_text(), Loader=Loader))
    assert render(K8S / "base")
