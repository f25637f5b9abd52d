"""Builds the web portal (web/) with the machine's Node.js, when it has one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

WEB = Path(__file__).resolve().parents[1] / "web"
SUPERGRAPH = WEB.parent / "gateway" / "supergraph.graphql"


def _newest(paths: list[Path]) -> float:
    return max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)


def build_portal() -> str:
    """Build web/dist when its inputs changed. Returns one line for the operator."""
    if not (WEB / "package.json").exists():
        return "portal: not in this checkout; the API is at /graphql"
    if shutil.which("node") is None or shutil.which("npm") is None:
        return (
            "portal: needs Node.js 20+ and npm to build; install them and rerun `make run` "
            "(the API at /graphql works without it)"
        )
    lock = WEB / "package-lock.json"
    modules = WEB / "node_modules"
    if not modules.is_dir() or lock.stat().st_mtime > modules.stat().st_mtime:
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
        modules.touch()
    built = WEB / "dist" / "index.html"
    inputs = [*WEB.joinpath("src").rglob("*"), lock, WEB / "index.html", SUPERGRAPH]
    if not built.exists() or _newest(inputs) > built.stat().st_mtime:
        subprocess.run(["npm", "run", "build"], cwd=WEB, check=True)
        return "portal: built web/dist"
    return "portal: web/dist is up to date"
