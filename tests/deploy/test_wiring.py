from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.kustomize import pod_spec
from tests.deploy.manifests import (
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
    route,
    selects,
    workloads,
)

ALL = list(RENDERINGS)


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
    "/.well-known/oauth-authorization-server": "identity",
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
