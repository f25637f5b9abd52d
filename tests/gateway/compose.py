"""Composes the test supergraphs with @theguild/federation-composition (needs node)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import strawberry

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "gateway" / "node"
SUPERGRAPHS = Path(__file__).with_name("supergraphs")
PLACEHOLDER = "http://subgraph.invalid/{name}"


def compose(schemas: dict[str, strawberry.federation.Schema]) -> str:
    from scripts.supergraph import ensure_node_modules

    ensure_node_modules()
    services = [
        {"name": n, "url": PLACEHOLDER.format(name=n), "sdl": s.as_str()}
        for n, s in schemas.items()
    ]
    result = subprocess.run(
        ["node", str(NODE_DIR / "compose.mjs")],
        input=json.dumps(services), capture_output=True, text=True, check=False, timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"composition failed:\n{result.stderr}")
    return result.stdout


def all_sets() -> dict[str, dict[str, strawberry.federation.Schema]]:
    from tests.gateway.subgraphs import SETS

    return SETS


if __name__ == "__main__":
    SUPERGRAPHS.mkdir(exist_ok=True)
    for name, schemas in all_sets().items():
        (SUPERGRAPHS / f"{name}.graphql").write_text(compose(schemas))
        print(f"wrote {SUPERGRAPHS / (name + '.graphql')}")
