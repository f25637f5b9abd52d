from __future__ import annotations

import pytest

from common.settings import load_settings
from gateway.app import subgraph_urls
from gateway.config import GATEWAY_ENV_VARS, load_gateway_config


def test_gateway_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_MAX_DEPTH", "7")
    monkeypatch.setenv("GATEWAY_FORWARD_HEADERS", "X-Tenant, traceparent")
    monkeypatch.setenv("GATEWAY_TIMEOUT_SUBMITTAL", "30")
    monkeypatch.setenv("GATEWAY_SUBGRAPH_TIMEOUT_SECONDS", "4")
    config = load_gateway_config()
    assert config.max_depth == 7
    assert config.forward_headers == {"x-tenant", "traceparent"}
    assert config.subgraph_timeouts == {"submittal": 30.0}
    assert config.subgraph_timeout == 4.0
    assert config.introspection is True


def test_production_switches_introspection_off_unless_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_gateway_config(production=True).introspection is False
    monkeypatch.setenv("GATEWAY_INTROSPECTION", "1")
    assert load_gateway_config(production=True).introspection is True


def test_every_gateway_variable_has_a_default_and_a_meaning() -> None:
    assert all(meaning for _, meaning in GATEWAY_ENV_VARS.values())
    assert all(name.startswith("GATEWAY_") for name in GATEWAY_ENV_VARS)


SUPERGRAPH_URLS = {
    "identity": "http://identity.internal:4200/people",
    "facility": "http://facility.internal/graphql",
    "products": "http://shop.example:4001/products/v2",
}


class _Graphs:
    graph_urls = SUPERGRAPH_URLS


def _without_service_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IDENTITY_URL", "FACILITY_URL", "SUBMITTAL_URL"):
        monkeypatch.delenv(name, raising=False)


def test_subgraph_urls_are_the_supergraphs_exactly_when_no_service_url_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _without_service_urls(monkeypatch)
    settings = load_settings()
    # The defaults still serve the proxy and the JWKS url ...
    assert settings.service_urls["identity"].startswith("http://127.0.0.1:")
    # ... but never replace a subgraph's url, and no url gets /graphql appended.
    assert subgraph_urls(_Graphs(), settings) == SUPERGRAPH_URLS  # type: ignore[arg-type]


def test_an_explicit_service_url_overrides_only_its_own_subgraph(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _without_service_urls(monkeypatch)
    monkeypatch.setenv("IDENTITY_URL", "http://identity:8001/")
    urls = subgraph_urls(_Graphs(), load_settings())  # type: ignore[arg-type]
    assert urls == {**SUPERGRAPH_URLS, "identity": "http://identity:8001/graphql"}
