from __future__ import annotations

import pytest

from tests.deploy.kustomize import load_yaml_documents, pod_spec
from tests.deploy.manifests import (
    APPS,
    OVERLAYS,
    RENDERINGS,
    SERVICES,
    app_deployment,
    container_env,
    containers,
    find,
    of_kind,
    pod_labels,
    rendered,
    selects,
    workloads,
)

ALL = list(RENDERINGS)


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
        # Readiness is on the internal operations port, which no Service exposes.
        assert container["readinessProbe"]["httpGet"]["port"] == "ops"
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["ops"] == ports["http"] + 100


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
