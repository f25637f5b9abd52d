"""Invalid configuration stops a process at start, naming every variable at fault."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from common.settings import ENV_VARS, SettingsError, load_settings
from gateway.config import load_gateway_config

ROOT = Path(__file__).resolve().parents[2]


def test_the_embedded_defaults_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.event_apply_timeout_seconds == 30.0
    assert settings.log_level == "INFO"


def test_every_invalid_variable_is_named_in_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_APPLY_TIMEOUT_SECONDS", "0")
    monkeypatch.setenv("FACILITY_PORT", "80o2")
    monkeypatch.setenv("AUTO_MIGRATE", "ture")
    monkeypatch.setenv("ENVIRONMENT", "prod")
    monkeypatch.setenv("MAX_DELIVERIES", "0")
    monkeypatch.setenv("OUTBOX_POLL_SECONDS", "nan")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    message = str(refused.value)
    for fault in ("EVENT_APPLY_TIMEOUT_SECONDS='0' must be a number greater than 0",
                  "FACILITY_PORT='80o2' must be a whole number",
                  "AUTO_MIGRATE='ture' must be one of",
                  "ENVIRONMENT='prod' must be one of embedded, production",
                  "MAX_DELIVERIES='0' must be a whole number of at least 1",
                  "OUTBOX_POLL_SECONDS='nan' must be a number greater than 0"):
        assert fault in message


def test_log_level_is_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "warning")
    assert load_settings().log_level == "WARNING"
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(SettingsError, match="LOG_LEVEL='CHATTY'"):
        load_settings()


def test_gateway_limits_and_per_subgraph_timeouts_are_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_MAX_DEPTH", "0")
    monkeypatch.setenv("GATEWAY_TIMEOUT_SUBMITTAL", "-1")
    monkeypatch.setenv("GATEWAY_INTROSPECTION", "maybe")
    with pytest.raises(SettingsError) as refused:
        load_gateway_config()
    message = str(refused.value)
    assert "GATEWAY_MAX_DEPTH='0' must be a whole number of at least 1" in message
    assert "GATEWAY_TIMEOUT_SUBMITTAL='-1' must be a number greater than 0" in message
    assert "GATEWAY_INTROSPECTION='maybe'" in message
    # 0 is this limit's documented "no limit", not an error.
    for name in ("GATEWAY_MAX_DEPTH", "GATEWAY_TIMEOUT_SUBMITTAL", "GATEWAY_INTROSPECTION"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("GATEWAY_MAX_LIVE_CONNECTIONS_PER_ADDRESS", "0")
    assert load_gateway_config().max_live_connections_per_address == 0


def test_identity_refuses_an_argon2_cost_argon2_cannot_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.identity.config import IdentityConfig

    monkeypatch.setenv("IDENTITY_ARGON2_TIME_COST", "0")
    monkeypatch.setenv("IDENTITY_TRUSTED_PROXY_HOPS", "-1")
    with pytest.raises(SettingsError) as refused:
        IdentityConfig.from_env(load_settings())
    assert "IDENTITY_ARGON2_TIME_COST='0'" in str(refused.value)
    assert "IDENTITY_TRUSTED_PROXY_HOPS='-1'" in str(refused.value)


def test_a_service_with_an_invalid_setting_does_not_start(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "EVENT_APPLY_TIMEOUT_SECONDS": "0"}
    started = subprocess.run(
        [sys.executable, "-m", "services.facility"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )
    assert started.returncode != 0
    assert "EVENT_APPLY_TIMEOUT_SECONDS='0' must be a number greater than 0" in started.stderr
    # It stopped before touching anything: no database was created.
    assert not list(tmp_path.iterdir())
