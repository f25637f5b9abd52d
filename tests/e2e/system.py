"""The real system, started the way `make run` starts it, on free ports with SQLite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from common.natsserver import free_port

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


class RunningSystem:
    def __init__(self, data_dir: Path, nats_url: str | None, demo: bool = True) -> None:
        self.data_dir = data_dir
        names = ("gateway", "identity", "facility", "submittal")
        self.ports = {name: free_port() for name in names}
        self.ops_ports = {name: free_port() for name in names}
        self.base_url = f"http://127.0.0.1:{self.ports['gateway']}"
        self.env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "PUBLIC_BASE_URL": self.base_url,
            "DEMO": "1" if demo else "0",
            "LOG_LEVEL": "WARNING",
            "OUTBOX_POLL_SECONDS": "0.05",
            **{f"{name.upper()}_PORT": str(port) for name, port in self.ports.items()},
            **{f"{name.upper()}_OPS_PORT": str(port) for name, port in self.ops_ports.items()},
        }
        self.env.pop("JWKS_URL", None)
        # As `make run` sets them: a process a test starts beside it finds the services too.
        for name in ("identity", "facility", "submittal"):
            self.env[f"{name.upper()}_URL"] = self.url(name)
        if nats_url:
            self.env["NATS_URL"] = nats_url
        else:
            # The bundled nats-server, on a port of its own: runs never collide.
            self.env.pop("NATS_URL", None)
            self.nats_port = free_port()
            self.env["EMBEDDED_NATS_PORT"] = str(self.nats_port)
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self._draining = True

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def ops_url(self, name: str) -> str:
        """The process's internal operations port: /readyz, /metrics (and the gateway's
        /graphql/plan)."""
        return f"http://127.0.0.1:{self.ops_ports[name]}"

    def start(self, timeout: float = 180.0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scripts.run"], cwd=ROOT, env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        # Drain the output for the whole run: a full pipe would block every process.
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._banner_printed():
                return
            if self.process.poll() is not None and not self._draining:
                raise RuntimeError("make run exited early:\n" + "".join(self.output[-60:]))
            time.sleep(0.1)
        raise RuntimeError("make run did not come up in time:\n" + "".join(self.output[-60:]))

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
        self._draining = False

    def _banner_printed(self) -> bool:
        # The banner ends its list of URLs with the NATS line.
        lines = list(self.output)
        started = [i for i, line in enumerate(lines) if "CERS is running" in line]
        return bool(started) and any(
            line.strip().startswith("NATS") for line in lines[started[0]:]
        )

    def banner(self) -> str:
        """What `make run` printed from its "CERS is running" line on."""
        text = "".join(self.output)
        return text[text.find("CERS is running"):]

    def stop(self) -> int:
        if not self.process:
            return 0
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.process = None
        return code

    def child_pid(self, name: str) -> int:
        """The pid of a process `make run` started (``services.<name>`` or the gateway)."""
        assert self.process is not None
        module = "gateway" if name == "gateway" else f"services.{name}"
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.process.pid and module.encode() in command:
                return int(entry.name)
        raise AssertionError(f"no {name} process under make run (pid {self.process.pid})")

    def graphql(self, query: str, variables: dict[str, Any] | None = None,
                token: str | None = None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(
            f"{self.base_url}/graphql", json={"query": query, "variables": variables or {}},
            headers=headers, timeout=30,
        )
        return dict(response.json())


def eventually(probe: Callable[[], T | None], timeout: float = 15.0, interval: float = 0.1) -> T:
    """Bounded polling for eventual consistency; never a fixed sleep."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")
