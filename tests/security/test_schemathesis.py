"""A bounded schemathesis run of the gateway's GraphQL endpoint, anonymous and signed in.

Introspection is off (production mode), so schemathesis reads the API schema from a file.
Every generated operation is sent; no answer may be a 5xx or carry an error without
``extensions.code``. (Schemathesis's own GraphQL check counts every execution error as a
server error, coded refusals included, so its verdict is not ours; the counts are.) The
number of cases, server errors and uncoded errors is printed.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from graphql import print_schema

from gateway.config import DEFAULT_SUPERGRAPH
from gateway.supergraph import load_supergraph
from tests.e2e.conftest import DEMO_BUSINESS, Actors
from tests.e2e.system import ROOT, RunningSystem

MAX_EXAMPLES = 5


@pytest.mark.parametrize("caller", ["anonymous", "business"])
def test_schemathesis_finds_no_server_error(
    system: RunningSystem, actors: Actors, tmp_path: Path, caller: str
) -> None:
    schema = tmp_path / "api.graphql"
    schema.write_text(print_schema(load_supergraph(DEFAULT_SUPERGRAPH.read_text()).api_schema))
    report = tmp_path / "report.json"
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(schema),
        "--url", f"{system.base_url}/graphql", "--checks", "not_a_server_error",
        "--max-examples", str(MAX_EXAMPLES), "--seed", "12", "--request-timeout", "30",
        "--workers", "2", "--continue-on-failure", "--no-color",
        "--report", "ndjson", "--report-ndjson-path", str(report),
    ]
    if caller == "business":
        command += ["--header", f"Authorization: Bearer {actors.token(DEMO_BUSINESS[0])}"]
    # Run in a scratch folder: schemathesis keeps a cache of its findings in the working one.
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=900,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    cases, server_errors, uncoded = _count(report)
    print(f"\nschemathesis ({caller}): {cases} cases, {server_errors} server errors, "
          f"{len(uncoded)} uncoded errors")
    assert cases > 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert server_errors == 0, result.stdout[-5000:]
    assert not uncoded, uncoded[:5]


def _count(report: Path) -> tuple[int, int, list[str]]:
    """(test cases sent, responses with a 5xx status, uncoded errors) from the NDJSON
    event stream."""
    cases = errors = 0
    uncoded: list[str] = []
    for line in report.read_text().splitlines() if report.exists() else ():
        event = json.loads(line)
        for kind, data in event.items():
            if kind != "ScenarioFinished":
                continue
            for interaction in (data.get("recorder") or {}).get("interactions", {}).values():
                cases += 1
                response = interaction.get("response") or {}
                if int(response.get("status_code", 0)) >= 500:
                    errors += 1
                content = (response.get("content") or {}).get("$base64")
                body = json.loads(base64.b64decode(content)) if content else {}
                for error in body.get("errors") or [] if isinstance(body, dict) else []:
                    if not (error.get("extensions") or {}).get("code"):
                        uncoded.append(error.get("message", ""))
    return cases, errors, uncoded
