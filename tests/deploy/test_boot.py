"""The whole system, booted with exactly the environment the dev overlay gives its containers.

Only what a cluster provides differently is swapped: Service DNS names become loopback ports
(the OpenTelemetry Collector a local OTLP receiver),
volume mounts become temporary directories (with the Secrets' files in them), NATS is the
test server, and the databases are fresh ones (on PostgreSQL, set up by the manifests' own
init script, with the Job migrating as the owner role and the service running as the app role).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from common.natsserver import NatsServerProcess, free_port
from tests.conftest import TEST_DATABASE_URL
from tests.deploy.manifests import (
    APPS,
    REPO,
    SERVICES,
    app_deployment,
    container_env,
    find,
    rendered,
)
from tests.deploy.postgres import Provisioned, drop, provision
from tests.otlp import OtlpReceiver

ORDER = ("identity", "facility", "submittal", "gateway")


@dataclass
class Databases:
    app: dict[str, str]
    owner: dict[str, str]


@pytest.fixture
async def databases(database_kind: str, tmp_path: Path) -> AsyncIterator[Databases]:
    if database_kind == "sqlite":
        urls = {s: f"sqlite+aiosqlite:///{tmp_path / f'{s}.db'}" for s in SERVICES}
        yield Databases(app=urls, owner=urls)
        return
    created: list[Provisioned] = []
    try:
        for service in SERVICES:
            created.append(await provision(service))
        yield Databases(
            app={p.service: p.url(p.app) for p in created},
            owner={p.service: p.url(p.owner) for p in created},
        )
    finally:
        for setup in created:
            await drop(setup)


class Cluster:
    """Turns a container's manifest environment into a loopback process environment."""

    def __init__(self, tmp: Path, nats_url: str, databases: Databases, otlp_url: str) -> None:
        self.resources = rendered("dev")
        self.tmp = tmp
        self.ports = {role: free_port() for role in APPS}
        self.ops_ports = {role: free_port() for role in APPS}
        self.databases = databases
        self.rename = {f"http://{r}:{p}": f"http://127.0.0.1:{self.ports[r]}"
                       for r, p in (("identity", 8001), ("facility", 8002), ("submittal", 8003),
                                    ("gateway", 8000))}
        self.rename["nats://nats:4222"] = nats_url
        self.rename["http://otel-collector:4318"] = otlp_url

    def _mount(
        self, pod: str, workload: dict[str, Any], container: dict[str, Any]
    ) -> dict[str, str]:
        """Each mount becomes a directory of this pod's own, holding any Secret's files."""
        volumes = {v["name"]: v for v in workload["spec"]["template"]["spec"].get("volumes", [])}
        paths = {}
        for mount in container.get("volumeMounts", []):
            local = self.tmp / pod / mount["mountPath"].strip("/").replace("/", "_")
            local.mkdir(parents=True, exist_ok=True)
            volume = volumes[mount["name"]]
            if "secret" in volume:
                secret = find(self.resources, "Secret", volume["secret"]["secretName"])
                for key, value in secret.get("stringData", {}).items():
                    (local / key).write_text(value)
            paths[mount["mountPath"]] = str(local)
        return paths

    def environment(self, pod: str, workload: dict[str, Any], container: dict[str, Any],
                    database: str | None) -> dict[str, str]:
        # As in the image: the virtualenv's python comes first on PATH.
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        env = {"PATH": path, "HOME": str(self.tmp), "PYTHONDONTWRITEBYTECODE": "1"}
        renames = {**self.rename, **self._mount(pod, workload, container)}
        for name, source in container_env(self.resources, container).items():
            if source.secret:
                secrets = [s for s in self.resources if s["kind"] == "Secret"
                           and s["metadata"]["name"] == source.secret]
                if not secrets and source.optional:
                    continue
                value = secrets[0]["stringData"][source.key]
            else:
                value = source.value or ""
            for old, new in renames.items():
                value = value.replace(old, new)
            env[name] = value
        env.update({f"{role.upper()}_PORT": str(port) for role, port in self.ports.items()})
        env.update({f"{role.upper()}_OPS_PORT": str(port)
                    for role, port in self.ops_ports.items()})
        env["BIND_HOST"] = "127.0.0.1"
        for service in SERVICES:
            env.pop(f"{service.upper()}_DATABASE_URL", None)
        if database:
            env[f"{pod.split('-')[0].upper()}_DATABASE_URL"] = database
        return env


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float) -> httpx.Response:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode} before {url} answered")
        try:
            response = httpx.get(url, timeout=2.0)
            if response.status_code == 200:
                return response
            last = f"{response.status_code} {response.text[:500]}"
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.25)
    raise AssertionError(f"{url} did not answer 200 within {timeout}s: {last!r}")


def logs(tmp: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(tmp.glob("*.log")))


# Booting everything is the slowest test here: once, on the production-like database when
# there is one (CI), else on SQLite.
@pytest.mark.parametrize("database_kind", ["postgres" if TEST_DATABASE_URL else "sqlite"])
def test_the_system_boots_with_the_manifest_environment(
    private_nats_server: NatsServerProcess, databases: Databases, tmp_path: Path
) -> None:
    with OtlpReceiver().running() as receiver:
        boot(Cluster(tmp_path, private_nats_server.url, databases, receiver.url), tmp_path,
             receiver)


def boot(cluster: Cluster, tmp_path: Path, receiver: OtlpReceiver) -> None:
    databases = cluster.databases
    for service in SERVICES:
        job = find(cluster.resources, "Job", f"{service}-migrate")
        (container,) = job["spec"]["template"]["spec"]["containers"]
        env = cluster.environment(f"{service}-migrate", job, container,
                                  databases.owner[service])
        result = subprocess.run(container["command"], cwd=REPO, env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, f"{service} migrate: {result.stderr[-3000:]}"

    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for role in ORDER:
            deployment, container = app_deployment(cluster.resources, role)
            env = cluster.environment(role, deployment, container, databases.app.get(role))
            with open(tmp_path / f"{role}.log", "wb") as log:
                processes[role] = subprocess.Popen(
                    container["command"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
                )
        for role in ORDER:
            base = f"http://127.0.0.1:{cluster.ports[role]}"
            ops = f"http://127.0.0.1:{cluster.ops_ports[role]}"
            try:
                wait_for(f"{base}/healthz", processes[role], 120)
                ready = wait_for(f"{ops}/readyz", processes[role], 60)
                assert httpx.get(f"{base}/readyz", timeout=5).status_code != 200
            except AssertionError as exc:
                raise AssertionError(f"{role}: {exc}\n{logs(tmp_path)}") from exc
            assert ready.json()["status"] == "ready"
        answer = httpx.post(f"http://127.0.0.1:{cluster.ports['gateway']}/graphql",
                            json={"query": "{ __typename }"}, timeout=10)
        assert answer.json() == {"data": {"__typename": "Query"}}, logs(tmp_path)
        # Traced as the manifests say: to the Collector's address, every trace in dev.
        receiver.wait_for(lambda spans: any(
            s.service == "gateway" and s.name == "query" for s in spans))
    finally:
        for process in processes.values():
            process.terminate()
        codes = {role: p.wait(timeout=30) for role, p in processes.items()}
    # Kubernetes stops pods with SIGTERM: each role must shut down cleanly on it. (uvicorn
    # finishes its graceful shutdown, then re-raises the signal, hence -SIGTERM.)
    for role, code in codes.items():
        output = (tmp_path / f"{role}.log").read_text()
        assert code in (0, -signal.SIGTERM) and "Application shutdown complete" in output, (
            f"{role} exited with {code}\n{logs(tmp_path)}"
        )
