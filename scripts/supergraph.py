"""``make supergraph``: export each service's SDL, then compose gateway/supergraph.graphql.

Composition uses @theguild/federation-composition from gateway/node/ (installed with
``npm ci`` when node_modules is missing). ``--check`` writes nothing to the supergraph and
exits 1 when a committed SDL file or the supergraph is stale.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from common.settings import ENV_VARS, SERVICES

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "gateway" / "node"
SUPERGRAPH = ROOT / "gateway" / "supergraph.graphql"
DEFAULT_PORTS = {s: ENV_VARS[f"{s.upper()}_PORT"][0] for s in SERVICES}


def subgraph_url(service: str) -> str:
    # Fixed embedded defaults keep the committed file deterministic; the gateway replaces one
    # only when IDENTITY_URL, FACILITY_URL or SUBMITTAL_URL is set (make run and the cluster
    # set them).
    return f"http://127.0.0.1:{DEFAULT_PORTS[service]}/graphql"


def export_sdl(service: str) -> str | None:
    """Runs ``python -m services.<name> schema``; answers the SDL, or None when absent."""
    package = ROOT / "services" / service
    if not (package / "__main__.py").exists():
        print(f"skipping {service}: services/{service}/__main__.py does not exist yet",
              file=sys.stderr)
        return None
    result = subprocess.run(
        [sys.executable, "-m", f"services.{service}", "schema"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=300,
    )
    sdl_file = package / "schema.graphql"
    if result.returncode != 0 or not sdl_file.exists():
        print(f"skipping {service}: `python -m services.{service} schema` failed:\n"
              f"{result.stderr.strip()[-2000:]}", file=sys.stderr)
        return None
    return sdl_file.read_text()


def ensure_node_modules() -> None:
    if (NODE_DIR / "node_modules" / "@theguild" / "federation-composition").exists():
        return
    if shutil.which("npm") is None:
        raise SystemExit("npm is not installed: install Node.js 20 to compose the supergraph")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)


def compose(sdls: dict[str, str]) -> str:
    ensure_node_modules()
    services = [{"name": n, "url": subgraph_url(n), "sdl": sdl} for n, sdl in sdls.items()]
    result = subprocess.run(
        ["node", str(NODE_DIR / "compose.mjs")], input=json.dumps(services),
        capture_output=True, text=True, check=False, timeout=300,
    )
    if result.returncode != 0:
        raise SystemExit(f"composition failed:\n{result.stderr}")
    return result.stdout if result.stdout.endswith("\n") else result.stdout + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a committed SDL or the supergraph is stale")
    args = parser.parse_args(argv)
    stale: list[str] = []
    sdls: dict[str, str] = {}
    for service in SERVICES:
        sdl_file = ROOT / "services" / service / "schema.graphql"
        before = sdl_file.read_text() if sdl_file.exists() else None
        sdl = export_sdl(service)
        if sdl is None:
            continue
        if sdl != before:
            stale.append(f"services/{service}/schema.graphql")
        sdls[service] = sdl
    if not sdls:
        print("no service exports a schema yet; nothing to compose", file=sys.stderr)
        return 1 if args.check else 0
    supergraph = compose(sdls)
    current = SUPERGRAPH.read_text() if SUPERGRAPH.exists() else None
    if supergraph != current:
        stale.append("gateway/supergraph.graphql")
        if not args.check:
            SUPERGRAPH.write_text(supergraph)
            print(f"wrote {SUPERGRAPH.relative_to(ROOT)} from {', '.join(sdls)}")
    if args.check and stale:
        print("stale (run `make supergraph` and commit): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
