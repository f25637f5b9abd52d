"""The real processes of the system, each its own OS process that a test can stop or kill.

Like `make run` with SQLite, but the nats-server and every service are started here one by
one, so a chaos test can SIGSTOP, SIGKILL and restart any of them on the same data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx

from common.natsserver import NatsServerProcess, free_port
from tests.e2e.system import ROOT

SERVICES = ("identity", "facility", "submittal")
PROCESSES = (*SERVICES, "gateway")


class ChaosCluster:
    def __init__(self, data_dir: Path, *, extra_env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.logs = data_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.nats = NatsServerProcess(data_dir / "nats", log_file=self.logs / "nats.log")
        self.ports = {name: free_port() for name in PROCESSES}
        # Operations ports too: the defaults (8100-8103) may be anyone's on a shared machine.
        self.ops_ports = {name: free_port() for name in PROCESSES}
        self.base_url = f"http://127.0.0.1:{self.ports['gateway']}"
        self.env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "PUBLIC_BASE_URL": self.base_url,
            "NATS_URL": self.nats.url,
            "DEMO": "1",
            "LOG_LEVEL": "WARNING",
            "OUTBOX_POLL_SECONDS": "0.05",
            # Every account signs in from 127.0.0.1, many times.
            "IDENTITY_ADDRESS_ATTEMPTS_PER_MINUTE": "100000",
            # Cheap password hashes: the test registers accounts, it does not measure argon2.
            "IDENTITY_ARGON2_MEMORY_KIB": "8192",
            "IDENTITY_ARGON2_TIME_COST": "1",
            **{f"{name.upper()}_PORT": str(port) for name, port in self.ports.items()},
            **{f"{name.upper()}_OPS_PORT": str(port) for name, port in self.ops_ports.items()},
            **(extra_env or {}),
        }
        self.env.pop("JWKS_URL", None)
        # As `make run` does: the gateway reaches each service on its port of this run, not at
        # the supergraph's committed url (the default ports, perhaps another system's).
        for name in SERVICES:
            self.env[f"{name.upper()}_URL"] = self.url(name)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._log_files: list[IO[bytes]] = []
        self.restarts: dict[str, int] = {name: 0 for name in ("nats", *PROCESSES)}

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self) -> None:
        self.nats.start()
        for name in SERVICES:
            self.start_process(name, wait=False)
        for name in SERVICES:
            self.wait_healthy(name)
        self.start_process("gateway")

    def start_process(self, name: str, *, wait: bool = True) -> None:
        module = "gateway" if name == "gateway" else f"services.{name}"
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._log_files.append(log)
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", module], cwd=ROOT, env=self.env, stdout=log,
            stderr=subprocess.STDOUT,
        )
        if wait:
            self.wait_healthy(name)

    def wait_healthy(self, name: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")
            try:
                if httpx.get(f"{self.url(name)}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not become healthy:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def signal(self, name: str, sig: signal.Signals) -> None:
        self.procs[name].send_signal(sig)

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        proc.send_signal(signal.SIGCONT)  # a stopped process still dies; this makes it prompt
        proc.kill()
        proc.wait()

    def restart(self, name: str) -> None:
        self.kill(name)
        self.restarts[name] += 1
        self.start_process(name)

    def kill_nats(self) -> None:
        assert self.nats.process is not None
        self.nats.process.kill()
        self.nats.process.wait()
        self.nats.process = None

    def restart_nats(self) -> None:
        self.restarts["nats"] += 1
        self.nats.start()

    def graphql(self, query: str, variables: dict[str, Any] | None = None,
                token: str | None = None, timeout: float = 30) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(f"{self.base_url}/graphql", json={
            "query": query, "variables": variables or {}}, headers=headers, timeout=timeout)
        try:
            return dict(response.json())
        except ValueError:
            return {"errors": [{"message": response.text[:200],
                                "extensions": {"code": f"HTTP_{response.status_code}"}}]}

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.nats.stop()
        for log in self._log_files:
            log.close()
