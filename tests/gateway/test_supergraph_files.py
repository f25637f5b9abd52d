from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from gateway.supergraph import load_supergraph
from scripts.supergraph import ROOT, SUPERGRAPH
from tests.gateway.compose import SUPERGRAPHS, all_sets, compose

needs_node = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="needs Node.js and npm"
)


def test_the_committed_supergraph_loads_into_an_api_schema() -> None:
    supergraph = load_supergraph(SUPERGRAPH.read_text())
    assert supergraph.graph_urls
    assert supergraph.api_schema.query_type is not None


@pytest.mark.needs_node
@needs_node
def test_the_committed_sdl_files_and_supergraph_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scripts.supergraph", "--check"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.needs_node
@needs_node
def test_the_committed_test_supergraphs_match_their_subgraphs() -> None:
    for name, schemas in all_sets().items():
        committed = (SUPERGRAPHS / f"{name}.graphql").read_text()
        assert compose(schemas, name) == committed, (
            f"run `python -m tests.gateway.compose` ({name})"
        )
