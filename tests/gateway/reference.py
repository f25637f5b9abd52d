"""Node gateways (@apollo/gateway, Hive Gateway) started over a supergraph with real URLs."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from common.natsserver import free_port

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "gateway" / "node"


def node_available() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def ensure_node_modules() -> None:
    needed = ("@apollo/gateway", "@graphql-hive/gateway-runtime", "@graphql-hive/gateway")
    if not all((NODE_DIR / "node_modules" / name).exists() for name in needed):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True,
                       capture_output=True, timeout=900)


def has_errors(body: dict[str, Any]) -> bool:
    """Whether a response reports errors.

    @apollo/gateway departs from the spec here: a non-null field that comes back null is
    reported under ``extensions.valueCompletion`` instead of ``errors`` (GraphQL spec,
    "Handling Field Errors", requires a field error in ``errors``). Our gateway follows the
    spec, so such reports count as errors when comparing.
    """
    return bool(body.get("errors")) or bool((body.get("extensions") or {}).get("valueCompletion"))


def with_urls(sdl: str, urls: dict[str, str]) -> str:
    """The supergraph with each join__graph url replaced by the running subgraph's."""

    def swap(match: re.Match[str]) -> str:
        name = match.group(1)
        url = urls.get(name)
        if url is None:
            return match.group(0)
        return f'@join__graph(name: "{name}", url: "{url}")'

    return re.sub(r'@join__graph\(name: "([^"]+)", url: "[^"]*"\)', swap, sdl)


class NodeGateway:
    """One node process; ``apollo`` and ``hive-runtime`` may serve several supergraphs
    (``extra``), each on its own port (``urls``), which saves a node start per supergraph."""

    def __init__(self, kind: str, supergraph: Path, extra: tuple[Path, ...] = ()) -> None:
        self.kind = kind
        self.supergraph = supergraph
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.urls = {supergraph: self.url}
        for path in extra:
            self.urls[path] = f"http://127.0.0.1:{free_port()}"
        self.process: subprocess.Popen[str] | None = None

    def command(self) -> list[str]:
        pairs = [str(x) for path, url in self.urls.items() for x in (path, url.rsplit(":", 1)[1])]
        if self.kind == "apollo":
            return ["node", str(NODE_DIR / "reference-gateway.mjs"), *pairs]
        if self.kind == "hive-runtime":
            return ["node", str(NODE_DIR / "hive-gateway.mjs"), *pairs]
        # The Hive Gateway command line, as operators run it (the benchmark's competitor).
        return [str(NODE_DIR / "node_modules" / ".bin" / "hive-gateway"), "supergraph",
                str(self.supergraph), "--port", str(self.port), "--host", "127.0.0.1"]

    def start(self, timeout: float = 60) -> NodeGateway:
        ensure_node_modules()
        self.log = self.supergraph.with_suffix(f".{self.kind}.log")
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=NODE_DIR, stdout=log, stderr=subprocess.STDOUT, text=True,
            )
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                out = self.log.read_text()
                raise RuntimeError(f"{self.kind} gateway exited:\n{out[-3000:]}")
            try:
                if all(
                    httpx.post(url + "/graphql", json={"query": "{ __typename }"},
                               timeout=2).status_code == 200
                    for url in self.urls.values()
                ):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.kind} gateway did not start within {timeout}s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
