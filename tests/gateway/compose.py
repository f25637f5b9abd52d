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


# Corrections to what @theguild/federation-composition 0.27 prints, where it is wrong against
# the join spec; each names the set and why.
PATCHES: dict[str, list[tuple[str, str]]] = {
    # A @shareable field whose type is narrower in one subgraph (Node in a, Book in b) must
    # say so with @join__field(type:); the composer leaves the field bare, which tells every
    # gateway that b answers with the interface, a type b does not even have.
    "subgraph_types": [(
        "  featured: Node!\n",
        '  featured: Node! @join__field(graph: A) @join__field(graph: B, type: "Book!")\n',
    )],
}


def compose(schemas: dict[str, strawberry.federation.Schema], name: str = "") -> str:
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
    sdl = result.stdout
    for old, new in PATCHES.get(name, ()):
        if old not in sdl:
            raise RuntimeError(f"the composer's output changed: drop or redo the {name} patch")
        sdl = sdl.replace(old, new)
    return sdl


def all_sets() -> dict[str, dict[str, strawberry.federation.Schema]]:
    from tests.gateway.subgraphs import SETS

    return SETS


if __name__ == "__main__":
    SUPERGRAPHS.mkdir(exist_ok=True)
    for name, schemas in all_sets().items():
        (SUPERGRAPHS / f"{name}.graphql").write_text(compose(schemas, name))
        print(f"wrote {SUPERGRAPHS / (name + '.graphql')}")
