"""The OpenTelemetry Collector in the base: its pipeline is complete, and the ports its config,
container, Service, probes, network policies and the processes' endpoint use are the same."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy.manifests import APPS, RENDERINGS, app_deployment, container_env, find, rendered


def collector(name: str) -> tuple[dict, dict, dict]:
    resources = rendered(name)
    config = yaml.safe_load(find(resources, "ConfigMap", "otel-collector-config")["data"][
        "config.yaml"])
    deployment = find(resources, "Deployment", "otel-collector")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return config, deployment, container


@pytest.mark.parametrize("name", list(RENDERINGS))
def test_the_trace_pipeline_uses_only_components_the_config_defines(name: str) -> None:
    config, _, _ = collector(name)
    pipeline = config["service"]["pipelines"]["traces"]
    for kind in ("receivers", "processors", "exporters"):
        assert pipeline[kind] and set(pipeline[kind]) <= set(config[kind]), kind
    # Refuse before running out of memory, then batch.
    assert pipeline["processors"] == ["memory_limiter", "batch"]
    assert set(config["service"]["extensions"]) <= set(config["extensions"])


@pytest.mark.parametrize("name", list(RENDERINGS))
def test_every_process_sends_its_spans_to_the_collectors_otlp_http_port(name: str) -> None:
    resources = rendered(name)
    config, deployment, container = collector(name)
    receiver = config["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    port = int(receiver.rpartition(":")[2])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["otlp-http"] == port
    service = find(resources, "Service", "otel-collector")
    (service_port,) = service["spec"]["ports"]
    assert service_port["port"] == port and service_port["targetPort"] == "otlp-http"
    for app in APPS:
        _, app_container = app_deployment(resources, app)
        endpoint = container_env(resources, app_container)["OTEL_EXPORTER_OTLP_ENDPOINT"].value
        url = urlsplit(endpoint)
        assert (url.hostname, url.port) == ("otel-collector", port), app


@pytest.mark.parametrize("name", list(RENDERINGS))
def test_the_collectors_probes_and_metrics_ports_are_the_ones_it_serves(name: str) -> None:
    config, deployment, container = collector(name)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    health = int(config["extensions"]["health_check"]["endpoint"].rpartition(":")[2])
    assert ports["health"] == health
    assert container["livenessProbe"]["httpGet"]["port"] == "health"
    assert container["readinessProbe"]["httpGet"]["port"] == "health"
    (reader,) = config["service"]["telemetry"]["metrics"]["readers"]
    metrics = reader["pull"]["exporter"]["prometheus"]["port"]
    assert ports["metrics"] == metrics
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(metrics)
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert f"--config={mounts['config']}/config.yaml" in container["args"]
