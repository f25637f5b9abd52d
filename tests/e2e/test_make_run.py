from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx

from common.natsserver import port_open
from tests.e2e.system import RunningSystem, eventually

PROCESSES = ("gateway", "identity", "facility", "submittal")


def _ready(system: RunningSystem, name: str) -> dict | None:
    try:
        response = httpx.get(f"{system.ops_url(name)}/readyz", timeout=5)
    except httpx.TransportError:
        return None  # not listening (yet, or again)
    return response.json() if response.status_code == 200 else None


def test_make_run_starts_bundled_nats_and_every_process_then_stops_cleanly(tmp_path: Path) -> None:
    system = RunningSystem(tmp_path / "var", nats_url=None, demo=False)
    system.start()
    try:
        for name in PROCESSES:
            assert httpx.get(f"{system.url(name)}/healthz", timeout=5).status_code == 200
            eventually(lambda name=name: _ready(system, name), timeout=30)
        assert (tmp_path / "var" / "nats" / "jetstream").is_dir()
        banner = "".join(system.output)
        assert system.base_url in banner
    finally:
        assert system.stop() == 0
    assert not port_open("127.0.0.1", system.nats_port)
    for name in PROCESSES:
        assert not port_open("127.0.0.1", system.ports[name])
        assert not port_open("127.0.0.1", system.ops_ports[name])


def test_a_second_run_reuses_the_data_of_the_first(tmp_path: Path, private_nats_server) -> None:
    data_dir = tmp_path / "var"
    first = RunningSystem(data_dir, nats_url=private_nats_server.url, demo=False)
    first.start()
    try:
        registered = first.graphql(
            """mutation($input: RegisterAccountInput!) {
                 registerAccount(input: $input) { userErrors { code } }
               }""",
            {"input": {"portal": "BUSINESS", "username": "kept.user", "email": "kept@example.com",
                       "password": "a-long-passphrase-for-tests", "firstName": "Kept",
                       "lastName": "User", "title": "Owner", "phone": "530-555-0100"}},
        )
        assert registered["data"]["registerAccount"]["userErrors"] == [], registered
    finally:
        assert first.stop() == 0

    second = RunningSystem(data_dir, nats_url=private_nats_server.url, demo=False)
    second.start()
    try:
        again = second.graphql(
            """mutation($input: RegisterAccountInput!) {
                 registerAccount(input: $input) { userErrors { field code } }
               }""",
            {"input": {"portal": "BUSINESS", "username": "kept.user", "email": "other@example.com",
                       "password": "a-long-passphrase-for-tests", "firstName": "Kept",
                       "lastName": "User", "title": "Owner", "phone": "530-555-0100"}},
        )
        codes = [e["code"] for e in again["data"]["registerAccount"]["userErrors"]]
        assert codes, "the username registered in the first run should still be taken"
    finally:
        assert second.stop() == 0


def test_a_service_that_dies_is_restarted_and_the_system_answers_again(
    tmp_path: Path, private_nats_server
) -> None:
    system = RunningSystem(tmp_path / "var", nats_url=private_nats_server.url, demo=False)
    system.start()
    try:
        os.kill(system.child_pid("facility"), signal.SIGKILL)
        eventually(lambda: "facility restarted" in "".join(system.output), timeout=30)
        assert "facility exited with code -9; restarting it in 1s" in "".join(system.output)
        eventually(lambda: _ready(system, "facility"), timeout=60)
        answer = system.graphql("{ regulatorAgencies(county: \"Plumas\") { name } }")
        assert "errors" not in answer, answer
    finally:
        assert system.stop() == 0
