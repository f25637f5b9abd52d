"""The Ingress, the services' own routes and the gateway's embedded proxy agree on who serves
which public path (DESIGN §4), checked against the apps' real route tables."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from starlette.applications import Starlette

from tests.deploy.manifests import of_kind, rendered, route

INTERNAL = {"/healthz", "/readyz", "/metrics"}


@pytest.fixture
def apps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Starlette]:
    # The embedded environment: the gateway mounts its one-origin proxy only there.
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ENVIRONMENT", "embedded")
    return {
        "identity": importlib.import_module("services.identity.app").create_app(),
        "facility": importlib.import_module("services.facility.app").create_app(),
        "submittal": importlib.import_module("services.submittal.app").create_app(),
        "gateway": importlib.import_module("gateway.app").create_app(),
    }


def public_paths(app: Starlette) -> set[str]:
    return {str(getattr(r, "path", "")) for r in app.routes} - INTERNAL - {""}


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "example", path)


def test_every_public_path_a_service_serves_reaches_it_through_the_ingress(
    apps: dict[str, Starlette],
) -> None:
    for name in ("prod", "dev"):
        (ingress,) = of_kind(rendered(name), "Ingress")
        for service in ("identity", "submittal"):
            paths = public_paths(apps[service]) - {"/graphql"}
            assert paths, service
            for path in paths:
                assert route(ingress, concrete(path)) == service, (name, service, path)
        # A subgraph's own /graphql is for the gateway only; clients get the supergraph.
        assert route(ingress, "/graphql") == "gateway"
        assert public_paths(apps["facility"]) == {"/graphql"}


def test_the_ingress_and_the_gateways_embedded_proxy_route_the_same_paths(
    apps: dict[str, Starlette],
) -> None:
    proxied = {p.removesuffix("/{rest:path}") for p in public_paths(apps["gateway"])
               if not p.startswith("/graphql")}
    (ingress,) = of_kind(rendered("prod"), "Ingress")
    elsewhere = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]
                 if p["backend"]["service"]["name"] != "gateway"}
    assert proxied == elsewhere
