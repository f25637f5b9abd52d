"""Portal operations are checked against the supergraph: a breaking change fails the build."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.system import ROOT

pytestmark = pytest.mark.needs_node

CHECK = ["node", "scripts/check-graphql.mjs"]


def run_check(supergraph: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPERGRAPH": str(supergraph)}
    return subprocess.run(CHECK, cwd=ROOT / "web", capture_output=True, text=True, env=env)


def test_every_portal_operation_matches_the_shipped_supergraph() -> None:
    result = run_check(ROOT / "gateway" / "supergraph.graphql")
    assert result.returncode == 0, result.stderr
    assert "GraphQL operations match" in result.stdout


def test_a_renamed_field_fails_the_check_and_names_the_operation_that_uses_it(
    tmp_path: Path,
) -> None:
    sdl = (ROOT / "gateway" / "supergraph.graphql").read_text()
    assert "  complianceStatus: ComplianceStatus!" in sdl
    broken = tmp_path / "supergraph.graphql"
    broken.write_text(sdl.replace("  complianceStatus: ComplianceStatus!",
                                  "  complianceState: ComplianceStatus!"))
    result = run_check(broken)
    assert result.returncode == 1
    assert 'Cannot query field "complianceStatus" on type "Facility"' in result.stderr
    assert "src/pages/Facility.tsx" in result.stderr
