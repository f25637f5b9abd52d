from __future__ import annotations

import pytest

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
