from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import ValidationError

from tests.deploy.kustomize import Loader, load_yaml_documents, pod_spec, render
from tests.deploy.manifests import (
    APPS,
    K8S,
    KUBERNETES_VERSION,
    OVERLAYS,
    RENDERINGS,
    SERVICES,
    app_deployment,
    container_env,
    containers,
    find,
    kustomization_dirs,
    of_kind,
    pod_labels,
    rendered,
    selects,
    workloads,
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


@pytest.mark.parametrize("name", ALL)
def test_every_long_running_container_has_liveness_and_readiness_probes(name: str) -> None:
    for workload in of_kind(rendered(name), "Deployment", "StatefulSet"):
        for container in containers(workload):
            where = f"{workload['metadata']['name']}/{container['name']}"
            assert "livenessProbe" in container, where
            assert "readinessProbe" in container, where


@pytest.mark.parametrize("name", ALL)
def test_the_app_probes_are_healthz_for_liveness_and_readyz_for_readiness(name: str) -> None:
    for app in APPS:
        _, container = app_deployment(rendered(name), app)
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["port"] == "http"


@pytest.mark.parametrize("name", ALL)
def test_every_container_has_resource_requests_and_limits(name: str) -> None:
    for workload in workloads(rendered(name)):
        for container in containers(workload):
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(kind, {})), (
                    f"{workload['metadata']['name']}/{container['name']} lacks {kind}"
                )


@pytest.mark.parametrize("name", ALL)
def test_every_container_runs_non_root_read_only_without_privileges(name: str) -> None:
    for workload in workloads(rendered(name)):
        spec = pod_spec(workload)
        assert spec is not None
        pod = spec.get("securityContext", {})
        assert pod.get("runAsNonRoot") is True
        assert pod.get("runAsUser", 0) > 0
        assert pod.get("seccompProfile") == {"type": "RuntimeDefault"}
        assert spec.get("automountServiceAccountToken") is False
        # Otherwise Kubernetes sets IDENTITY_PORT=tcp://10.0.0.7:8001 for Service identity.
        assert spec.get("enableServiceLinks") is False
        for container in containers(workload):
            where = f"{workload['metadata']['name']}/{container['name']}"
            sc = container.get("securityContext", {})
            assert sc.get("runAsNonRoot") is True, where
            assert sc.get("readOnlyRootFilesystem") is True, where
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
            assert "privileged" not in sc and "add" not in sc.get("capabilities", {}), where


@pytest.mark.parametrize("name", ALL)
def test_every_service_selects_pods_that_exist_on_ports_they_expose(name: str) -> None:
    resources = rendered(name)
    for service in of_kind(resources, "Service"):
        selected = [w for w in workloads(resources) if selects(service["spec"]["selector"],
                                                               pod_labels(w))]
        assert selected, f"Service {service['metadata']['name']} selects no pods"
        for port in service["spec"]["ports"]:
            for workload in selected:
                names = {p.get("name") for c in containers(workload) for p in c.get("ports", [])}
                numbers = {p["containerPort"] for c in containers(workload)
                           for p in c.get("ports", [])}
                assert port["targetPort"] in names | numbers, (
                    f"Service {service['metadata']['name']} targets {port['targetPort']}, "
                    f"which {workload['metadata']['name']} does not expose"
                )


@pytest.mark.parametrize("name", ALL)
def test_every_workload_selector_matches_its_own_pod_template(name: str) -> None:
    for workload in of_kind(rendered(name), "Deployment", "StatefulSet"):
        assert selects(workload["spec"]["selector"], pod_labels(workload))


@pytest.mark.parametrize("name", ALL)
def test_hpas_and_pdbs_point_at_workloads_that_exist(name: str) -> None:
    resources = rendered(name)
    scaled = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind(resources,
                                                                   "HorizontalPodAutoscaler")}
    assert scaled == set(APPS)
    for app in APPS:
        find(resources, "Deployment", app)
    for pdb in of_kind(resources, "PodDisruptionBudget"):
        assert any(selects(pdb["spec"]["selector"], pod_labels(w))
                   for w in of_kind(resources, "Deployment", "StatefulSet")), pdb["metadata"]
    budgeted = {p["metadata"]["name"] for p in of_kind(resources, "PodDisruptionBudget")}
    assert set(APPS) | {"nats"} <= budgeted


@pytest.mark.parametrize("name", ALL)
def test_each_role_runs_its_own_command_from_the_one_image(name: str) -> None:
    resources = rendered(name)
    images = set()
    for app, module in APPS.items():
        _, container = app_deployment(resources, app)
        assert container["command"] == ["python", "-m", module]
        images.add(container["image"])
    for service in SERVICES:
        job = find(resources, "Job", f"{service}-migrate")
        (container,) = job["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["python", "-m", f"services.{service}", "migrate"]
        images.add(container["image"])
    assert len(images) == 1


@pytest.mark.parametrize("name", OVERLAYS)
def test_overlays_pin_the_image_tag_and_every_image_has_one(name: str) -> None:
    spec = load_yaml_documents(RENDERINGS[name] / "kustomization.yaml")[0]
    (image,) = spec["images"]
    expected = f"{image['newName']}:{image['newTag']}"
    _, gateway = app_deployment(rendered(name), "gateway")
    assert gateway["image"] == expected
    for workload in workloads(rendered(name)):
        for container in containers(workload):
            tag = container["image"].rpartition(":")[2]
            assert ":" in container["image"] and tag != "latest", container["image"]


def test_prod_streams_replicate_three_times_and_dev_once() -> None:
    for name, replicas in (("dev", "1"), ("prod", "3")):
        for app in SERVICES:
            _, container = app_deployment(rendered(name), app)
            env = container_env(rendered(name), container)
            assert env["NATS_STREAM_REPLICAS"].value == replicas, (name, app)


def test_prod_runs_at_least_three_replicas_of_each_role_and_dev_one() -> None:
    for name, minimum in (("dev", 1), ("prod", 3)):
        for app in APPS:
            deployment, _ = app_deployment(rendered(name), app)
            hpa = find(rendered(name), "HorizontalPodAutoscaler", app)
            # The autoscaler owns the count; a replicas field would fight it on every apply.
            assert "replicas" not in deployment["spec"]
            assert hpa["spec"]["minReplicas"] == minimum
            assert hpa["spec"]["maxReplicas"] >= minimum


def test_prod_gives_each_role_more_resources_than_dev() -> None:
    for app in APPS:
        _, dev = app_deployment(rendered("dev"), app)
        _, prod = app_deployment(rendered("prod"), app)
        assert dev["resources"] != prod["resources"]


@pytest.mark.parametrize("name", ALL)
def test_nats_is_a_three_node_jetstream_cluster_on_persistent_volumes(name: str) -> None:
    resources = rendered(name)
    nats = find(resources, "StatefulSet", "nats")
    assert nats["spec"]["replicas"] == 3
    assert nats["spec"]["podManagementPolicy"] == "Parallel"
    (claim,) = nats["spec"]["volumeClaimTemplates"]
    (container,) = nats["spec"]["template"]["spec"]["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == "/data"
    headless = find(resources, "Service", nats["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    conf = find(resources, "ConfigMap", "nats-config")["data"]["nats.conf"]
    assert "store_dir: /data/jetstream" in conf
    for i in range(3):
        assert f"nats://nats-{i}.{headless['metadata']['name']}:6222" in conf


@pytest.mark.parametrize("name", ALL)
def test_each_service_has_its_own_postgres_on_a_persistent_volume(name: str) -> None:
    resources = rendered(name)
    for service in SERVICES:
        db = find(resources, "StatefulSet", f"{service}-postgres")
        assert db["spec"]["replicas"] == 1
        assert db["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
        (container,) = db["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["POSTGRES_DB"]["value"] == service
        assert env["DB_APP_USER"]["value"] == f"{service}_app"
        assert env["DB_OWNER_USER"]["value"] == f"{service}_owner"
        volumes = {v["name"]: v for v in db["spec"]["template"]["spec"]["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        init = volumes[mounts["/docker-entrypoint-initdb.d"]]["configMap"]
        script = find(resources, "ConfigMap", init["name"])["data"]["10-roles.sh"]
        assert script.startswith("#!/bin/sh\n")
        assert init["defaultMode"] & 0o111, "a non-executable init script is sourced, not run"


@pytest.mark.parametrize("name", ALL)
def test_the_service_and_its_migration_job_use_different_database_credentials(name: str) -> None:
    resources = rendered(name)
    for service in SERVICES:
        variable = f"{service.upper()}_DATABASE_URL"
        _, app = app_deployment(resources, service)
        job = find(resources, "Job", f"{service}-migrate")
        (migrate,) = job["spec"]["template"]["spec"]["containers"]
        app_url = container_env(resources, app)[variable]
        migrate_url = container_env(resources, migrate)[variable]
        assert app_url.secret == f"{service}-database"
        assert migrate_url.secret == f"{service}-migrate-database"


def test_the_example_database_urls_match_the_roles_postgres_creates() -> None:
    resources = rendered("dev")
    for service in SERVICES:
        passwords = find(resources, "Secret", f"{service}-postgres")["stringData"]
        for secret, role in ((f"{service}-database", "app"),
                             (f"{service}-migrate-database", "owner")):
            url = find(resources, "Secret", secret)["stringData"]["url"]
            expected = (f"postgresql+asyncpg://{service}_{role}:{passwords[f'{role}-password']}"
                        f"@{service}-postgres:5432/{service}")
            assert url == expected
            find(resources, "Service", f"{service}-postgres")


def referenced_secrets(resources: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """(required, optional) Secret names the workloads and the Ingress refer to."""
    required: set[str] = set()
    optional: set[str] = set()
    for workload in workloads(resources):
        spec = pod_spec(workload) or {}
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                required.add(volume["secret"]["secretName"])
        for container in containers(workload):
            for value in container_env(resources, container).values():
                if value.secret:
                    (optional if value.optional else required).add(value.secret)
    return required, optional


def test_dev_has_every_required_secret_and_prod_needs_exactly_the_same_names() -> None:
    dev_required, _ = referenced_secrets(rendered("dev"))
    prod_required, _ = referenced_secrets(rendered("prod"))
    examples = {s["metadata"]["name"] for s in of_kind(rendered("dev"), "Secret")}
    assert dev_required == examples
    assert prod_required == examples
    assert not of_kind(rendered("prod"), "Secret"), "prod must not ship the example Secrets"


@pytest.mark.parametrize("name", ALL)
def test_every_configmap_a_workload_uses_exists(name: str) -> None:
    resources = rendered(name)
    for workload in workloads(resources):
        for volume in (pod_spec(workload) or {}).get("volumes", []):
            if "configMap" in volume:
                find(resources, "ConfigMap", volume["configMap"]["name"])
        for container in containers(workload):
            container_env(resources, container)  # raises on a missing ConfigMap or key


def test_identity_signs_with_the_key_mounted_from_its_secret() -> None:
    resources = rendered("dev")
    deployment, container = app_deployment(resources, "identity")
    env = container_env(resources, container)
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    (key_volume,) = [n for n, v in volumes.items() if "secret" in v]
    secret = find(resources, "Secret", volumes[key_volume]["secret"]["secretName"])
    key_file = env["IDENTITY_SIGNING_KEY_FILE"].value
    assert key_file == f"{mounts[key_volume]}/signing.pem"
    assert "BEGIN PRIVATE KEY" in secret["stringData"]["signing.pem"]
    assert env["IDENTITY_PREVIOUS_SIGNING_KEY_FILE"].value == (
        f"{mounts[key_volume]}/signing.previous.pem"
    )


ONE_ORIGIN = {
    "/": "gateway",
    "/graphql": "gateway",
    "/.well-known/openid-configuration": "identity",
    "/jwks.json": "identity",
    "/authorize": "identity",
    "/token": "identity",
    "/userinfo": "identity",
    "/revoke": "identity",
    "/logout": "identity",
    "/account": "identity",
    "/account/password": "identity",
    "/documents": "submittal",
    "/documents/42/download": "submittal",
    "/portal/app.js": "gateway",
    "/tokens": "gateway",
}


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


@pytest.mark.parametrize("name", ALL)
def test_the_ingress_routes_the_one_origin_paths_to_their_services(name: str) -> None:
    resources = rendered(name)
    (ingress,) = of_kind(resources, "Ingress")
    for path, service in ONE_ORIGIN.items():
        assert route(ingress, path) == service, path
    for rule in ingress["spec"]["rules"]:
        for p in rule["http"]["paths"]:
            backend = find(resources, "Service", p["backend"]["service"]["name"])
            names = {port["name"] for port in backend["spec"]["ports"]}
            assert p["backend"]["service"]["port"]["name"] in names


def test_each_overlay_serves_its_public_base_url_host_with_tls() -> None:
    for name in OVERLAYS:
        resources = rendered(name)
        (ingress,) = of_kind(resources, "Ingress")
        base_url = find(resources, "ConfigMap", "cers-config")["data"]["PUBLIC_BASE_URL"]
        host = base_url.removeprefix("https://")
        assert base_url.startswith("https://")
        assert [r["host"] for r in ingress["spec"]["rules"]] == [host]
        assert ingress["spec"]["tls"][0]["hosts"] == [host]


def test_overlays_put_everything_in_a_restricted_namespace() -> None:
    for name in OVERLAYS:
        resources = rendered(name)
        (namespace,) = of_kind(resources, "Namespace")
        labels = namespace["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        for resource in resources:
            if resource["kind"] != "Namespace":
                assert resource["metadata"]["namespace"] == namespace["metadata"]["name"]


def test_every_yaml_file_under_deploy_parses() -> None:
    for path in K8S.rglob("*.yaml"):
        list(yaml.load_all(path.read_text(), Loader=Loader))
    assert render(K8S / "base")


@pytest.mark.parametrize("name", ALL)
def test_uploaded_documents_live_on_a_volume_every_submittal_replica_shares(name: str) -> None:
    resources = rendered(name)
    deployment, container = app_deployment(resources, "submittal")
    data_dir = container_env(resources, container)["DATA_DIR"].value
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    volume = volumes[mounts[f"{data_dir}/documents"]]
    claim = find(resources, "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    most = find(resources, "HorizontalPodAutoscaler", "submittal")["spec"]["maxReplicas"]
    if most > 1:
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    else:
        rolling = deployment["spec"]["strategy"]["rollingUpdate"]
        assert rolling["maxSurge"] == 0, "a ReadWriteOnce volume cannot attach to a surge pod"
