from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.kustomize import KustomizeError, Loader, render
from tests.deploy.manifests import RENDERINGS, kustomization_dirs

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: cers
          env:
            - {name: A, value: "1"}
            - {name: B, value: "2"}
        - name: sidecar
          image: busybox:1.36
"""


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return directory


def test_a_strategic_merge_patch_merges_containers_and_env_by_name(tmp_path: Path) -> None:
    write(tmp_path, {
        "base/kustomization.yaml": "resources: [deployment.yaml]\n",
        "base/deployment.yaml": DEPLOYMENT,
        "overlay/kustomization.yaml": "resources: [../base]\npatches:\n  - path: patch.yaml\n",
        "overlay/patch.yaml": """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              template:
                spec:
                  containers:
                    - name: web
                      env:
                        - {name: B, value: "two"}
                        - {name: C, value: "3"}
        """,
    })
    (deployment,) = render(tmp_path / "overlay")
    web, sidecar = deployment["spec"]["template"]["spec"]["containers"]
    assert web["env"] == [
        {"name": "A", "value": "1"}, {"name": "B", "value": "two"}, {"name": "C", "value": "3"}
    ]
    assert web["image"] == "cers"
    assert sidecar == {"name": "sidecar", "image": "busybox:1.36"}


def test_json6902_images_replicas_and_namespace_apply(tmp_path: Path) -> None:
    write(tmp_path, {
        "kustomization.yaml": """
            namespace: shop
            resources: [deployment.yaml]
            images:
              - {name: cers, newName: registry.example.org/cers, newTag: "1.2"}
            replicas:
              - {name: web, count: 5}
            patches:
              - path: ops.yaml
                target: {kind: Deployment, name: w.b}
        """,
        "deployment.yaml": DEPLOYMENT,
        "ops.yaml": """
            - {op: replace, path: /spec/template/spec/containers/1/image, value: "busybox:1.37"}
            - {op: add, path: /metadata/labels, value: {tier: front}}
        """,
    })
    (deployment,) = render(tmp_path)
    assert deployment["metadata"] == {
        "name": "web", "namespace": "shop", "labels": {"tier": "front"}
    }
    assert deployment["spec"]["replicas"] == 5
    images = [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]]
    assert images == ["registry.example.org/cers:1.2", "busybox:1.37"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"kustomization.yaml": "resources: [missing.yaml]\n"}, "does not exist"),
        ({"kustomization.yaml": "resources: [d.yaml]\npatches:\n  - path: nope.yaml\n",
          "d.yaml": DEPLOYMENT}, "does not exist"),
        ({"kustomization.yaml": "resources: [d.yaml]\npatches:\n  - path: p.yaml\n",
          "d.yaml": DEPLOYMENT,
          "p.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n"},
         "matches no resource"),
        ({"kustomization.yaml": "resources: [d.yaml]\npatches:\n  - path: p.yaml\n"
          "    target: {kind: Deployment}\n",
          "d.yaml": DEPLOYMENT,
          "p.yaml": "- {op: replace, path: /spec/nothing/here, value: 1}\n"}, "does not exist"),
        ({"kustomization.yaml": "resources: [d.yaml, d.yaml]\n", "d.yaml": DEPLOYMENT},
         "defined twice"),
        ({"kustomization.yaml": "resources: [d.yaml]\ncommonLabels: {a: b}\n",
          "d.yaml": DEPLOYMENT}, "unsupported"),
        ({"kustomization.yaml": "resources: [d.yaml]\nimages:\n  - {name: nginx, newTag: '1'}\n",
          "d.yaml": DEPLOYMENT}, "used by no container"),
    ],
    ids=["missing-resource", "missing-patch", "patch-without-target", "bad-json-pointer",
         "duplicate", "unsupported-field", "unused-image"],
)
def test_a_broken_kustomization_is_an_error_not_a_silent_skip(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    write(tmp_path, files)
    with pytest.raises(KustomizeError, match=message):
        render(tmp_path)


def test_every_kustomization_renders_with_its_resources_and_patches_resolved() -> None:
    directories = kustomization_dirs()
    assert {d for d in RENDERINGS.values()} <= set(directories)
    for directory in directories:
        assert render(directory), f"{directory} renders nothing"


def test_the_python_renderer_matches_kubectl_kustomize_where_kubectl_is_installed() -> None:
    # The pure-Python path is what CI relies on; kubectl, where present, keeps it honest.
    kubectl = shutil.which("kubectl")
    for directory in kustomization_dirs():
        ours = render(directory)
        if kubectl is None:
            assert all(r["metadata"]["name"] for r in ours)
            continue
        out = subprocess.run(
            [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=True,
            timeout=60,
        ).stdout
        theirs = [doc for doc in yaml.load_all(out, Loader=Loader) if doc]

        def key(r: dict[str, Any]) -> tuple[str, str, str]:
            return r["kind"], r["metadata"].get("namespace", ""), r["metadata"]["name"]

        assert {key(r): r for r in ours} == {key(r): r for r in theirs}, directory
