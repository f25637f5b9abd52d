"""`make run`: the whole system on its embedded defaults, in the foreground.

Starts the bundled nats-server (unless NATS_URL is set), the three services and the gateway,
waits until each answers its health check, prints where everything is, and stops it all on
Ctrl-C. A process that dies is restarted with backoff (scripts/supervisor.py). Data stays
under DATA_DIR, so the next run picks up where this one left off.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import signal
import subprocess
import sys
import time

import httpx

from common.natsserver import NatsServerProcess, port_open
from common.settings import load_settings
from scripts.portal import build_portal
from scripts.supervisor import Supervisor

PROCESSES = ("identity", "facility", "submittal", "gateway")


def _module(name: str) -> str:
    return "gateway" if name == "gateway" else f"services.{name}"


def _available(name: str) -> bool:
    return importlib.util.find_spec(f"{_module(name)}.__main__") is not None


def _spawn(module: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", module], env=env)


def _wait_healthy(name: str, url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"{name} exited with code {proc.returncode} while starting; see its log above"
            )
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{name} did not answer {url}/healthz within {timeout:.0f}s")


def _print_banner(
    settings_urls: dict[str, str], ops_urls: dict[str, str], public: str, nats_url: str
) -> None:
    print("\n  CERS is running (Ctrl-C stops everything)\n", flush=True)
    print(f"  Portal:       {public}/   (Business Portal and Regulator Portal, when built)")
    print(f"  GraphQL API:  {public}/graphql   (GraphiQL: open it in a browser)")
    print(f"  OpenID Connect: {public}/.well-known/openid-configuration")
    for name, url in settings_urls.items():
        print(f"  {name:<10} {url}   (operators: {ops_urls[name]}/readyz, /metrics)")
    print(f"  NATS       {nats_url}")
    demo = _demo_accounts()
    if demo:
        print("\n  Demo accounts (DEMO=0 skips the demo data):")
        for line in demo:
            print(f"    {line}")
        print("    state     client state-demo / state-demo-secret (client_credentials, "
              "scope statewide:read)")
    print(flush=True)


def _demo_accounts() -> list[str]:
    settings = load_settings()
    if not settings.seed_demo or importlib.util.find_spec("services.identity.demo") is None:
        return []
    from services.identity import demo  # the runner may know every service; services never do

    return list(demo.describe_demo_accounts())


def main() -> int:
    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        print(build_portal(), flush=True)
    except subprocess.CalledProcessError as exc:
        print(f"run: building the portal failed ({exc}); serving the API only", file=sys.stderr)

    env = dict(os.environ, DATA_DIR=str(settings.data_dir))
    # The committed supergraph names the default ports; the gateway sends a subgraph elsewhere
    # only when IDENTITY_URL, FACILITY_URL or SUBMITTAL_URL is set, so the embedded run sets
    # them to the ports it actually uses.
    for service, url in settings.service_urls.items():
        env.setdefault(f"{service.upper()}_URL", url)
    nats: NatsServerProcess | None = None
    if not os.environ.get("NATS_URL"):
        port = settings.embedded_nats_port
        if port_open("127.0.0.1", port):
            print(
                f"run: port {port} for the bundled nats-server is taken (another `make run`?). "
                "Stop it, set EMBEDDED_NATS_PORT to a free port, or set NATS_URL to use a NATS "
                "server you already run.",
                file=sys.stderr,
            )
            return 1
        nats = NatsServerProcess(
            settings.data_dir / "nats", port, log_file=settings.data_dir / "nats.log"
        )
        nats.start()
        env["NATS_URL"] = nats.url
    nats_url = env.get("NATS_URL", settings.nats_url)

    supervisor = Supervisor()
    urls: dict[str, str] = {}
    ops_urls: dict[str, str] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        # The services start side by side; the gateway comes last, once they answer.
        for group in (PROCESSES[:-1], PROCESSES[-1:]):
            started = []
            for name in group:
                if not _available(name):
                    print(f"run: {name} is not built yet; skipping it", file=sys.stderr)
                    continue
                port = settings.port(name)
                if port_open(settings.bind_host, port):
                    raise RuntimeError(f"port {port} for {name} is taken; set {name.upper()}_PORT")
                ops_port = settings.ops_port(name)
                if port_open(settings.bind_host, ops_port):
                    raise RuntimeError(f"port {ops_port} for {name}'s operations is taken; set "
                                       f"{name.upper()}_OPS_PORT")
                supervisor.add(name, functools.partial(_spawn, _module(name), env))
                urls[name] = f"http://{settings.bind_host}:{port}"
                ops_urls[name] = f"http://{settings.bind_host}:{ops_port}"
                started.append(name)
            for name in started:
                _wait_healthy(name, urls[name], supervisor.children[name].proc, timeout=120)
        _print_banner(urls, ops_urls, settings.public_base_url, nats_url)
        while not stopping:
            supervisor.check()
            time.sleep(0.25)
        return 0
    except RuntimeError as exc:
        print(f"run: {exc}", file=sys.stderr)
        return 1
    finally:
        supervisor.stop()
        if nats:
            nats.stop()
        print("run: stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
